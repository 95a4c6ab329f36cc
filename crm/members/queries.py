"""Member reads: lookups, the list (search, filters, sorts, keyset pages), one member, the timeline."""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from piccolo.columns.combination import WhereRaw
from piccolo.querystring import QueryString

from crm import db
from crm.errors import NotFound
from crm.members.engagement import INACTIVE_DAYS, NEW_DAYS
from crm.members.tables import Handle, Interaction, Member, MemberDay, MemberTopic

# A live member is one the CRM still shows and works with: each of these columns is set when a member is deleted,
# erased or merged into another, and a live member has none of them. live() and live_sql() are the only spellings.
GONE_WHEN_SET = ("deleted_at", "erased_at", "merged_into")


def live(member: Any = Member) -> Any:
    """The live-member condition for a Piccolo query: on ``Member``, or on a foreign key to it so that other
    tables' rows can be kept to live members (``live(ThankYou.member)``)."""
    first, *rest = (getattr(member, column).is_null() for column in GONE_WHEN_SET)
    for condition in rest:
        first &= condition
    return first


def live_sql(alias: str) -> str:
    """The live-member condition for raw SQL, on the member table under ``alias`` (no parameters)."""
    return "(" + " AND ".join(f"{alias}.{column} IS NULL" for column in GONE_WHEN_SET) + ")"


async def member_id_by_email(email: str) -> int | None:
    row = await Member.select(Member.id).where(Member.email == email).first().run()
    return row["id"] if row else None


async def member_id_by_handle_key(key: str) -> int | None:
    row = await Handle.select(Handle.member).where(Handle.key == key).first().run()
    return row["member"] if row else None


# Raw: run on every interaction write, where building Piccolo's EXISTS query cost more than running it.
IS_LIVE_SQL = "SELECT 1 AS live FROM member m WHERE m.id = {} AND " + live_sql("m")


async def is_live(member_id: int) -> bool:
    return bool(await Member.raw(IS_LIVE_SQL, member_id).run())


async def get_member(member_id: int) -> dict | None:
    """A live member with its topics and handles, or None."""
    row = await Member.select().where((Member.id == member_id) & live()).first().run()
    if row is None:
        return None
    row["topics"] = await topics_of(member_id)
    row["handles"] = await handles_of(member_id)
    return row


async def topics_of(member_id: int) -> list[str]:
    rows = (
        await MemberTopic.select(MemberTopic.topic)
        .where(MemberTopic.member == member_id)
        .order_by(MemberTopic.topic)
        .run()
    )
    return [r["topic"] for r in rows]


async def handles_of(member_id: int) -> list[dict]:
    return (
        await Handle.select(Handle.id, Handle.platform, Handle.handle, Handle.followers, Handle.url)
        .where(Handle.member == member_id)
        .order_by(Handle.platform)
        .order_by(Handle.handle)
        .run()
    )


async def handles_by_member(member_ids: list[int]) -> dict[int, list[dict]]:
    """Handles (platform, handle, followers) of a few members, each member's in the order they were added."""
    out: dict[int, list[dict]] = {}
    if member_ids:
        query = Handle.select(Handle.member, Handle.platform, Handle.handle, Handle.followers)
        for row in await query.where(Handle.member.is_in(member_ids)).order_by(Handle.id).run():
            out.setdefault(row["member"], []).append(row)
    return out


