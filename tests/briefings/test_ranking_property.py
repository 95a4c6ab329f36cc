"""Whom to brief in SQL (crm/briefings/candidates.py) ranks exactly as the Python ranking it replaced
(tests/briefings/oracle.py, which reads the interaction log itself) on random communities: the same members in the
same order with the same scores, factors, reasons and handles, the same exclusions with the same explanations, the
same top k and total, and the "why not" answers for a few members. Both engines."""

from __future__ import annotations

import random
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.audit.service import Actor
from crm.briefings import service as briefings
from crm.briefings import suggestions
from crm.briefings.tables import Briefing
from crm.incidents import queries as incident_queries
from crm.incidents import service as incidents
from crm.incidents.tables import TalkingPoints
from crm.members import interactions, service
from crm.members.erasure import erase_member
from tests.briefings import oracle
from tests.conftest import empty_all_tables

ACTOR = Actor.system("test")
PLATFORMS = ["x", "forum", "instagram"]
TOPICS = ["ads", "price", "delay", "staff"]


async def build(rng: random.Random, now) -> list[int]:
    """A small random community: members of every kind, three incidents, a log, briefings and feedback."""
    incident_ids = []
    for n in range(3):
        values = {
            "title": f"Incident {n}",
            "severity": "high",
            "platforms": rng.sample(PLATFORMS, rng.randint(0, 2)),
            "topics": rng.sample(TOPICS, rng.randint(0, 3)),
            "detected_at": now - timedelta(hours=rng.randint(1, 24 * 40)),
        }
        incident_ids.append((await incidents.create_incident(values=values, actor=ACTOR, now=now))["id"])
    member_ids = []
    for n in range(rng.randint(3, 9)):
        handles = [
            {"platform": p, "handle": f"m{n}{p}", "followers": rng.choice([None, 0, 12, 900, 15_000, 2_000_000])}
            for p in rng.sample(PLATFORMS, rng.randint(0, 3))
        ]
        values = {
            "name": f"Member {n}",
            "tier": rng.choice(["member", "member", "advocate", "champion"]),
            "consent_private_briefing": rng.random() < 0.85,
            "do_not_contact": rng.random() < 0.1,
            "handles": handles,
            "topics": rng.sample(TOPICS, rng.randint(0, 3)),
        }
        member_ids.append((await service.create_member(values=values, actor=ACTOR, now=now))["id"])
    for _ in range(rng.randint(0, 40)):
        values = {
            "member_id": rng.choice(member_ids),
            "platform": rng.choice(PLATFORMS),
            "kind": rng.choice(["post", "reply", "mention", "share"]),
            "sentiment": rng.choice(["positive", "positive", "neutral", "negative", "unknown"]),
            "troll": rng.random() < 0.1,
            "occurred_at": now - timedelta(minutes=rng.randint(0, 60 * 24 * 120)),
            "incident_id": rng.choice([None, None, *incident_ids]),
        }
        await interactions.log_interaction(values=values, actor=ACTOR, now=now)
    for iid in incident_ids:  # an approved version each, and briefings on it at random ages
        points = TalkingPoints(incident=iid, version=1, key=f"{iid}:1", points='["p"]', status="approved")
        points.approved_at = now
        await points.save().run()
        for member_id in rng.sample(member_ids, rng.randint(0, 3)):
            at = now - timedelta(days=rng.randint(0, 45))
            row = Briefing(member=member_id, incident=iid, talking_points=points.id, version=1, channel="dm")
            row.briefed_at = at
            await row.save().run()
    for member_id in rng.sample(member_ids, rng.randint(0, 3)):
        verdict = rng.choice(["accepted", "skipped", "bad_fit"])
        await briefings.give_feedback(
            incident_id=incident_ids[0], member_id=member_id, verdict=verdict, actor=ACTOR, now=now
        )
    if rng.random() < 0.3:
        await erase_member(member_id=rng.choice(member_ids), actor=ACTOR, now=now)
    return incident_ids


def shown(items) -> list[tuple]:
    return [(s.member_id, s.name, s.score, s.factors, s.reasons, s.preferred_handle, s.accepted) for s in items]


def left_out(excluded) -> list[tuple]:
    return sorted((e.member_id, e.name, e.reason, e.explanation) for e in excluded)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
async def test_the_sql_ranking_equals_the_python_ranking(pooled, clock, seed):
    await empty_all_tables()
    rng = random.Random(seed)
    now = clock()
    incident_ids = await build(rng, now)
    for iid in incident_ids:
        incident = await incident_queries.incident_or_404(iid)
        expected = await oracle.rank(incident, now=now, include_excluded=True)
        got = await suggestions.rank(incident, now=now, include_excluded=True)
        assert shown(got.items) == shown(expected.items)
        assert left_out(got.excluded) == left_out(expected.excluded)
        assert got.total == len(expected.items)
        for k in (1, 3):
            top = await suggestions.rank(incident, now=now, k=k)
            assert shown(top.items) == shown(expected.items[:k])
            assert top.total == len(expected.items) and top.excluded == []

        asked = [
            *rng.sample(
                sorted({s.member_id for s in expected.items} | {e.member_id for e in expected.excluded}),
                k=min(3, len(expected.items) + len(expected.excluded)),
            ),
            10**9,
        ]
        why = await suggestions.rank(incident, now=now, member_ids=asked)
        then = await oracle.rank(incident, now=now, member_ids=asked)
        assert shown(why.items) == shown(then.items)
        assert left_out(why.excluded) == left_out(then.excluded)
        positions = {s.member_id: n for n, s in enumerate(expected.items, 1)}
        assert why.positions == {m: positions[m] for m in asked if m in positions}
