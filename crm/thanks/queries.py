"""Thank-you reads: the due queue (one SQL statement), its counts for the nav badge and the dashboard, and the
recorded thank-yous of a member, of an incident, and the most recent ones.

The due rule: a member helped with an incident when a briefing for it has the outcome ``helped`` (help time: when
that outcome was recorded) or when they posted positive, non-troll interactions linked to it at or after its
detection (help time: when they happened). ``helped_at`` is the earliest help; the thank-you is due
``thanks_due_days`` (Admin → Settings) after it and overdue once that time has passed. A pair leaves the queue when
a thank-you (not deleted) exists for that member and incident, or when it is dismissed with a reason. Members who
are do-not-contact, deleted, erased or merged never appear."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from crm.formatting import plural
from crm.members.queries import live, live_sql
from crm.preferences import queries as preferences
from crm.thanks.tables import ThankYou

UTC = UTC
DUE_DAYS_KEY = "thanks_due_days"

# Raw SQL: a UNION of two kinds of help grouped per member, incident and kind, which Piccolo's query builder cannot
# say. Parameters only; on SQLite times are stored as UTC text ("2026-03-02 09:30:00+00:00"), which compares and
# takes MIN() in time order, so the same statements serve both engines. The due days setting is not in them: it is
# read through crm.preferences (which alone knows how settings are stored) and added to the earliest help.
# The interaction half is driven from ``incident`` (few rows) into interaction's incident_id index: joined the
# other way round SQLite scanned the whole interaction log on every signed-in page (the nav badge). CROSS JOIN
# fixes SQLite's join order; PostgreSQL plans it as the inner join it is.
HELP_SQL = """
WITH help AS (
    SELECT b.member AS member_id, b.incident AS incident_id, COALESCE(b.outcome_at, b.briefed_at) AS help_at,
           'briefing' AS kind
    FROM briefing b
    WHERE b.outcome = 'helped'
    UNION ALL
    SELECT i.member, i.incident_id, i.occurred_at, i.kind
    FROM incident n CROSS JOIN interaction i
    WHERE i.incident_id = n.id AND i.sentiment = 'positive' AND i.troll = {} AND i.occurred_at >= n.detected_at
)"""

# The pairs still due: the member can be contacted and nobody thanked them for it or dismissed it.
PAIR_FILTER = """
WHERE {live} AND m.do_not_contact = {}
  AND NOT EXISTS (SELECT 1 FROM thank_you t
                  WHERE t.member = h.member_id AND t.incident = h.incident_id AND t.deleted_at IS NULL)
  AND NOT EXISTS (SELECT 1 FROM thanks_dismissal d WHERE d.member = h.member_id AND d.incident = h.incident_id)
""".replace("{live}", live_sql("m"))

DUE_SQL = (
    HELP_SQL
    + """
SELECT h.member_id, m.name AS member_name, h.incident_id, inc.title AS incident_title, h.kind,
       COUNT(*) AS n, MIN(h.help_at) AS helped_at
FROM help h
JOIN member m ON m.id = h.member_id
JOIN incident inc ON inc.id = h.incident_id"""
    + PAIR_FILTER
    + """  {filters}
GROUP BY h.member_id, m.name, h.incident_id, inc.title, h.kind
"""
)

# The queue's length and how many are overdue (earliest help before now - due days), counted in the database:
# the same pairs as DUE_SQL, without their names, kinds or reasons. One statement whatever the queue's size.
COUNT_SQL = (
    HELP_SQL
    + """
SELECT COUNT(*) AS due, COALESCE(SUM(CASE WHEN p.helped_at < {} THEN 1 ELSE 0 END), 0) AS overdue
FROM (SELECT h.member_id, h.incident_id, MIN(h.help_at) AS helped_at
      FROM help h
      JOIN member m ON m.id = h.member_id"""
    + PAIR_FILTER
    + """      GROUP BY h.member_id, h.incident_id) p
