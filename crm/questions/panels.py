"""What late questions add to the incident page (crm/pages/incident.py): the "our record since" sentence and how
many late questions came in, are unanswered, or found no FAQ answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from crm.incidents.track_record import record_since
from crm.questions import queries


async def late_questions_panel(incident: dict, *, now: datetime, zone: ZoneInfo) -> dict[str, Any]:
    """What the incident page's "Late questions" section shows: the record-since sentence and the counts."""
    rows = await queries.of_incident(incident["id"])
    return {
        "record": await record_since(incident, now=now, zone=zone),
        "total": len(rows),
        "unanswered": sum(1 for r in rows if r["answered_at"] is None),
        "gaps": sum(1 for r in rows if queries.is_gap(r)),
    }
