"""Reads for briefings: what the pages and the API show. Writes and rules live in service.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crm.briefings.tables import Briefing
from crm.errors import NotFound
from crm.incidents import talking_points


async def get(briefing_id: int) -> dict:
    row = await Briefing.select().where(Briefing.id == briefing_id).output(load_json=True).first().run()
    if row is None:
        raise NotFound(f"No briefing with id {briefing_id}.")
    return row


async def briefings_for(incident_id: int) -> list[dict]:
    return (
        await Briefing.select(
            *Briefing.all_columns(),
            Briefing.member.name.as_alias("member_name"),
        )
        .where(Briefing.incident == incident_id)
        .order_by(Briefing.briefed_at, Briefing.id)
        .output(load_json=True)
        .run()
    )


async def rebrief_queue(incident_id: int) -> list[dict]:
    """Members briefed on an older version than the approved one and not re-briefed since,
    each with what changed between their version and the current one."""
    current = await talking_points.current(incident_id)
    if current is None:
        return []
    latest: dict[int, dict] = {}
    for row in await briefings_for(incident_id):
        if row["member"] not in latest or row["version"] > latest[row["member"]]["version"]:
            latest[row["member"]] = row
    queue = []
    for row in latest.values():
        if row["version"] < current["version"]:
            old = await talking_points.get_version(incident_id, row["version"])
            queue.append({**row, "current_version": current["version"], "changes": talking_points.diff(old, current)})
    return sorted(queue, key=lambda r: (r["briefed_at"], r["id"]))


async def figures(incident: dict) -> dict[str, Any]:
    rows = await briefings_for(incident["id"])
    members = {r["member"] for r in rows}
    first = min((r["briefed_at"] for r in rows), default=None)
    return {
        "briefed": len(members),
        "acknowledged": len({r["member"] for r in rows if r["outcome"] in ("acknowledged", "helped")}),
        "helped": len({r["member"] for r in rows if r["outcome"] == "helped"}),
        "seconds_to_first_briefing": int((first - incident["detected_at"]).total_seconds()) if first else None,
    }


async def briefings_of_member(
    member_id: int, *, since: datetime | None = None, before: datetime | None = None
) -> list[dict]:
    """A member's briefings, newest first; ``since <= briefed_at < before`` when given (the member timeline's
    window, crm/pages/timeline.py)."""
    query = (
        Briefing.select(
            *Briefing.all_columns(),
            Briefing.incident.title.as_alias("incident_title"),
        )
        .where(Briefing.member == member_id)
        .output(load_json=True)
    )
    if since is not None:
        query = query.where(Briefing.briefed_at >= since)
    if before is not None:
        query = query.where(Briefing.briefed_at < before)
    return await query.order_by(Briefing.briefed_at, ascending=False).order_by(Briefing.id, ascending=False).run()


async def briefing_of_member(member_id: int, briefing_id: int, incident_id: int | None) -> dict | None:
    """The briefing only when it is this member's (and this incident's, when one is chosen), so a form never shows
    someone else's briefing, whatever id was posted: {"id", "incident", "version", "briefed_at", "outcome"}."""
    query = Briefing.select(
        Briefing.id, Briefing.incident, Briefing.version, Briefing.briefed_at, Briefing.outcome
    ).where((Briefing.id == briefing_id) & (Briefing.member == member_id))
    if incident_id is not None:
        query = query.where(Briefing.incident == incident_id)
    return await query.first().run()