async def topics_by_member(member_ids: list[int]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    if member_ids:
        query = MemberTopic.select(MemberTopic.member, MemberTopic.topic)
        for row in await query.where(MemberTopic.member.is_in(member_ids)).run():
            out.setdefault(row["member"], set()).add(row["topic"])
    return out


async def member_snapshot(member_id: int) -> dict | None:
    """The member as the audit log records it (any state, rollup columns left out)."""
    row = (
        await Member.select(
            Member.id,
            Member.name,
            Member.email,
            Member.tier,
            Member.location,
            Member.language,
            Member.time_zone,
            Member.owner,
            Member.notes,
            Member.consent_private_briefing,
            Member.consent_recorded_at,
            Member.do_not_contact,
            Member.deleted_at,
        )
        .where(Member.id == member_id)
        .first()
        .run()
    )
    if row is None:
        return None
    row["topics"] = await topics_of(member_id)
    row["handles"] = [
        {k: h[k] for k in ("platform", "handle", "followers", "url")} for h in await handles_of(member_id)
    ]
    return row


async def days_for(member_ids: list[int], since: date) -> dict[int, list[dict]]:
    """Daily rollup rows per member from ``since`` on: never the interaction log."""
    if not member_ids:
        return {}
    rows = await MemberDay.select().where(MemberDay.member.is_in(member_ids) & (MemberDay.day >= since)).run()
    out: dict[int, list[dict]] = {m: [] for m in member_ids}
    for row in rows:
        out[row["member"]].append(row)
    return out


# ---- the member list ---------------------------------------------------------------------------

SORTS = {
    # name: (column, descending). Keyset order is (column, id) in the same direction.
    "score": (Member.score_log2, True),
    "last_interaction": (Member.last_interaction_at, True),
    "reach": (Member.reach, True),
    "name": (Member.name, False),
}
PAGE_SIZE = 50


@dataclass(frozen=True)
class MemberFilter:
    q: str = ""
    tier: str = ""
    topic: str = ""
    platform: str = ""
    consent: str = ""  # "yes" / "no" / ""
    state: str = ""  # one of vocab.STATES or ""
    sort: str = "score"


def encode_cursor(value, member_id: int) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    return base64.urlsafe_b64encode(json.dumps([value, member_id]).encode()).decode()


def _int4(value) -> bool:
    """An integer column's value (PostgreSQL refuses anything wider with a server error)."""
    return isinstance(value, int) and not isinstance(value, bool) and -(2**31) <= value < 2**31


def decode_cursor(cursor: str, sort: str) -> tuple:
    """Raises ValueError on anything that is not a cursor we made."""
    value, member_id = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
    if not _int4(member_id):
        raise ValueError("bad cursor")
    if sort == "last_interaction" and value is not None:
        value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            raise ValueError("bad cursor")
    elif sort == "score" and not (isinstance(value, float) and math.isfinite(value)):
        raise ValueError("bad cursor")
    elif sort == "reach" and not _int4(value):
        raise ValueError("bad cursor")
    elif sort == "name" and not (isinstance(value, str) and "\x00" not in value):
        raise ValueError("bad cursor")
    return value, member_id


QUIET_RATE_WINDOW = 15 * 86400  # see engagement.state_of: usual rate of 2+ per 30 days, now at half or less


def state_condition(state: str, now: datetime):
    """The activity state as a WHERE clause, the same rules as engagement.state_of()."""
    recent = Member.last_interaction_at >= now - timedelta(days=INACTIVE_DAYS)
    if state == "inactive":
        return Member.last_interaction_at.is_null() | (Member.last_interaction_at < now - timedelta(days=INACTIVE_DAYS))
    if state == "new":
        return recent & (Member.first_interaction_at >= now - timedelta(days=NEW_DAYS))
    established = recent & (Member.first_interaction_at < now - timedelta(days=NEW_DAYS))
    since = (now - timedelta(days=29)).astimezone(UTC).date()
    # Read from the daily rollup, never from the interaction log.
    quiet = WhereRaw(
        "(quiet_after < {} OR (usual_gap_seconds <= {} AND usual_gap_seconds * "
        "(SELECT COALESCE(SUM(d.total), 0) FROM member_day d WHERE d.member = member.id AND d.day >= {}) <= {}))",
        now,
        QUIET_RATE_WINDOW,
        since,
        QUIET_RATE_WINDOW,
    )
    if state == "going_quiet":
        return established & quiet
    return established & WhereRaw(
        "NOT (quiet_after IS NOT NULL AND quiet_after < {}) AND NOT (usual_gap_seconds IS NOT NULL AND "
        "usual_gap_seconds <= {} AND usual_gap_seconds * "
        "(SELECT COALESCE(SUM(d.total), 0) FROM member_day d WHERE d.member = member.id AND d.day >= {}) <= {})",
        now,
        QUIET_RATE_WINDOW,
        since,
        QUIET_RATE_WINDOW,
    )


def filter_condition(filters: MemberFilter, now: datetime) -> Any:
    """The list's filters as one WHERE condition on ``Member`` (live members only): the list and the exports
    (crm/exports) select with it."""
    condition = live()
    if filters.q:
        text = filters.q.strip().lower()
        handle_members = Handle.select(Handle.member).where(db.icontains(Handle.key, text.lstrip("@")))
        condition &= (
            db.icontains(Member.name, text) | db.icontains(Member.email, text) | Member.id.is_in(handle_members)
        )
    if filters.tier:
        condition &= Member.tier == filters.tier
    if filters.topic:
        condition &= Member.id.is_in(
            MemberTopic.select(MemberTopic.member).where(MemberTopic.topic == filters.topic.strip().lower())
        )
    if filters.platform:
        condition &= Member.id.is_in(Handle.select(Handle.member).where(Handle.platform == filters.platform))
    if filters.consent in ("yes", "no"):
        condition &= Member.consent_private_briefing == (filters.consent == "yes")
    if filters.state:
        condition &= state_condition(filters.state, now)
    return condition


async def list_members(
    filters: MemberFilter, *, now: datetime, cursor: str | None = None, limit: int = PAGE_SIZE
) -> tuple[list[dict], str | None]:
    column, descending = SORTS[filters.sort]
    query = Member.select(
        Member.id,
        Member.name,
        Member.email,
        Member.tier,
        Member.reach,
        Member.score_log2,
        Member.interactions_total,
        Member.first_interaction_at,
        Member.last_interaction_at,
        Member.usual_gap_seconds,
        Member.quiet_after,
        Member.consent_private_briefing,
        Member.do_not_contact,
    ).where(filter_condition(filters, now))
    if cursor:
        value, last_id = decode_cursor(cursor, filters.sort)
        query = query.where(_after(column, descending, value, last_id))
    query = _order(query, column, descending).limit(limit + 1)
    rows = await query.run()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1][column._meta.name], rows[-1]["id"]) if more and rows else None
    return rows, next_cursor


