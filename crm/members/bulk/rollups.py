"""The engagement rollup folded in for a whole batch: one statement per rollup table."""

from __future__ import annotations

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
