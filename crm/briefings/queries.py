"""Reads for briefings: what the pages and the API show. Writes and rules live in service.py."""

from __future__ import annotations

from crm.briefings.tables import Briefing


async def briefing_of_member(member_id: int, briefing_id: int, incident_id: int | None) -> dict | None:
    """The briefing only when it is this member's (and this incident's, when one is chosen), so a form never shows
    someone else's briefing, whatever id was posted: {"id", "incident", "version", "briefed_at", "outcome"}."""
    query = Briefing.select(
        Briefing.id, Briefing.incident, Briefing.version, Briefing.briefed_at, Briefing.outcome
    ).where((Briefing.id == briefing_id) & (Briefing.member == member_id))
    if incident_id is not None:
        query = query.where(Briefing.incident == incident_id)
    return await query.first().run()
