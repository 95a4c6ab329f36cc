"""The incidents' conversation rollup (crm/incidents/conversation.py) equals a brute-force recount from the
interaction log, and a rebuild, after any sequence of interaction writes (one at a time and in bulk, linked to an
incident or not), troll flags, merges, undos, erasures, links, and incidents created or moved to other platforms
or detection times. Both engines."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from crm.audit.service import Actor
from crm.errors import DomainError
from crm.incidents import conversation
from crm.incidents import service as incidents
from crm.incidents.tables import Incident
from crm.members import bulk, interactions, merge, service
from crm.members.erasure import erase_member
from crm.members.tables import Interaction
from tests.conftest import START, empty_all_tables

ACTOR = Actor.system("test")
MEMBERS = 4
PLATFORMS = ["x", "forum", "instagram"]
HOUR = 3600
platforms = st.lists(st.sampled_from(PLATFORMS), max_size=2, unique=True)

log_op = st.tuples(
    st.just("log"),
    st.integers(0, MEMBERS - 1),
    st.sampled_from(PLATFORMS),
    st.sampled_from(["positive", "neutral", "negative", "unknown"]),
    st.booleans(),  # troll
    st.integers(-48 * HOUR, 0),  # seconds from now
    st.one_of(st.none(), st.integers(0, 2)),  # linked to the n-th incident, if any
)
operations = st.lists(
    st.one_of(
        log_op,
        log_op,
        log_op,
        st.tuples(st.just("bulk"), st.lists(log_op, min_size=1, max_size=4)),
        st.tuples(st.just("troll"), st.integers(0, 1000), st.booleans()),
        st.tuples(st.just("merge"), st.integers(0, MEMBERS - 1), st.integers(0, MEMBERS - 1)),
        st.tuples(st.just("undo")),
        st.tuples(st.just("erase"), st.integers(0, MEMBERS - 1)),
        st.tuples(st.just("link"), st.integers(0, 2), st.lists(st.integers(0, 1000), min_size=1, max_size=3)),
        st.tuples(st.just("incident"), platforms, st.integers(-48 * HOUR, 0)),
        st.tuples(st.just("move"), st.integers(0, 2), platforms, st.integers(-48 * HOUR, 0)),
        st.tuples(st.just("advance"), st.integers(0, 12)),
    ),
    max_size=25,
)


async def _incident_ids() -> list[int]:
    return [r["id"] for r in await Incident.select(Incident.id).order_by(Incident.id).run()]


async def run(op: tuple, ids: list[int], merges: list[int], clock) -> None:
    now = clock()
    name = op[0]
    incident_ids = await _incident_ids()
    if name == "log":
        _, who, platform, sentiment, troll, seconds, incident = op
        values = {
            "member_id": ids[who],
            "platform": platform,
            "kind": "reply",
            "sentiment": sentiment,
            "troll": troll,
            "occurred_at": now + timedelta(seconds=seconds),
        }
        if incident is not None and incident_ids:
            values["incident_id"] = incident_ids[incident % len(incident_ids)]
        await interactions.log_interaction(values=values, actor=ACTOR, now=now)
    elif name == "bulk":  # the import path: no links in bulk, only platforms and times
        items = []
        for n, (_, who, platform, sentiment, troll, seconds, _) in enumerate(op[1]):
            values = {"member_id": ids[who], "platform": platform, "kind": "reply", "sentiment": sentiment}
            values.update(troll=troll, occurred_at=now + timedelta(seconds=seconds))
            item, errors = bulk.clean_interaction(values, now)
            assert not errors, errors
            item.index = n
            items.append(item)
        await bulk.log_interactions(items, actor=ACTOR, now=now)
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
    elif name == "link":
        rows = await Interaction.select(Interaction.id).order_by(Interaction.id).run()
        if rows and incident_ids:
            picked = [rows[n % len(rows)]["id"] for n in op[2]]
            await incidents.link_interactions(
                incident_id=incident_ids[op[1] % len(incident_ids)], interaction_ids=picked, actor=ACTOR, now=now
            )
    elif name == "incident":
        values = {"title": "Fail", "severity": "high", "platforms": op[1]}
        values["detected_at"] = now + timedelta(seconds=op[2])
        await incidents.create_incident(values=values, actor=ACTOR, now=now)
    elif name == "move":
        if incident_ids:
            values = {"platforms": op[2], "detected_at": now + timedelta(seconds=op[3])}
            await incidents.update_incident(
                incident_id=incident_ids[op[1] % len(incident_ids)], values=values, actor=ACTOR, now=now
            )
    elif name == "advance":
        clock.advance(hours=op[1])


async def recount_from_the_log() -> dict[tuple[int, int], tuple[int, int]]:
    """The documented conversation, by brute force: linked to the incident, or on one of its platforms at or
    after its detection; never trolls; supportive = positive or neutral, critical = negative and linked."""
    expected: dict[tuple[int, int], tuple[int, int]] = {}
    found = await Incident.select(Incident.id, Incident.platforms, Incident.detected_at).output(load_json=True).run()
    for i in await Interaction.select().run():
        for n in found:
            linked = i["incident_id"] == n["id"]
            about = linked or (i["platform"] in n["platforms"] and i["occurred_at"] >= n["detected_at"])
            if not about or i["troll"]:
                continue
            supportive = int(i["sentiment"] in ("positive", "neutral"))
            critical = int(i["sentiment"] == "negative" and linked)
            if supportive or critical:
                s, c = expected.get((n["id"], i["member"]), (0, 0))
                expected[(n["id"], i["member"])] = (s + supportive, c + critical)
    return expected


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
async def test_the_conversation_rollup_equals_a_recount_from_the_log(pooled, clock, ops):
    await empty_all_tables()
    clock.at = START
    ids = []
    for n in range(MEMBERS):
        created = await service.create_member(values={"name": f"Member {n}"}, actor=ACTOR, now=clock())
        ids.append(created["id"])
    first = await incidents.create_incident(
        values={"title": "First", "severity": "high", "platforms": ["x"], "detected_at": START - timedelta(days=1)},
        actor=ACTOR,
        now=clock(),
    )
    first = first["id"]
    for n, member_id in enumerate(ids):  # everyone starts in the conversation, so each operation can change it
        for platform, sentiment, linked, hours in (("x", "positive", False, -1), ("forum", "negative", True, -30)):
            values = {"member_id": member_id, "platform": platform, "kind": "reply", "sentiment": sentiment}
            values.update(occurred_at=clock() + timedelta(hours=hours - n), incident_id=first if linked else None)
            await interactions.log_interaction(values=values, actor=ACTOR, now=clock())
    merges: list[int] = []
    for op in ops:
        try:
            await run(op, ids, merges, clock)
            event(f"{op[0]} done")
        except DomainError as exc:  # refused (a merged or erased member, a link elsewhere...): changes nothing
            event(f"{op[0]} refused: {type(exc).__name__}")
    kept = await conversation.rows()
    assert kept == await recount_from_the_log()
    await conversation.rebuild_all()
    assert await conversation.rows() == kept


async def test_counts_need_the_write_transaction(engine):
    """Like the member rollup, the counts are written only inside the write's transaction."""
    for write in (conversation.add_interactions([1]), conversation.recount_members([1])):
        try:
            await write
        except RuntimeError as exc:
            assert "transaction" in str(exc)
        else:
            raise AssertionError("written outside a transaction")


