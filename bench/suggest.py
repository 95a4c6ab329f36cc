"""Whom to brief at size: the SQL ranking against the Python ranking it replaced (not a test; prints both).

    CRM_DATABASE_URL=sqlite:///var/suggest.sqlite python bench/suggest.py generate 100000 1000000
    CRM_DATABASE_URL=sqlite:///var/suggest.sqlite python bench/suggest.py run

``generate`` writes into an empty database (a new SQLite file, or an empty PostgreSQL database): members and
their interactions through the bulk path imports use (crm.members.bulk: power-law activity over a year on three
platforms, mixed sentiment), then tiers, consent, followers and topics with a few UPDATEs, and one open incident
detected two days ago on "x" with 300 linked interactions. ``run`` times, warm, for that incident: the top 20
(the API), the top 3 (the incident page's panel), a why-not question and, for comparison, the previous Python
ranking (tests/briefings/oracle.py); median and p95 of ``ROUNDS`` runs each.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crm import db, wiring  # noqa: E402
from crm.audit.service import Actor  # noqa: E402
from crm.briefings import suggestions  # noqa: E402
from crm.incidents import queries as incident_queries  # noqa: E402
from crm.incidents import service as incidents  # noqa: E402
from crm.incidents.tables import Incident  # noqa: E402
from crm.members import bulk  # noqa: E402
from crm.members.tables import Interaction  # noqa: E402
from crm.migrate import migrate  # noqa: E402
from crm.settings import DatabaseURL  # noqa: E402
from tests.briefings import oracle  # noqa: E402

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
PLATFORMS = ["x", "facebook", "instagram"]
SENTIMENTS = ["positive", "positive", "neutral", "negative", "unknown"]
KINDS = ["mention", "comment", "reply", "share", "post"]
BATCH = 5000
ROUNDS = int(os.environ.get("ROUNDS", "30"))
ACTOR = Actor.system("bench")


async def generate(members: int, total: int) -> None:
    rng = random.Random(7)
    await migrate()
    weights = [1 / (n + 1) ** 0.9 for n in range(members)]  # power-law activity
    started = time.perf_counter()
    for start in range(0, total, BATCH):
        items = []
        who = rng.choices(range(members), weights=weights, k=min(BATCH, total - start))
        for n, person in enumerate(who):
            values = {
                "handle": f"member{person}",
                "platform": PLATFORMS[person % 3] if rng.random() < 0.8 else rng.choice(PLATFORMS),
                "kind": rng.choice(KINDS),
                "sentiment": rng.choice(SENTIMENTS),
                "troll": rng.random() < 0.01,
                "occurred_at": NOW - timedelta(seconds=rng.randint(0, 365 * 86400)),
                "member_name": f"Member {person}",
            }
            item, errors = bulk.clean_interaction(values, NOW)
            assert not errors, errors
            item.index = n
            items.append(item)
        await bulk.log_interactions(items, actor=ACTOR, now=NOW)
        done = start + len(items)
        rate = done / (time.perf_counter() - started)
        print(f"\r{done:,} interactions ({rate:,.0f}/s)", end="", flush=True)
    print()
    engine = db.engine()
    sqlite = db.is_sqlite()
    yes = "1" if sqlite else "TRUE"
    for sql in (
        "UPDATE member SET tier = 'advocate' WHERE id % 10 = 0",
        "UPDATE member SET tier = 'champion' WHERE id % 50 = 0",
        f"UPDATE member SET consent_private_briefing = {yes} WHERE id % 5 <> 0",
        "UPDATE member_handle SET followers = (id * 7919) % 20000",
        "UPDATE member_handle SET followers = 1500000 WHERE id % 997 = 0",
        "INSERT INTO member_topic (member, topic, key) SELECT id, 'ads', CAST(id AS TEXT) || ':ads' FROM member "
        "WHERE id % 3 = 0",
    ):
        await engine.run_ddl(sql)
    async with db.transaction():
        for n in range(4):  # past incidents, on other platforms
            await incidents.create_incident(
                values={
                    "title": f"Past {n}",
                    "severity": "medium",
                    "platforms": ["facebook"] if n % 2 else [],
                    "topics": ["price"],
                    "detected_at": NOW - timedelta(days=300 - 60 * n),
                },
                actor=ACTOR,
                now=NOW,
            )
    fail = await incidents.create_incident(
        values={
            "title": "The fail",
            "severity": "high",
            "platforms": ["x"],
            "topics": ["ads", "price"],
            "detected_at": NOW - timedelta(days=2),
        },
        actor=ACTOR,
        now=NOW,
    )
    linked = [
        r["id"]
        for r in await Interaction.select(Interaction.id)
        .where(Interaction.platform == "instagram")
        .order_by(Interaction.id)
        .limit(300)
        .run()
    ]
    await incidents.link_interactions(incident_id=fail["id"], interaction_ids=linked, actor=ACTOR, now=NOW)
    print(f"generated in {time.perf_counter() - started:.0f} s; incident {fail['id']}")


async def timed(label: str, call) -> None:
    await call()  # warm
    times = []
    for _ in range(ROUNDS):
        t = time.perf_counter()
        await call()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
    print(f"{label:<40} median {statistics.median(times):8.1f} ms   p95 {p95:8.1f} ms")


async def run() -> None:
    iid = (await Incident.select(Incident.id).where(Incident.title == "The fail").first().run())["id"]
    incident = await incident_queries.incident_or_404(iid)
    ranking = await suggestions.rank(incident, now=NOW, k=20)
    print(f"{db.engine().__class__.__name__}: {ranking.total:,} suggested; top: {ranking.items[0].name}")
    await timed("SQL: top 20 (API)", lambda: suggestions.rank(incident, now=NOW, k=20))
    await timed("SQL: top 3 (incident page)", lambda: suggestions.rank(incident, now=NOW, k=3))
    await timed("SQL: top 25 (suggestions page)", lambda: suggestions.rank(incident, now=NOW, k=25))
    why = [ranking.items[5].member_id]
    await timed("SQL: why not one member", lambda: suggestions.rank(incident, now=NOW, member_ids=why))
    await timed("Python (before): everyone", lambda: oracle.rank(incident, now=NOW))
    expected = await oracle.rank(incident, now=NOW)
    same = [s.member_id for s in expected.items[:20]] == [s.member_id for s in ranking.items]
    print(f"same top 20 as the Python ranking: {same}")


async def main() -> None:
    url = DatabaseURL.parse(os.environ["CRM_DATABASE_URL"], base=Path.cwd())
    engine = db.make_engine(url)
    db.bind(engine)
    wiring.connect()
    await db.start(engine)
    try:
        if sys.argv[1] == "generate":
            await generate(int(sys.argv[2]), int(sys.argv[3]))
        else:
            await run()
    finally:
        await db.stop(engine)


if __name__ == "__main__":
    asyncio.run(main())
