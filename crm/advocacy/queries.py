"""Reads behind advocate health: one grouped query per table, for one member or for every advocate.

``member_id=None`` means "every live advocate and champion" (the stay-supportive list); a number means that one
live member, whatever their tier (the member page and the API). Both go through the same SQL, so the list and
a member's own health can never disagree. Raw SQL because the ORM cannot say the conditional sums, the
grouped LEFT JOIN or the column-to-column comparison; every value is a bound parameter.

SQLite returns MAX() of a timestamp as text (no column type to convert by): ``_at`` parses it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from crm.briefings.tables import Briefing
from crm.incidents.tables import Incident
from crm.members.queries import live, live_sql
from crm.members.tables import Interaction, Member, MemberDay
from crm.members.vocab import Tier
from crm.thanks.tables import ThankYou

ADVOCATE_TIERS = (Tier.advocate.value, Tier.champion.value)


def _scope(member_id: int | None) -> tuple[str, list]:
    """The members in view, on alias ``m``, with its parameters."""
    if member_id is None:
        return f"{live_sql('m')} AND m.tier IN ({{}}, {{}})", list(ADVOCATE_TIERS)
    return f"{live_sql('m')} AND m.id = {{}}", [member_id]


def _at(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


async def advocates() -> list[dict]:
    """Every live advocate and champion with the rollup columns engagement.state_of() reads."""
    return (
        await Member.select(
            Member.id,
            Member.name,
            Member.tier,
            Member.do_not_contact,
            Member.interactions_total,
            Member.first_interaction_at,
            Member.last_interaction_at,
            Member.usual_gap_seconds,
            Member.quiet_after,
            Member.score_log2,
            Member.reach,
        )
        .where(live() & Member.tier.is_in(list(ADVOCATE_TIERS)))
        .run()
    )


async def counts_since(since: date, member_id: int | None = None) -> dict[int, int]:
    """Interactions per member from the UTC day ``since`` on, read from the daily rollup."""
    scope, args = _scope(member_id)
    rows = await MemberDay.raw(
        "SELECT d.member AS member_id, SUM(d.total) AS n FROM member_day d JOIN member m ON m.id = d.member "
        f"WHERE d.day >= {{}} AND {scope} GROUP BY d.member",
        since,
        *args,
    ).run()
    return {r["member_id"]: int(r["n"] or 0) for r in rows}


async def ask_totals(now: datetime, year_start: datetime, member_id: int | None = None) -> dict[int, dict]:
    """Per member: the last briefing, briefings since ``year_start``, and briefings after their last thank-you
    (all briefings when never thanked). Only what happened up to ``now`` counts; deleted thank-yous never do."""
    scope, args = _scope(member_id)
    rows = await Briefing.raw(
        "SELECT b.member AS member_id, MAX(b.briefed_at) AS last_briefed_at, "
        "SUM(CASE WHEN b.briefed_at >= {} THEN 1 ELSE 0 END) AS asks_12m, "
        "SUM(CASE WHEN t.last_thanked_at IS NULL OR b.briefed_at > t.last_thanked_at THEN 1 ELSE 0 END) "
        "AS asks_since_thanks "
        "FROM briefing b JOIN member m ON m.id = b.member "
        "LEFT JOIN (SELECT member, MAX(sent_at) AS last_thanked_at FROM thank_you "
        "           WHERE deleted_at IS NULL AND sent_at <= {} GROUP BY member) t ON t.member = b.member "
        f"WHERE b.briefed_at <= {{}} AND {scope} GROUP BY b.member",
        year_start,
        now,
        now,
        *args,
    ).run()
    return {
        r["member_id"]: {
            "last_briefed_at": _at(r["last_briefed_at"]),
            "asks_12m": int(r["asks_12m"]),
            "asks_since_thanks": int(r["asks_since_thanks"]),
        }
        for r in rows
    }


async def thank_totals(now: datetime, year_start: datetime, member_id: int | None = None) -> dict[int, dict]:
    """Per member: the last thank-you and thank-yous since ``year_start`` (not deleted, sent by ``now``)."""
    scope, args = _scope(member_id)
    rows = await ThankYou.raw(
        "SELECT t.member AS member_id, MAX(t.sent_at) AS last_thanked_at, "
        "SUM(CASE WHEN t.sent_at >= {} THEN 1 ELSE 0 END) AS thanks_12m "
        "FROM thank_you t JOIN member m ON m.id = t.member "
        f"WHERE t.deleted_at IS NULL AND t.sent_at <= {{}} AND {scope} GROUP BY t.member",
        year_start,
        now,
        *args,
    ).run()
    return {
        r["member_id"]: {"last_thanked_at": _at(r["last_thanked_at"]), "thanks_12m": int(r["thanks_12m"])} for r in rows
    }


async def quiet_incidents(now: datetime, since: datetime, member_id: int | None = None) -> dict[int, dict]:
    """Per member, the newest incident they were briefed on that was detected since ``since`` and no later
    than their last interaction (so before they fell silent)."""
    scope, args = _scope(member_id)
    rows = await Briefing.raw(
        "SELECT DISTINCT b.member AS member_id, i.id AS incident_id, i.title AS title, i.detected_at AS detected_at "
        "FROM briefing b JOIN incident i ON i.id = b.incident JOIN member m ON m.id = b.member "
        "WHERE i.detected_at >= {} AND i.detected_at <= m.last_interaction_at AND b.briefed_at <= {} "
        f"AND {scope}",
        since,
        now,
        *args,
    ).run()
    newest: dict[int, dict] = {}
    for r in rows:
        r["detected_at"] = _at(r["detected_at"])
        best = newest.get(r["member_id"])
        if best is None or (r["detected_at"], r["incident_id"]) > (best["detected_at"], best["incident_id"]):
            newest[r["member_id"]] = r
    return newest


async def member_incidents(member_id: int, now: datetime, limit: int) -> list[dict]:
    """Incidents the member was briefed on or has interactions linked to, newest detection first."""
    briefed = {
        r["incident"] for r in await Briefing.select(Briefing.incident).where(Briefing.member == member_id).run()
    }
    linked = {
        r["incident_id"]
        for r in await Interaction.select(Interaction.incident_id)
        .where((Interaction.member == member_id) & Interaction.incident_id.is_not_null())
        .distinct()
        .run()
    }
    ids = briefed | linked
    if not ids:
        return []
    rows = (
        await Incident.select(Incident.id, Incident.title, Incident.detected_at)
        .where(Incident.id.is_in(list(ids)) & (Incident.detected_at <= now))
        .order_by(Incident.detected_at, ascending=False)
        .order_by(Incident.id, ascending=False)
        .limit(limit)
        .run()
    )
    return [{**r, "briefed": r["id"] in briefed} for r in rows]


async def days_between(member_id: int, first: date, last: date) -> list[dict]:
    """The member's daily rollup rows from ``first`` to ``last`` (UTC days, both included)."""
    return (
        await MemberDay.select()
        .where((MemberDay.member == member_id) & (MemberDay.day >= first) & (MemberDay.day <= last))
        .run()
    )
