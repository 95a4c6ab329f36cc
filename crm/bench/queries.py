"""The benchmark's reads: what the database holds, and the members and incident the requests are about."""

from __future__ import annotations

from crm.accounts.queries import count_users
from crm.briefings.tables import Briefing
from crm.faq.tables import FaqEntry
from crm.incidents.tables import Incident
from crm.members.tables import Interaction, Member


async def is_empty() -> bool:
    return not await Member.exists().run() and await count_users() == 0


async def sizes() -> dict[str, int]:
    return {
        "members": await Member.count().run(),
        "interactions": await Interaction.count().run(),
        "faq_entries": await FaqEntry.count().run(),
    }


async def targets() -> dict[str, int]:
    """The newest open incident (the one being handled), and the busiest and the median member by activity."""
    incident = (
        await Incident.select(Incident.id)
        .where(Incident.status.is_in(["detected", "acknowledged", "responding"]))
        .order_by(Incident.id, ascending=False)
        .first()
        .run()
    )
    total = await Member.count().run()
    by_activity = Member.select(Member.id).order_by(Member.interactions_total, ascending=False).order_by(Member.id)
    busiest = await by_activity.first().run()
    median = await by_activity.offset(total // 2).first().run()
    if incident is None or busiest is None or median is None:
        raise LookupError("No bench community here: run `crm bench generate` first.")
    return {
        "incident": incident["id"],
        "busiest": busiest["id"],
        "median": median["id"],
        "involved": await _involved() or busiest["id"],
    }


async def _involved() -> int | None:
    """The busiest member with every section of the member page filled: briefed (so consent is on record) and
    in an incident's conversation. Pages are compared on them at two sizes (tests/bench/test_query_counts.py)."""
    briefed = {r["member"] for r in await Briefing.select(Briefing.member).run()}
    linked = Interaction.select(Interaction.member).where(Interaction.incident_id.is_not_null())
    both = sorted(briefed & {r["member"] for r in await linked.run()})
    row = (
        await Member.select(Member.id)
        .where(Member.id.is_in(both or [-1]))
        .order_by(Member.interactions_total, ascending=False)
        .order_by(Member.id)
        .first()
        .run()
    )
    return row["id"] if row else None


async def some_members(count: int) -> list[int]:
    """Live members spread over the id range: whom the write benchmark logs interactions for."""
    total = await Member.count().run()
    step = max(1, total // count)
    rows = await Member.select(Member.id).where(Member.merged_into.is_null()).order_by(Member.id).run()
    return [r["id"] for r in rows[::step]][:count]
