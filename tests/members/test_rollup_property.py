"""The rollup equals a full recomputation from the interaction log after any sequence of
interaction writes (including repeats and refusals), troll flags, merges, undos and erasures."""

from __future__ import annotations

import math
from datetime import UTC, timedelta, timezone

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from crm.audit.service import Actor
from crm.errors import DomainError
from crm.members import engagement, interactions, merge, service
from crm.members.erasure import erase_member
from crm.members.tables import Interaction, Member, MemberDay
from crm.members.vocab import KINDS, SENTIMENTS
from tests.conftest import START, empty_all_tables

ACTOR = Actor.system("test")
MEMBERS = 4
ZONES = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
DAY_SECONDS = 86400

log_op = st.tuples(
    st.just("log"),
    st.integers(0, MEMBERS - 1),  # which member (by id, or by one of their handles)
    st.sampled_from(["member_id", "handle", "new handle"]),
    st.sampled_from(KINDS),
    st.sampled_from(SENTIMENTS),
    st.booleans(),  # troll
    st.integers(-400 * DAY_SECONDS, 400 * DAY_SECONDS),  # seconds from now: more than a day ahead is refused
    st.sampled_from(ZONES),
    st.one_of(st.none(), st.sampled_from(["e1", "e2", "e3"])),  # external id, repeats likely
    st.sampled_from(["x", "forum"]),
)
operations = st.lists(
    st.one_of(
        log_op,
        log_op,
        log_op,
        st.tuples(st.just("troll"), st.integers(0, 1000), st.booleans()),
        st.tuples(st.just("merge"), st.integers(0, MEMBERS - 1), st.integers(0, MEMBERS - 1)),
        st.tuples(st.just("undo")),
        st.tuples(st.just("erase"), st.integers(0, MEMBERS - 1)),
        st.tuples(st.just("advance"), st.integers(0, 60)),
    ),
    max_size=30,
)


async def run(op: tuple, ids: list[int], merges: list[int], clock) -> None:
    now = clock()
    name = op[0]
    if name == "log":
        _, who, how, kind, sentiment, troll, seconds, zone, external_id, platform = op
        values = {
            "kind": kind,
            "sentiment": sentiment,
            "troll": troll,
            "platform": platform,
            "occurred_at": (now + timedelta(seconds=seconds)).astimezone(zone),
            "external_id": external_id,
        }
        if how == "member_id":
            values["member_id"] = ids[who]
        elif how == "handle":
            values["handle"] = f"@M{who}"  # created as m<who> on x and forum: any case, with or without @
        else:
            values["handle"] = f"newcomer{who}"
        await interactions.log_interaction(values=values, actor=ACTOR, now=now)
    elif name == "troll":
        rows = await Interaction.select(Interaction.id).order_by(Interaction.id).run()
        if rows:
            await interactions.set_troll(
                interaction_id=rows[op[1] % len(rows)]["id"], troll=op[2], actor=ACTOR, now=now
            )
    elif name == "merge":
        merges.append(await merge.merge_members(keep_id=ids[op[1]], merge_id=ids[op[2]], actor=ACTOR, now=now))
    elif name == "undo":
        if merges:
            await merge.undo_merge(merge_id=merges.pop(), actor=ACTOR, now=now)
    elif name == "erase":
        await erase_member(member_id=ids[op[1]], actor=ACTOR, now=now)
    elif name == "advance":
        clock.advance(days=op[1])


async def assert_every_rollup_is_a_recomputation() -> None:
    members = await Member.select().run()
    assert members
    for member in members:
        rows = await Interaction.select().where(Interaction.member == member["id"]).run()
        expected = engagement.compute_rollup(rows)
        where = f"member {member['id']}"
        assert member["interactions_total"] == expected.interactions_total, where
        assert member["first_interaction_at"] == expected.first_interaction_at, where
        assert member["last_interaction_at"] == expected.last_interaction_at, where
        assert math.isclose(member["score_log2"], expected.score_log2, rel_tol=1e-9), where
        assert member["usual_gap_seconds"] == expected.usual_gap_seconds, where
        assert member["quiet_after"] == expected.quiet_after, where
        days = await MemberDay.select().where(MemberDay.member == member["id"]).run()
        stored = {
            d["day"]: {k: d[k] for k in ("total", "positive", "negative", "neutral", "unknown", "troll")} for d in days
        }
        assert stored == expected.days, where


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
async def test_it_keeps_every_rollup_equal_to_a_recomputation_from_the_log(pooled, clock, ops):
    await empty_all_tables()
    clock.at = START
    ids = []
    for n in range(MEMBERS):
        created = await service.create_member(
            values={
                "name": f"Member {n}",
                "handles": [{"platform": "x", "handle": f"m{n}"}, {"platform": "forum", "handle": f"m{n}"}],
            },
            actor=ACTOR,
            now=clock(),
        )
        ids.append(created["id"])
    merges: list[int] = []
    for op in ops:
        try:
            await run(op, ids, merges, clock)
            event(f"{op[0]} done")
        except DomainError as exc:  # refused (a future date, a merged or erased member, ...): changes nothing
            event(f"{op[0]} refused: {type(exc).__name__}")
    await assert_every_rollup_is_a_recomputation()
