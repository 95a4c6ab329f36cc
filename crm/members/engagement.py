"""Engagement: the formula, the rollup kept with every interaction write, and reads of it.

Score. Each interaction counts its kind's weight, halved every 30 days of age:

    score(now) = sum_i  weight(kind_i) * 2 ** (-(now - t_i) / 30 days)

Rewritten against a fixed epoch E, score(now) = 2 ** (L - (now - E) / 30 days) with
L = log2(sum_i weight_i * 2 ** ((t_i - E) / 30 days)). L does not depend on now, so it
is stored (``Member.score_log2``), updated in O(1) per interaction with a stable
log-add, and the score is exact at any read time. Ordering by L is ordering by the
current score, which is what the member list sorts on.

Windows (7/30/90/365 days), sentiment shares, trend and the weekly chart are read
from ``MemberDay``: one row per member per UTC day, at most 366 rows read per member.
A window of N days is today (UTC) and the N-1 days before it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from msgspec import Struct

from crm import db
from crm.members.tables import Interaction, Member, MemberDay
from crm.members.vocab import State

HALF_LIFE_DAYS = 30.0
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
KIND_WEIGHTS = {
    "post": 3.0,
    "review": 3.0,
    "event": 3.0,
    "share": 2.0,
    "comment": 2.0,
    "reply": 1.5,
    "dm": 1.5,
    "mention": 1.0,
    "other": 1.0,
}
NEW_DAYS = 30
INACTIVE_DAYS = 180
SENTIMENT_COLUMNS = ("positive", "negative", "neutral", "unknown")
INSERT_CHUNK = 1000


def _half_lives(at: datetime) -> float:
    return (at - EPOCH).total_seconds() / 86400.0 / HALF_LIFE_DAYS


def log2_term(kind: str, at: datetime) -> float:
    return math.log2(KIND_WEIGHTS[kind]) + _half_lives(at)


NO_SCORE = -1e9  # log2(0) stand-in: 2 ** NO_SCORE is 0.0 in floating point


def log2_add(a: float, b: float) -> float:
    """log2(2**a + 2**b) without overflow."""
    hi, lo = (a, b) if a >= b else (b, a)
    return hi + math.log2(1.0 + 2.0 ** (lo - hi))


def score_at(score_log2: float, now: datetime) -> float:
    return 2.0 ** (score_log2 - _half_lives(now))


def derived(total: int, first: datetime | None, last: datetime | None) -> tuple[float | None, datetime | None]:
    """Usual gap (mean time between interactions) and when silence becomes "going quiet"."""
    if total < 2 or first is None or last is None:
        return None, None
    gap = (last - first).total_seconds() / (total - 1)
    return gap, last + timedelta(seconds=2 * gap)


def day_key(member_id: int, day: date) -> str:
    return f"{member_id}:{day.isoformat()}"


async def apply_interaction(*, member_id: int, kind: str, sentiment: str, troll: bool, at: datetime) -> None:
    """Fold one new interaction into the member's rollup. Call inside the write's transaction."""
    if not db.in_transaction():
        raise RuntimeError("apply_interaction must run inside db.transaction()")
    query = Member.select(
        Member.interactions_total, Member.first_interaction_at, Member.last_interaction_at, Member.score_log2
    ).where(Member.id == member_id)
    if not db.is_sqlite():  # SQLite's BEGIN IMMEDIATE already serialises writers
        # NO KEY UPDATE: the interaction just inserted holds KEY SHARE on this row (its foreign key);
        # FOR UPDATE would conflict with another writer's KEY SHARE and deadlock two concurrent writes.
        query = query.lock_rows("NO KEY UPDATE")
    row = (await query.run())[0]
    total = row["interactions_total"] + 1
    first = min(filter(None, [row["first_interaction_at"], at]))
    last = max(filter(None, [row["last_interaction_at"], at]))
    gap, quiet_after = derived(total, first, last)
    await (
        Member.update(
            {
                Member.interactions_total: total,
                Member.first_interaction_at: first,
                Member.last_interaction_at: last,
                Member.score_log2: log2_add(row["score_log2"], log2_term(kind, at)),
                Member.usual_gap_seconds: gap,
                Member.quiet_after: quiet_after,
            }
        )
        .where(Member.id == member_id)
        .run()
    )
    column = "troll" if troll else sentiment
    day = at.astimezone(UTC).date()
    await _upsert_day(member_id, day, column)


async def _upsert_day(member_id: int, day: date, column: str) -> None:
    """One statement on both engines: the unique key turns the insert into an increment."""
    assert column in (*SENTIMENT_COLUMNS, "troll")
    values = {c: 0 for c in (*SENTIMENT_COLUMNS, "troll")}
    values[column] = 1
    await MemberDay.raw(
        "INSERT INTO member_day (member, day, key, total, positive, negative, neutral, unknown, troll) "
        "VALUES ({}, {}, {}, 1, {}, {}, {}, {}, {}) "
        f"ON CONFLICT (key) DO UPDATE SET total = member_day.total + 1, {column} = member_day.{column} + 1",
        member_id,
        day,
        day_key(member_id, day),
        *values.values(),
    ).run()


async def move_day_count(*, member_id: int, at: datetime, from_column: str, to_column: str) -> None:
    """Move one interaction between sentiment columns of its day (troll flag set or cleared)."""
    columns = (*SENTIMENT_COLUMNS, "troll")
    assert from_column in columns and to_column in columns
    day = at.astimezone(UTC).date()
    await MemberDay.raw(
        f"UPDATE member_day SET {from_column} = {from_column} - 1, {to_column} = {to_column} + 1 WHERE key = {{}}",
        day_key(member_id, day),
    ).run()


@dataclass
class Rollup:
    """What the rollup holds for one member, computed from the log (for rebuilds and checks)."""

    interactions_total: int
    first_interaction_at: datetime | None
    last_interaction_at: datetime | None
    score_log2: float
    usual_gap_seconds: float | None
    quiet_after: datetime | None
    days: dict[date, dict[str, int]]


def compute_rollup(interactions: list[dict]) -> Rollup:
    score = NO_SCORE
    days: dict[date, dict[str, int]] = {}
    for row in sorted(interactions, key=lambda r: r["occurred_at"]):
        score = log2_add(score, log2_term(row["kind"], row["occurred_at"]))
        day = days.setdefault(
            row["occurred_at"].astimezone(UTC).date(), {c: 0 for c in ("total", *SENTIMENT_COLUMNS, "troll")}
        )
        day["total"] += 1
        day["troll" if row["troll"] else row["sentiment"]] += 1
    times = [r["occurred_at"] for r in interactions]
    first, last = (min(times), max(times)) if times else (None, None)
    gap, quiet_after = derived(len(interactions), first, last)
    return Rollup(len(interactions), first, last, score, gap, quiet_after, days)


async def rebuild_member(member_id: int) -> None:
    """Recompute one member's rollup from the interaction log (merges, undo, erasure). Every member at once:
    ``crm.members.bulk.rebuild_all``, a few statements over the whole log."""
    rows = (
        await Interaction.select(Interaction.kind, Interaction.sentiment, Interaction.troll, Interaction.occurred_at)
        .where(Interaction.member == member_id)
        .run()
    )
    rollup = compute_rollup(rows)
    await (
        Member.update(
            {
                Member.interactions_total: rollup.interactions_total,
                Member.first_interaction_at: rollup.first_interaction_at,
                Member.last_interaction_at: rollup.last_interaction_at,
                Member.score_log2: rollup.score_log2,
                Member.usual_gap_seconds: rollup.usual_gap_seconds,
                Member.quiet_after: rollup.quiet_after,
            }
        )
        .where(Member.id == member_id)
        .run()
    )
    await MemberDay.delete().where(MemberDay.member == member_id).run()
    rows = [
        MemberDay(member=member_id, day=day, key=day_key(member_id, day), **counts)
        for day, counts in rollup.days.items()
    ]
    for start in range(0, len(rows), INSERT_CHUNK):  # stay under the engines' bound-parameter limits
        await MemberDay.insert(*rows[start : start + INSERT_CHUNK]).run()


# ---- reading the rollup --------------------------------------------------------------------------

QUIET_RATE_WINDOW_SECONDS = 15 * 86400


def state_of(member: dict, count_30d: int, now: datetime) -> State:
    """new: first interaction within 30 days; inactive: nothing for 180 days (or ever);
    going quiet: silent for more than twice the usual gap, or, for someone who usually
    interacts at least twice a month, 30-day count at half the usual rate or less."""
    last, first = member["last_interaction_at"], member["first_interaction_at"]
    if last is None or last < now - timedelta(days=INACTIVE_DAYS):
        return State.inactive
    if first >= now - timedelta(days=NEW_DAYS):
        return State.new
    gap = member["usual_gap_seconds"]
    if member["quiet_after"] is not None and member["quiet_after"] < now:
        return State.going_quiet
    if gap is not None and gap <= QUIET_RATE_WINDOW_SECONDS and gap * count_30d <= QUIET_RATE_WINDOW_SECONDS:
        return State.going_quiet
    return State.active


class Engagement(Struct):
    """What pages show and the API returns (crm.members.schemas.EngagementRead is this)."""

    score: float
    interactions_7d: int
    interactions_30d: int
    interactions_90d: int
    interactions_365d: int
    first_interaction_at: datetime | None
    last_interaction_at: datetime | None
    usual_gap_days: float | None
    positive_share_90d: float | None
    negative_share_90d: float | None
    trend: str  # "up", "down" or "flat": the last 30 days against the 30 before
    reach: int
    state: str


def window_start(now: datetime, days: int) -> date:
    return now.astimezone(UTC).date() - timedelta(days=days - 1)


def count_since(days: list[dict], start: date, end: date | None = None, column: str = "total") -> int:
    return sum(d[column] for d in days if d["day"] >= start and (end is None or d["day"] < end))


def summarize(member: dict, days: list[dict], now: datetime) -> Engagement:
    """Everything about a member's engagement, from its rollup row and its last 365 days."""
    c30 = count_since(days, window_start(now, 30))
    previous_30 = count_since(days, window_start(now, 60), window_start(now, 30))
    start_90 = window_start(now, 90)
    positive, negative = count_since(days, start_90, column="positive"), count_since(days, start_90, column="negative")
    rated = positive + negative + count_since(days, start_90, column="neutral")
    gap = member["usual_gap_seconds"]
    return Engagement(
        score=round(score_at(member["score_log2"], now), 4),
        interactions_7d=count_since(days, window_start(now, 7)),
        interactions_30d=c30,
        interactions_90d=count_since(days, start_90),
        interactions_365d=count_since(days, window_start(now, 365)),
        first_interaction_at=member["first_interaction_at"],
        last_interaction_at=member["last_interaction_at"],
        usual_gap_days=round(gap / 86400, 2) if gap is not None else None,
        positive_share_90d=round(positive / rated, 4) if rated else None,
        negative_share_90d=round(negative / rated, 4) if rated else None,
        trend="up" if c30 > previous_30 else "down" if c30 < previous_30 else "flat",
        reach=member["reach"],
        state=state_of(member, c30, now).value,
    )


def weekly_counts(days: list[dict], now: datetime, weeks: int = 26) -> list[tuple[date, int]]:
    """Interactions per week (weeks start on Monday, UTC), oldest first, the current week last."""
    today = now.astimezone(UTC).date()
    this_monday = today - timedelta(days=today.weekday())
    starts = [this_monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    counts = {start: 0 for start in starts}
    for d in days:
        monday = d["day"] - timedelta(days=d["day"].weekday())
        if monday in counts:
            counts[monday] += d["total"]
    return list(counts.items())