# ---- each write, one at a time -------------------------------------------------------------------------------


async def _member(name: str, clock) -> int:
    return (await service.create_member(values={"name": name}, actor=ACTOR, now=clock()))["id"]


async def _log(member_id: int, clock, *, platform="x", sentiment="positive", hours=-1, **extra) -> int:
    values = {"member_id": member_id, "platform": platform, "kind": "reply", "sentiment": sentiment}
    values.update(occurred_at=clock() + timedelta(hours=hours), **extra)
    return (await interactions.log_interaction(values=values, actor=ACTOR, now=clock()))[0]["id"]


async def test_each_write_keeps_the_counts(pooled, clock):
    now = clock()
    ann, bea = await _member("Ann", clock), await _member("Bea", clock)
    fail = (
        await incidents.create_incident(
            values={"title": "Fail", "severity": "high", "platforms": ["x"], "detected_at": now - timedelta(hours=3)},
            actor=ACTOR,
            now=now,
        )
    )["id"]
    await _log(ann, clock)  # on x since detection
    before = await _log(ann, clock, hours=-5)  # before detection: not yet
    elsewhere = await _log(bea, clock, platform="forum")
    await _log(bea, clock, sentiment="negative", incident_id=fail)  # a critic
    assert await conversation.rows() == {(fail, ann): (1, 0), (fail, bea): (0, 1)}

    await incidents.link_interactions(incident_id=fail, interaction_ids=[before, elsewhere], actor=ACTOR, now=now)
    assert await conversation.rows() == {(fail, ann): (2, 0), (fail, bea): (1, 1)}

    await interactions.set_troll(interaction_id=elsewhere, troll=True, actor=ACTOR, now=now)
    assert await conversation.rows() == {(fail, ann): (2, 0), (fail, bea): (0, 1)}

    moved = {"platforms": ["forum"], "detected_at": now - timedelta(hours=6)}
    await incidents.update_incident(incident_id=fail, values=moved, actor=ACTOR, now=now)
    assert await conversation.rows() == {(fail, ann): (1, 0), (fail, bea): (0, 1)}  # only the linked ones now

    merged = await merge.merge_members(keep_id=ann, merge_id=bea, actor=ACTOR, now=now)
    assert await conversation.rows() == {(fail, ann): (1, 1)}
    await merge.undo_merge(merge_id=merged, actor=ACTOR, now=now)
    assert await conversation.rows() == {(fail, ann): (1, 0), (fail, bea): (0, 1)}

    await erase_member(member_id=bea, actor=ACTOR, now=now)  # the interactions stay, anonymous: so do the counts
    assert await conversation.rows() == {(fail, ann): (1, 0), (fail, bea): (0, 1)}

    late = await incidents.create_incident(
        values={"title": "Late", "severity": "low", "platforms": ["x"], "detected_at": now - timedelta(hours=2)},
        actor=ACTOR,
        now=now,
    )
    assert (await conversation.rows())[(late["id"], ann)] == (1, 0)  # created after the fact: counted at once
    assert await conversation.rows() == await recount_from_the_log()
