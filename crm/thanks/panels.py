"""What thank-yous add to the incident page (crm/pages/incident.py): "Thank these helpers", this incident's due
items; and the wording and links every due item carries, on that section and on the queue (/thanks) alike."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from crm.formatting import span
from crm.thanks import queries


def timing(due_at: datetime, now: datetime) -> str:
    """ "2 days overdue" or "due in 1 day"."""
    if now > due_at:
        return f"{span(now - due_at)} overdue"
    return f"due in {span(due_at - now)}" if due_at > now else "due now"


def thanks_link(
    member_id: int, incident_id: int | None = None, *, briefing_id: int | None = None, next_path: str | None = None
) -> str:
    """The record form, pre-filled for this member (and incident, and briefing); back to ``next_path`` after."""
    params: dict[str, Any] = {"member_id": member_id}
    if incident_id is not None:
        params["incident_id"] = incident_id
    if briefing_id is not None:
        params["briefing_id"] = briefing_id
    if next_path:
        params["next"] = next_path
    return "/thanks/new?" + urlencode(params)


def with_timing(items: list[dict], now: datetime, next_path: str) -> list[dict]:
    """Due items with their timing in words and their "Say thank you" link (back to ``next_path``)."""
    return [
        {
            **i,
            "timing": timing(i["due_at"], now),
            "thank_url": thanks_link(i["member_id"], i["incident_id"], next_path=next_path),
        }
        for i in items
    ]


async def incident_helpers(incident_id: int, now: datetime, zone: ZoneInfo) -> list[dict]:
    """What the incident page's "Thank these helpers" shows: this incident's due items, with their links."""
    items = await queries.due_items(now=now, zone=zone, incident_id=incident_id)
    return with_timing(items, now, f"/incidents/{incident_id}#thank-helpers")
