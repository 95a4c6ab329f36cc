"""What the FAQ adds to the incident page (crm/pages/incident.py): the incident's entries and what the viewer may
do with them, including the "show on the public FAQ" switch (its handler is in controllers.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crm.faq import queries, service


async def faq_panel(incident: dict, user: Any, now: datetime) -> dict[str, Any]:
    """The incident's entries (published; drafts for managers, and an agent's own proposals), and what the
    viewer may do here."""
    can_write = user.can("faq.write")
    entries = await queries.for_incident(
        incident["id"], statuses=["published", "draft"] if can_write else ["published"]
    )
    if not can_write:
        entries = sorted(entries + await queries.drafts_by(incident["id"], user.id), key=lambda e: e["id"])
    days = await service.review_days()
    return {
        "entries": [{**e, "review_due": service.review_due(e, now=now, days=days)} for e in entries],
        "public": bool(incident["faq_public"]),
        "can_write": can_write,
        "can_propose": user.can("faq.propose"),
        "can_publicise": user.can("faq.publicise"),
    }
