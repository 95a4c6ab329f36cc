"""Import rate against the engine's raw bulk floor, on the same generated rows (not a test; prints both).

    CRM_DATABASE_URL=sqlite:///var/bench.sqlite python bench/import_rate.py 100000 1000000
    CRM_DATABASE_URL=postgresql://crm@127.0.0.1:5432/crm_bench python bench/import_rate.py 100000

The database is emptied first (every table, or the public schema on PostgreSQL): point it at a throwaway one.
For each size it writes a CSV of generated interactions (streamed; 1 person per 20 rows, every kind and
sentiment), then times

- the import: ``crm.imports.service.run_import`` on that file, everything included (reading, checking each row,
  matching people, duplicates, rollups, audit, the job);
- the floor: the same members and interactions, already parsed, written by the driver alone into an empty
  database — ``executemany`` on SQLite, ``COPY`` (``copy_records_to_table``) on PostgreSQL — with no checks and
  no rollups.
"""

from __future__ import annotations

import asyncio
import csv
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crm import db  # noqa: E402
from crm.audit.service import Actor  # noqa: E402
from crm.clock import utc_now  # noqa: E402
from crm.imports import service  # noqa: E402
from crm.migrate import migrate  # noqa: E402
from crm.settings import DatabaseURL  # noqa: E402

KINDS = ["mention", "comment", "reply", "share", "post", "review", "dm", "event", "other"]
SENTIMENTS = ["positive", "negative", "neutral", "unknown"]
START = datetime(2020, 1, 1, tzinfo=UTC)


def row(n: int) -> tuple:
    return (
        f"b{n}",
        f"person{(n * 7919) % max(1, n // 20 + 1)}",
        KINDS[n % len(KINDS)],
        START + timedelta(seconds=97 * n),
        SENTIMENTS[n % len(SENTIMENTS)],
        f"Generated message number {n}",
    )


def write_file(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "handle", "kind", "date", "sentiment", "text"])
        for n in range(rows):
            external_id, handle_name, kind, at, sentiment, text = row(n)
            writer.writerow([external_id, handle_name, kind, at.isoformat(), sentiment, text])


async def empty(engine) -> None:
    if db.is_sqlite():
        await engine.run_ddl("PRAGMA foreign_keys = OFF")
        for table in reversed(db.table_classes()):
            if table._meta.tablename != "migration":
                await table.delete(force=True).run()
    else:
        await engine.run_ddl("DROP SCHEMA public CASCADE")
        await engine.run_ddl("CREATE SCHEMA public")
        await migrate()


async def floor(rows: int) -> float:
    """Seconds the driver alone takes to write the parsed members and interactions."""
    now = utc_now()
    people: dict[str, int] = {}
    members, interactions = [], []
    for n in range(rows):
        external_id, handle_name, kind, at, sentiment, text = row(n)
        if handle_name not in people:
            people[handle_name] = len(people) + 1
            members.append((people[handle_name], handle_name, now, now))
        member = people[handle_name]
        interactions.append((member, "x", kind, at, sentiment, "", text, external_id, f"x:{external_id}", False, now))
    columns = ("member", "platform", "kind", "occurred_at", "sentiment", "sentiment_reason", "text", "external_id")
    columns += ("external_key", "troll", "created_at")
    started = time.perf_counter()
    async with db.transaction() as transaction:
        connection = transaction.connection
        if db.is_sqlite():
            await connection.executemany(
                "INSERT INTO member (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)", members
            )
            await connection.executemany(
                f"INSERT INTO interaction ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", interactions
            )
        else:
            await connection.copy_records_to_table(
                "member", records=members, columns=["id", "name", "created_at", "updated_at"]
            )
            await connection.copy_records_to_table("interaction", records=interactions, columns=list(columns))
    return time.perf_counter() - started


async def main(sizes: list[int]) -> None:
    url = DatabaseURL.parse(os.environ.get("CRM_DATABASE_URL", "sqlite:///var/bench.sqlite"), base=Path.cwd())
    engine = db.make_engine(url)
    db.bind(engine)
    await db.start(engine)
    await migrate()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for rows in sizes:
                path = Path(tmp) / f"bench-{rows}.csv"
                write_file(path, rows)
                await empty(engine)
                started = time.perf_counter()
                report = await service.run_import(
                    kind="interactions", source=path, options={"platform": "x"}, actor=Actor.system("bench"),
                    clock=utc_now,
                )  # fmt: skip
                seconds = time.perf_counter() - started
                assert report.interactions_added == rows and report.rejected == 0, report.counts()
                await empty(engine)
                raw = await floor(rows)
                print(
                    f"{url.engine:<8} {rows:>9,} rows: import {rows / seconds:>9,.0f} rows/s ({seconds:.1f} s); "
                    f"floor {rows / raw:>9,.0f} rows/s ({raw:.1f} s); import/floor {raw / seconds:.0%}",
                    flush=True,
                )
                path.unlink()
    finally:
        await db.stop(engine)


if __name__ == "__main__":
    asyncio.run(main([int(n) for n in sys.argv[1:]] or [100_000, 1_000_000]))