def _order(query, column, descending: bool):
    # NULLs last on both engines: "x IS NULL" is false (0) for every non-null row, which sorts first.
    # Only last_interaction_at can be NULL.
    if column._meta.null:
        query = query.order_by(QueryString(f"{column._meta.db_column_name} IS NULL"), ascending=True)
    return query.order_by(column, ascending=not descending).order_by(Member.id, ascending=not descending)


def _after(column, descending: bool, value, last_id: int):
    """Rows after (value, last_id) in the list's order, NULLs last."""
    next_id = (Member.id < last_id) if descending else (Member.id > last_id)
    if value is None:  # already in the NULL tail: only the id decides
        return column.is_null() & next_id
    beyond = (column < value) if descending else (column > value)
    condition = beyond | ((column == value) & next_id)
    return condition | column.is_null() if column._meta.null else condition


# ---- one member's timeline -----------------------------------------------------------------------


async def timeline(
    member_id: int, *, cursor: str | None = None, limit: int = PAGE_SIZE
) -> tuple[list[dict], str | None]:
    """The member's interactions, newest first, keyset-paginated on (occurred_at, id)."""
    query = Interaction.select().where(Interaction.member == member_id)
    if cursor:
        at, last_id = decode_cursor(cursor, "last_interaction")
        if at is None:
            raise ValueError("bad cursor")
        query = query.where(
            (Interaction.occurred_at < at) | ((Interaction.occurred_at == at) & (Interaction.id < last_id))
        )
    rows = (
        await query.order_by(Interaction.occurred_at, ascending=False)
        .order_by(Interaction.id, ascending=False)
        .limit(limit + 1)
        .run()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1]["occurred_at"], rows[-1]["id"]) if more and rows else None


# ---- names, for pages that mention members -------------------------------------------------------


async def member_name(member_id: int) -> dict | None:
    """{"id", "name"} of any member (deleted, merged and erased ones too), or None."""
    return await Member.select(Member.id, Member.name).where(Member.id == member_id).first().run()


async def live_named_like(text: str, limit: int) -> list[dict]:
    """Live members whose name contains ``text`` (any case), by name: [{"id", "name"}]."""
    query = Member.select(Member.id, Member.name).where(db.icontains(Member.name, text) & live())
    return await query.order_by(Member.name).limit(limit).run()


async def member_or_404(member_id: int) -> dict:
    """get_member(), or NotFound when there is no live member with that id."""
    member = await get_member(member_id)
    if member is None:
        raise NotFound(f"No member with id {member_id}.")
    return member


async def usual_platforms(member_ids: list[int]) -> dict[int, str]:
    """The platform of each member's first handle, "other" for one without: where an interaction logged by member id
    alone happened (``interactions.log_interaction`` and the bulk API)."""
    found: dict[int, str] = dict.fromkeys(member_ids, "other")
    if member_ids:
        rows = (
            await Handle.select(Handle.member, Handle.platform)
            .where(Handle.member.is_in(sorted(set(member_ids))))
            .order_by(Handle.id, ascending=False)
            .run()
        )
        found.update({r["member"]: r["platform"] for r in rows})  # the first handle written last: it wins
    return found
