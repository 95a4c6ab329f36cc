"""What briefings add to the incident page (crm/pages/incident.py): the "Advocates" section with the figures,
the top suggestions, who was briefed with their outcome, and the re-brief queue with what changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crm.briefings import queries, service, suggestions
from crm.briefings.vocab import CHANNEL_LABELS, OUTCOME_LABELS
from crm.formatting import duration
from crm.incidents import talking_points
from crm.incidents.vocab import OPEN_STATUSES

PANEL_SUGGESTIONS = 3
SECTION_LABELS = {"points": "Points to share", "avoid": "What not to say", "links": "Links"}


def changed_lines(changes: dict[str, list]) -> list[dict]:
    """Only the added and removed lines of a talking-points diff, per section."""
    out = []
    for section, lines in changes.items():
        changed = [(sign, line) for sign, line in lines if sign in ("+", "-")]
        if changed:
            out.append({"section": SECTION_LABELS.get(section, section), "lines": changed})
    return out


async def advocates_panel(incident: dict, now: datetime) -> dict[str, Any]:
    """What the incident page's "Advocates" section shows."""
    rows = await queries.briefings_for(incident["id"])
    figures = await queries.figures(incident)
    queue = await queries.rebrief_queue(incident["id"])
    current = await talking_points.current(incident["id"])
    top: list = []
    total = 0
    if incident["status"] in OPEN_STATUSES:
        ranking = await suggestions.rank(incident, now=now, k=PANEL_SUGGESTIONS)
        top, total = ranking.items, ranking.total
    return {
        "figures": {
            **figures,
            "first_briefing": duration(figures["seconds_to_first_briefing"])
            if figures["seconds_to_first_briefing"] is not None
            else None,
        },
        "briefings": list(reversed(rows)),
        "queue": [{**r, "changed": changed_lines(r["changes"])} for r in queue],
        "current": current,
        "top": top,
        "total": total,
        "outcomes": service.OUTCOMES,
        "outcome_labels": OUTCOME_LABELS,
        "channel_labels": CHANNEL_LABELS,
    }
