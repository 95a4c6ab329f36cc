"""`crm rollups rebuild` (bulk.rebuild_all, a few set-based statements) gives, on random histories, what the
incremental rollup kept by every write gives, and what the per-member rebuild (the old command, kept here as the
oracle) gives: counts, first and last times, gap, going-quiet time and member_day exactly, the score to 1e-12."""

from __future__ import annotations

import math
import random
from datetime import UTC, timedelta, timezone

import pytest

from crm import db
from crm.audit.service import Actor
from crm.members import bulk, engagement, interactions, service
from crm.members.tables import Interaction, Member, MemberDay
from crm.members.vocab import KINDS, SENTIMENTS
from tests.conftest import START

ACTOR = Actor.system("test")
ZONES = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
ROLLUP = ("interactions_total", "first_interaction_at", "last_interaction_at", "usual_gap_seconds", "quiet_after")


async def snapshot() -> dict[int, dict]:
    out = {}
    for m in await Member.select().run():
        out[m["id"]] = {k: m[k] for k in (*ROLLUP, "score_log2")} | {"days": {}}
    for d in await MemberDay.select().run():
        out[d["member"]]["days"][(d["key"], d["day"])] = {
            c: d[c] for c in ("total", "positive", "negative", "neutral", "unknown", "troll")
        }
    return out


def assert_same(got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    for member_id, expected in want.items():
        have = got[member_id]
        assert {k: have[k] for k in ROLLUP} == {k: expected[k] for k in ROLLUP}, member_id
        assert math.isclose(have["score_log2"], expected["score_log2"], rel_tol=1e-12, abs_tol=1e-9), member_id
        assert have["days"] == expected["days"], member_id


async def per_member_rebuild() -> None:
    """The old `crm rollups rebuild`: every member's log read and folded in Python."""
    async with db.transaction():
        for row in await Member.select(Member.id).order_by(Member.id).run():
            await engagement.rebuild_member(row["id"])


async def random_history(rng: random.Random) -> None:
    ids = []
    for n in range(rng.randint(1, 6)):
        created = await service.create_member(values={"name": f"Member {n}"}, actor=ACTOR, now=START)
        ids.append(created["id"])
    for _ in range(rng.randint(0, 40)):
        at = START - timedelta(seconds=rng.randint(0, 800 * 86400), microseconds=rng.choice([0, 1, 999_999]))
        await interactions.log_interaction(
            values={
                "member_id": rng.choice(ids),
                "kind": rng.choice(KINDS),
                "sentiment": rng.choice(SENTIMENTS),
                "troll": rng.random() < 0.2,
                "platform": "x",
                "occurred_at": at.astimezone(rng.choice(ZONES)),
            },
            actor=ACTOR,
            now=START,
        )


@pytest.mark.parametrize("seed", range(8))
async def test_the_rebuild_equals_the_incremental_rollup_and_the_per_member_rebuild(pooled, seed):
    await random_history(random.Random(seed))
    incremental = await snapshot()

    await bulk.rebuild_all()
    rebuilt = await snapshot()
    assert_same(rebuilt, incremental)

    await per_member_rebuild()
    assert_same(rebuilt, await snapshot())


async def test_the_rebuild_repairs_damage_and_resets_members_without_interactions(pooled):
    await random_history(random.Random(99))
    want = await snapshot()
    busy = next(m for m, r in want.items() if r["interactions_total"] >= 2)
    await (
        Member.update({Member.interactions_total: 7, Member.score_log2: 5.0, Member.quiet_after: START})
        .where(Member.id == busy)
        .run()
    )
    await MemberDay.delete().where(MemberDay.member == busy).run()
    await MemberDay.update({MemberDay.total: 99}).where(MemberDay.member != busy).run()
    idle = await service.create_member(values={"name": "Idle"}, actor=ACTOR, now=START)
    await (
        Member.update({Member.interactions_total: 3, Member.last_interaction_at: START})
        .where(Member.id == idle["id"])
        .run()
    )
    want[idle["id"]] = {k: None for k in ROLLUP} | {"interactions_total": 0, "score_log2": engagement.NO_SCORE}
    want[idle["id"]]["days"] = {}

    assert await bulk.rebuild_all() == len(want)
    assert_same(await snapshot(), want)


async def test_the_rebuild_of_an_empty_log(pooled):
    created = await service.create_member(values={"name": "Nobody"}, actor=ACTOR, now=START)
    await Member.update({Member.interactions_total: 2}).where(Member.id == created["id"]).run()
    assert await bulk.rebuild_all() == 1
    row = await Member.select().first().run()
    assert row["interactions_total"] == 0 and row["score_log2"] == engagement.NO_SCORE
    assert await MemberDay.count().run() == 0


async def test_a_member_whose_whole_log_is_centuries_older_than_the_newest_interaction(pooled):
    """Their terms underflow against the newest interaction (TINY): recomputed from their own log instead."""
    old = await service.create_member(values={"name": "Old"}, actor=ACTOR, now=START)
    new = await service.create_member(values={"name": "New"}, actor=ACTOR, now=START)
    for member_id, at in [(old["id"], START.replace(year=1890)), (old["id"], START.replace(year=1891))]:
        await Interaction(member=member_id, platform="x", kind="post", occurred_at=at).save().run()
    await Interaction(member=new["id"], platform="x", kind="post", occurred_at=START).save().run()
    await per_member_rebuild()
    want = await snapshot()
    await Member.update({Member.score_log2: 0.0}, force=True).run()

    await bulk.rebuild_all()

    assert_same(await snapshot(), want)
    assert want[old["id"]]["score_log2"] < -1000  # the case the fallback exists for
