"""The engagement rollup folded in for a whole batch: one statement per rollup table."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from crm import db
from crm.members import engagement
from crm.members.bulk.sql import ROLLUP_TYPES, _any, _fetch, _pg, _rows

# ---- the rollup, in bulk -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One interaction to fold into its member's rollup."""

    member_id: int
    kind: str
    sentiment: str
    troll: bool
    at: datetime


async def fold_rollups(events: Sequence[Event]) -> None:
    """Fold ``events`` (in the order they were logged) into the members' rollups: one read of the members
    (row-locked on PostgreSQL, in id order), one UPDATE of member and one upsert of member_day, giving what
    ``engagement.apply_interaction`` gives called once per event in the same order."""
    if not events:
        return
    if not db.in_transaction():
        raise RuntimeError("fold_rollups must run inside db.transaction()")
    ids = sorted({e.member_id for e in events})
    where, param = _any("id", ids, "integer")
    lock = " FOR NO KEY UPDATE" if _pg() else ""  # as apply_interaction: an inserted interaction holds KEY SHARE
    rows = await _fetch(
        "SELECT id, interactions_total, first_interaction_at, last_interaction_at, score_log2 "
        f"FROM member WHERE {where} ORDER BY id{lock}",
        param,
    )
    state = {
        r["id"]: [r["interactions_total"], r["first_interaction_at"], r["last_interaction_at"], r["score_log2"]]
        for r in rows
    }
    columns = ("total", *engagement.SENTIMENT_COLUMNS, "troll")
    days: dict[tuple[int, Any], dict[str, int]] = {}
    for e in events:
        s = state[e.member_id]
        s[0] += 1
        s[1] = min(filter(None, [s[1], e.at]))
        s[2] = max(filter(None, [s[2], e.at]))
        s[3] = engagement.log2_add(s[3], engagement.log2_term(e.kind, e.at))
        counts = days.setdefault((e.member_id, e.at.astimezone(UTC).date()), dict.fromkeys(columns, 0))
        counts["total"] += 1
        counts["troll" if e.troll else e.sentiment] += 1
    updates = []
    for member_id in ids:
        total, first, last, score = state[member_id]
        gap, quiet_after = engagement.derived(total, first, last)
        updates.append((member_id, total, first, last, score, gap, quiet_after))
    await _rows(
        "WITH v(id, total, first_at, last_at, score, gap, quiet) AS (",
        updates,
        ROLLUP_TYPES,
        ") UPDATE member SET interactions_total = v.total, first_interaction_at = v.first_at, "
        "last_interaction_at = v.last_at, score_log2 = v.score, usual_gap_seconds = v.gap, quiet_after = v.quiet "
        "FROM v WHERE member.id = v.id",
    )
    day_rows = sorted(
        (engagement.day_key(member_id, day), member_id, day, *counts.values())
        for (member_id, day), counts in days.items()
    )
    increments = ", ".join(f"{c} = member_day.{c} + excluded.{c}" for c in columns)
    await _rows(
        f"INSERT INTO member_day (key, member, day, {', '.join(columns)})",
        day_rows,
        ("text", "integer", "date", *["integer"] * len(columns)),
        f"ON CONFLICT (key) DO UPDATE SET {increments}",
    )


# ---- interactions ------------------------------------------------------------------------------------------


# ---- every rollup, rebuilt from the log ----------------------------------------------------------------------
# `crm rollups rebuild`: a few statements over the whole log instead of a read and two writes per member (6-13x
# faster at 2M interactions), giving what ``engagement.rebuild_member`` gives for each member.
#
# The score is log2(sum_i w_i * 2 ** h_i) with h_i the half-lives since the epoch (engagement.py). Summed in SQL
# against a reference R, the newest interaction, it is h(R) + log2(sum_i w_i * 2 ** (h_i - h(R))): every term is
# at most 3, so nothing overflows. A term older than ~1,000 half-lives (82 years) before R would underflow; the
# exponent is clamped there and a member whose whole sum is that small (``TINY``) is recomputed from their log
# in Python instead.
TINY = 2.0**-900
MAX_HALVINGS = 1000.0


def _whole_log() -> str:
    """The interaction table, read whole. SQLite would walk it in member order through an index and look up every
    row (29.5 s at 1.5M rows); a plain scan and a temporary sort take a third of that. PostgreSQL plans it well."""
    return "interaction" if _pg() else "interaction NOT INDEXED"


def _weight_sql() -> str:
    cases = " ".join(f"WHEN '{kind}' THEN {weight!r}" for kind, weight in engagement.KIND_WEIGHTS.items())
    return f"CASE kind {cases} END"