"""
)

KIND_WORDS = {
    "reply": ("reply", "replies"),
    "comment": ("comment", "comments"),
    "share": ("share", "shares"),
    "mention": ("mention", "mentions"),
    "post": ("post", "posts"),
    "review": ("review", "reviews"),
    "dm": ("direct message", "direct messages"),
    "event": ("event", "events"),
    "other": ("interaction", "interactions"),
}


def _utc(value: Any) -> datetime:
    """A time from the raw statement: a datetime on PostgreSQL, UTC text on SQLite."""
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _count(n: int, kind: str) -> str:
    return plural(n, *KIND_WORDS.get(kind, (kind, kind + "s")))


def reason(
    helped_at: datetime, kinds: dict[str, int], *, zone: ZoneInfo | timezone = UTC, now: datetime | None = None
) -> str:
    """ "helped on 12 Mar: briefed, outcome helped; 3 supportive replies" (the year only when it is not this one)."""
    local = helped_at.astimezone(zone)
    day = f"{local.day} {local:%b}"
    if now is not None and now.astimezone(zone).year != local.year:
        day += f" {local.year}"
    parts = []
    if kinds.get("briefing"):
        parts.append("briefed, outcome helped")
    replies = sorted(((n, k) for k, n in kinds.items() if k != "briefing"), key=lambda nk: (-nk[0], nk[1]))
    if len(replies) == 1:
        n, kind = replies[0]
        one, many = KIND_WORDS.get(kind, (kind, kind + "s"))
        parts.append(plural(n, f"supportive {one}", f"supportive {many}"))
    elif replies:
        total = sum(n for n, _ in replies)
        parts.append(f"{total} supportive interactions ({', '.join(_count(n, k) for n, k in replies)})")
    return f"helped on {day}: " + "; ".join(parts)


async def _due_rows(*, member_id: int | None = None, incident_id: int | None = None) -> list[dict]:
    filters, args = [], [False, False]
    if member_id is not None:
        filters.append("AND h.member_id = {}")
        args.append(member_id)
    if incident_id is not None:
        filters.append("AND h.incident_id = {}")
        args.append(incident_id)
    return await ThankYou.raw(DUE_SQL.replace("{filters}", " ".join(filters)), *args).run()


async def due_items(
    *, now: datetime, zone: ZoneInfo | timezone = UTC, member_id: int | None = None, incident_id: int | None = None
) -> list[dict]:
    """The due queue, most overdue (earliest due) first. Each item: member_id, member_name, incident_id,
    incident_title, kinds ({kind: count}, "briefing" for helped briefings), helped_at, due_at, overdue, reason."""
    due_after = timedelta(days=await preferences.get(DUE_DAYS_KEY))
    pairs: dict[tuple[int, int], dict] = {}
    kinds: dict[tuple[int, int], dict[str, int]] = defaultdict(dict)
    for row in await _due_rows(member_id=member_id, incident_id=incident_id):
        key = (row["member_id"], row["incident_id"])
        at = _utc(row["helped_at"])
        item = pairs.setdefault(
            key,
            {
                "member_id": row["member_id"],
                "member_name": row["member_name"],
                "incident_id": row["incident_id"],
                "incident_title": row["incident_title"],
                "helped_at": at,
            },
        )
        item["helped_at"] = min(item["helped_at"], at)
        kinds[key][row["kind"]] = kinds[key].get(row["kind"], 0) + int(row["n"])
    items = []
    for key, item in pairs.items():
        due_at = item["helped_at"] + due_after
        items.append(
            {
                **item,
                "kinds": kinds[key],
                "due_at": due_at,
                "overdue": now > due_at,
                "reason": reason(item["helped_at"], kinds[key], zone=zone, now=now),
            }
        )
    return sorted(items, key=lambda i: (i["due_at"], i["member_id"], i["incident_id"]))


async def due_counts(now: datetime) -> dict[str, int]:
    """{"due": every item in the queue, "overdue": those past their due time}: the queue's own rule (HELP_SQL and
    PAIR_FILTER), counted in one statement; the nav badge runs it on every signed-in page."""
    due_after = timedelta(days=await preferences.get(DUE_DAYS_KEY))
    # overdue when now > helped_at + due_after, i.e. helped_at < now - due_after (UTC, as stored)
    cutoff = now.astimezone(UTC) - due_after
    rows = await ThankYou.raw(COUNT_SQL, False, cutoff, False).run()
    return {"due": int(rows[0]["due"]), "overdue": int(rows[0]["overdue"])}


# ---- recorded thank-yous -------------------------------------------------------------------------
# A deleted, erased or merged-away member's thank-yous (and their messages, which name them) are listed nowhere:
# live(ThankYou.member).


def _columns():
    return (
        *ThankYou.all_columns(),
        ThankYou.member.name.as_alias("member_name"),
        ThankYou.incident.title.as_alias("incident_title"),
        ThankYou.sent_by.name.as_alias("sent_by_name"),
    )


async def thank_you(thank_you_id: int) -> dict | None:
    return (
        await ThankYou.select(*_columns())
        .where((ThankYou.id == thank_you_id) & ThankYou.deleted_at.is_null() & live(ThankYou.member))
        .first()
        .run()
    )


async def thanks_of_member(
    member_id: int, *, since: datetime | None = None, before: datetime | None = None
) -> list[dict]:
    """A member's thank-yous, newest first (the member timeline and the API); ``since <= sent_at < before`` when
    given (the timeline's window, crm/pages/timeline.py)."""
    query = ThankYou.select(*_columns()).where((ThankYou.member == member_id) & ThankYou.deleted_at.is_null())
    if since is not None:
        query = query.where(ThankYou.sent_at >= since)
    if before is not None:
        query = query.where(ThankYou.sent_at < before)
    return await query.order_by(ThankYou.sent_at, ascending=False).order_by(ThankYou.id, ascending=False).run()


async def recent_thanks(limit: int = 20) -> list[dict]:
    return (
        await ThankYou.select(*_columns())
        .where(ThankYou.deleted_at.is_null() & live(ThankYou.member))
        .order_by(ThankYou.sent_at, ascending=False)
        .order_by(ThankYou.id, ascending=False)
        .limit(limit)
        .run()
    )
