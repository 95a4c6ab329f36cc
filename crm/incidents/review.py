"""The post-incident review as Markdown, ready to become the "what we learned" post."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from crm.incidents import queries


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    minutes = seconds // 60
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes / 60
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


LIST_NUMBER_RE = re.compile(r"^(\d{1,9})([.)])")


def _md_line(line: str) -> str:
    # Leading spaces would make code blocks; a leading "-", "=" or "1." lists, rules or setext headings.
    line = "".join("\\" + c if c in "\\`*_{}[]<>()#+!|~" else c for c in line.strip())
    line = LIST_NUMBER_RE.sub(r"\1\\\2", line)
    return "\\" + line if line[:1] in "-=" and line else line


def _md(text: str) -> str:
    """Plain text that Markdown will not reinterpret as markup or HTML, line by line."""
    return "\n".join(_md_line(line) for line in text.strip().splitlines())


async def markdown(incident: dict, now: datetime, timezone: str) -> str:
    zone = ZoneInfo(timezone)

    def when(at: datetime | None) -> str:
        return at.astimezone(zone).strftime("%d %b %Y %H:%M") if at else "—"

    clock = await queries.clock(incident, now)
    statements = [s for s in await queries.statements(incident["id"]) if s["status"] == "published"]
    actions = await queries.actions(incident["id"])
    timeline = [(incident["detected_at"], "Detected")]
    for status in ("acknowledged", "responding", "resolved", "reviewed"):
        if incident[f"{status}_at"]:
            timeline.append((incident[f"{status}_at"], status.capitalize()))
    timeline += [(s["published_at"], f"Published the {s['kind']}") for s in statements]
    timeline += [(a["done_at"], f"Done: {a['what']}") for a in actions if a["done_at"]]
    lines = [
        f"# {_md(incident['title'])}: what happened and what we changed",
        "",
        f"*Severity {incident['severity']}. Detected {when(incident['detected_at'])} ({timezone}).*",
        "",
        "## What happened",
        "",
        _md(incident["review_what_happened"] or incident["summary"] or "—"),
        "",
        "## Timeline",
        "",
        *[f"- {when(at)}: {_md(label)}" for at, label in sorted(timeline, key=lambda item: item[0])],
        "",
        "## Response times",
        "",
        f"- Acknowledged after {_duration(clock.seconds_to_acknowledge)} "
        f"(target {_duration(clock.ack_target_seconds)}{', missed' if clock.ack_target_missed else ''})",
        f"- Resolved after {_duration(clock.seconds_to_resolve)}",
        "",
    ]
    for s in statements:
        if s["kind"] == "apology":
            lines += [
                "## Our apology",
                "",
                *[f"> {_md(line)}" for line in s["text"].splitlines()],
                f"> — {_md(s['signed_by'])}",
                "",
            ]
    lines += ["## What we changed", "", _md(incident["review_what_changed"] or "—"), "", "## Corrective actions", ""]
    lines += [
        f"- [{'x' if a['status'] == 'done' else ' '}] {_md(a['what'])}"
        + (f" (due {a['due_on'].isoformat()})" if a["due_on"] else "")
        for a in actions
    ] or ["- none recorded"]
    lines += ["", "## Lessons", "", _md(incident["review_lessons"] or "—"), ""]
    return "\n".join(lines)
