"""Markdown to HTML for answers people wrote (FAQ entries): CommonMark through markdown-it-py with raw HTML
off, images off (they would fetch from elsewhere), and links only to http, https and mailto. Everything the
author typed is escaped by the renderer; the only tags in the output are the renderer's own."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})


def safe_link(url: str) -> bool:
    """Only absolute http(s) and mailto links: no javascript:, data:, relative or protocol-relative ones."""
    text = url.strip()
    if any(ord(c) < 32 or c.isspace() for c in text):
        return False
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        return False
    return parts.scheme.lower() == "mailto" or bool(parts.netloc)


@lru_cache(maxsize=1)
def _renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable(["image", "html_block", "html_inline"])
    md.validateLink = safe_link

    def link_open(self, tokens, idx, options, env):
        tokens[idx].attrSet("rel", "nofollow noopener noreferrer")
        return self.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)
    return md


def render(source: str | None) -> Markup:
    """Safe HTML for ``source`` (Markdown), ready for a template."""
    return Markup(_renderer().render(source or ""))