def _totals_sql() -> str:
    """Per member: count, first and last time, and the score's sum against the reference time ``{}``."""
    if _pg():
        halvings = "EXTRACT(EPOCH FROM (occurred_at - {}::timestamptz))::float8 / 2592000.0"
        greatest = "GREATEST"
    else:  # julianday: days as a double, from SQLite's millisecond clock (the score moves by < 1e-9 relative)
        halvings = "(julianday(occurred_at) - julianday({})) / 30.0"
        greatest = "MAX"  # SQLite's two-argument MAX is a scalar
    return (
        "SELECT member, COUNT(*) AS total, MIN(occurred_at) AS first_at, MAX(occurred_at) AS last_at, "
        f"SUM({_weight_sql()} * power(CAST(2 AS DOUBLE PRECISION), {greatest}({halvings}, -{MAX_HALVINGS}))) "
        f"AS score_sum FROM {_whole_log()} GROUP BY member"
    )


def _day_sql() -> str:
    """member_day from the log: one row per member per UTC day, trolls counted apart from sentiment."""
    if _pg():
        day = "(occurred_at AT TIME ZONE 'UTC')::date"
        key = f"member::text || ':' || to_char({day}, 'YYYY-MM-DD')"
        not_troll = "NOT troll"
    else:
        day = "date(occurred_at)"  # stored as UTC text: its UTC day
        key = f"member || ':' || {day}"
        not_troll = "troll = 0"
    counts = ", ".join(
        f"SUM(CASE WHEN {not_troll} AND sentiment = '{s}' THEN 1 ELSE 0 END)" for s in engagement.SENTIMENT_COLUMNS
    )
    columns = ", ".join(("total", *engagement.SENTIMENT_COLUMNS, "troll"))
    return (
        f"INSERT INTO member_day (key, member, day, {columns}) "
        f"SELECT {key}, member, {day}, COUNT(*), {counts}, SUM(CASE WHEN {not_troll} THEN 0 ELSE 1 END) "
        f"FROM {_whole_log()} GROUP BY member, {day}"
    )


def _utc(value: Any) -> datetime:
    """A time from a raw statement: a datetime on PostgreSQL, UTC text on SQLite."""
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


async def rebuild_all() -> int:
    """Rebuild every member's rollup from the interaction log in one transaction: one aggregate read of the log,
    one UPDATE of the members with interactions and one of those without, and member_day emptied and refilled
    by one INSERT ... SELECT. Linear in the log's size. Returns the number of members."""
    async with db.transaction():
        if _pg():  # interaction writes wait until the rebuild commits: the rollup matches the log it read
            await _fetch("LOCK TABLE interaction IN SHARE MODE")
        newest = (await _fetch("SELECT MAX(occurred_at) AS at FROM interaction"))[0]["at"]
        updates, tiny = [], []
        if newest is not None:
            reference = _utc(newest)
            base = engagement.log2_term("mention", reference)  # weight 1: the reference's half-lives
            for row in await _fetch(_totals_sql(), reference):
                total, first, last = int(row["total"]), _utc(row["first_at"]), _utc(row["last_at"])
                if row["score_sum"] < TINY:
                    tiny.append(row["member"])
                    continue
                gap, quiet_after = engagement.derived(total, first, last)
                score = base + math.log2(row["score_sum"])
                updates.append((row["member"], total, first, last, score, gap, quiet_after))
        await _fetch(
            "UPDATE member SET interactions_total = 0, first_interaction_at = NULL, last_interaction_at = NULL, "
            "score_log2 = {}, usual_gap_seconds = NULL, quiet_after = NULL "
            "WHERE NOT EXISTS (SELECT 1 FROM interaction i WHERE i.member = member.id)",
            engagement.NO_SCORE,
        )
        await _rows(
            "WITH v(id, total, first_at, last_at, score, gap, quiet) AS (",
            updates,
            ROLLUP_TYPES,
            ") UPDATE member SET interactions_total = v.total, first_interaction_at = v.first_at, "
            "last_interaction_at = v.last_at, score_log2 = v.score, usual_gap_seconds = v.gap, quiet_after = v.quiet "
            "FROM v WHERE member.id = v.id",
        )
        await _fetch("DELETE FROM member_day")
        await _fetch(_day_sql())
        for member_id in tiny:  # see TINY: their member_day rows are already right
            await engagement.rebuild_member(member_id)
        return int((await _fetch("SELECT COUNT(*) AS n FROM member"))[0]["n"])
