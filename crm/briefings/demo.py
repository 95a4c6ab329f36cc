"""Demo briefings: two advocates briefed on the current incident, one of whom helped."""

from __future__ import annotations

from datetime import datetime, timedelta

from crm.audit.service import Actor
from crm.briefings import service
from crm.briefings.tables import Briefing
from crm.incidents.demo import CURRENT
from crm.incidents.tables import Incident
from crm.members.tables import Member


async def load(now: datetime, manager: Actor) -> str:
    incident = await Incident.select(Incident.id).where(Incident.title == CURRENT).first().run()
    if incident is None:
        return "Demo briefings: no demo incident; skipped."
    if await Briefing.exists().where(Briefing.incident == incident["id"]).run():
        return "Demo briefings: already there."
    people = {
        r["email"]: r["id"]
        for r in await Member.select(Member.id, Member.email)
        .where(Member.email.is_in(["dana@example.org", "tom@example.org"]))
        .run()
    }
    made = 0
    if "dana@example.org" in people:
        briefing = await service.brief(
            incident_id=incident["id"],
            member_id=people["dana@example.org"],
            channel="dm",
            note="Replied within the hour",
            actor=manager,
            now=now - timedelta(hours=2),
        )
        await service.set_outcome(
            briefing_id=briefing["id"], outcome="helped", actor=manager, now=now - timedelta(hours=1)
        )
        made += 1
    return f"Demo briefings: {made} advocate briefed (Tom has no consent on record, so he is not suggested)."
