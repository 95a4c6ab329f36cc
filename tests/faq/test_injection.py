"""Markup injection attempts in a question, its tags and its Markdown answer render inert on every page that
shows them: the entry page, the search page (snippet and rendered answer), the incident page and the public page."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from crm.faq import service
from tests.conftest import make_client

QUESTION = '<script>alert("q")</script> Did you <b>delete</b> comments?'
TAGS = ["<img src=x onerror=alert(1)>", '"><script>alert(2)</script>']
ANSWER = """<script>alert(3)</script>

[click](javascript:alert(4)) and [data](data:text/html;base64,PHNjcmlwdD5hbGVydCg1KTwvc2NyaXB0Pg==)

<img src=x onerror=alert(6)> ![pic](https://evil.example/x.png)

<a href="javascript:alert(7)">raw</a> [mixed](  JaVaScRiPt:alert(8) ) [vb](vbscript:msgbox(9))

<iframe src="https://evil.example"></iframe> <svg onload=alert(10)>

[fine](https://example.com/ok) about comments
"""


class Tags(HTMLParser):
    """Every real start tag with its attributes, as a browser would parse them (escaped text is not a tag)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def assert_inert(html: str, *, our_script: bool) -> None:
    tags = Tags(html).tags
    scripts = [a for t, a in tags if t == "script"]
    assert scripts == ([{"src": "/static/faq.js", "defer": ""}] if our_script else []), "only our own script"
    assert not {t for t, _ in tags} & {"img", "iframe", "svg", "b", "object", "embed"}
    for tag, attrs in tags:
        assert not [k for k in attrs if k.startswith("on")], (tag, attrs)
        for key in ("href", "src", "action"):
            if key in attrs and not (tag == "link" and attrs.get("rel") == "icon"):  # base.html's own data:, icon
                assert attrs[key].strip().lower().startswith(("/", "#", "https://", "http://", "mailto:")), attrs


async def test_markup_in_an_entry_renders_inert_everywhere(faq, as_user, app, clock):
    incident = await faq.incident()
    entry = await faq.entry(incident, QUESTION, ANSWER, tags=TAGS)
    await service.set_public(incident_id=incident, public=True, actor=faq.actor(), now=clock())
    bob = await as_user("bob")

    page = (await bob.get(f"/faq/{entry['id']}")).text
    assert_inert(page, our_script=True)
    assert "&lt;script&gt;alert(&#34;q&#34;)&lt;/script&gt;" in page or "&lt;script&gt;alert(&quot;q&quot;)" in page
    assert '<a href="https://example.com/ok" rel="nofollow noopener noreferrer">fine</a>' in page

    found = (await bob.get("/faq", params={"q": "comments"})).text
    assert "<mark>comments</mark>" in found  # the snippet's own markup survives, nothing else does
    assert_inert(found, our_script=True)
    assert '<a href="https://example.com/ok" rel="nofollow noopener noreferrer">fine</a>' in found

    incident_page = (await bob.get(f"/incidents/{incident}")).text
    assert "Did you &lt;b&gt;delete&lt;/b&gt; comments?" in incident_page
    assert_inert(incident_page, our_script="faq.js" in incident_page)

    async with make_client(app) as anonymous:
        for path in ("/public/faq", f"/public/faq/{incident}"):
            public = (await anonymous.get(path)).text
            assert "Did you &lt;b&gt;delete&lt;/b&gt; comments?" in public
            assert_inert(public, our_script=False)


async def test_the_api_returns_the_source_and_a_snippet_without_markup(faq, client, auth):
    entry = await faq.entry(await faq.incident(), QUESTION, ANSWER, tags=TAGS)
    body = (await client.get("/api/v1/faq/search", params={"q": "comments"}, headers=auth["carol"])).json()
    [item] = body["items"]
    assert item["id"] == entry["id"] and item["answer"] == ANSWER.strip()
    assert set(re.findall(r"</?([a-z]+)", item["snippet"])) <= {"mark"}
