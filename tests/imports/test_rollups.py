"""The rollup an import writes in bulk is what logging each row one by one gives: same counts, days, first and
last times, gaps, and the very same score (folded in the same order)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

from crm.members import interactions
from crm.members.tables import Handle
from tests.conftest import empty_all_tables
from tests.imports.conftest import ACTOR, assert_same_rollups, import_file, rollups, write_csv

ZONES = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8)), timezone(timedelta(hours=14))]
KINDS = ["mention", "comment", "reply", "share", "post", "review", "dm", "event", "other"]
SENTIMENTS = ["positive", "negative", "neutral", "unknown"]


def generated(rows: int) -> list[dict]:
    """Rows for a few people, in any time order, across UTC day boundaries, with trolls and repeated ids."""
    rng = random.Random(12)
    start = datetime(2025, 6, 1, tzinfo=UTC)
    out = []
    for n in range(rows):
        at = (start + timedelta(seconds=rng.randint(0, 200 * 86400))).astimezone(rng.choice(ZONES))
        out.append(
            {
                "id": str(rng.randint(0, rows // 2)) if rng.random() < 0.2 else f"u{n}",  # some repeat earlier ids
                "handle": f"@Person{rng.randint(0, 12)}" if rng.random() < 0.5 else f"person{rng.randint(0, 12)}",
                "platform": rng.choice(["x", "forum"]),
                "kind": rng.choice(KINDS),
                "date": at.isoformat(),
                "sentiment": rng.choice(SENTIMENTS),
                "troll": rng.choice(["yes", "no", "", "0"]),
                "text": f"row {n}",
            }
        )
    return out


async def by_handle() -> dict[str, dict]:
    """The rollups keyed by each member's first handle (ids differ between two databases)."""
    first = {}
    for h in await Handle.select().order_by(Handle.id).run():
        first.setdefault(h["member"], h["key"])
    return {first[member_id]: rollup for member_id, rollup in (await rollups()).items()}


async def test_an_import_gives_the_rollups_of_logging_each_row_one_by_one(engine, clock, tmp_path):
    rows = generated(400)
    path = write_csv(tmp_path / "rows.csv", list(rows[0]), rows)

    report = await import_file(path, clock, batch_size=37)  # batches cut through people and days
    assert report.rejected == 0 and report.duplicates > 0
    imported = await by_handle()

    await empty_all_tables()
    for row in rows:
        await interactions.log_interaction(
            values={
                "platform": row["platform"],
                "handle": row["handle"],
                "kind": row["kind"],
                "occurred_at": datetime.fromisoformat(row["date"]),
                "sentiment": row["sentiment"],
                "troll": row["troll"] == "yes",
                "text": row["text"],
                "external_id": row["id"],
            },
            actor=ACTOR,
            now=clock(),
        )
    one_by_one = await by_handle()

    assert_same_rollups(imported, one_by_one, exact_score=True)
