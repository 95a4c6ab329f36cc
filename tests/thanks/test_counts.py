"""The nav badge's counts (thanks.queries.due_counts, one statement) equal the due queue itself on random data:
help by briefings and by supportive interactions (before and after detection, trolls, other sentiments), members
who are gone or must not be contacted, thank-yous (some deleted), dismissals, and "now" on both sides of due times."""

from __future__ import annotations

import random
from datetime import UTC, timedelta, timezone

import pytest

from crm.briefings.tables import Briefing
from crm.incidents.tables import Incident, TalkingPoints
from crm.members.tables import Interaction, Member
from crm.thanks import queries
from crm.thanks.tables import ThanksDismissal, ThankYou
from tests.conftest import START

ZONES = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]


async def random_world(rng: random.Random) -> None:
    members = []
    for n in range(8):
        gone = rng.random() < 0.25
        member = Member(
            name=f"Member {n}",
            do_not_contact=rng.random() < 0.15,
            deleted_at=START if gone and rng.random() < 0.5 else None,
            erased_at=START if gone and rng.random() < 0.5 else None,
        )
        await member.save().run()
        members.append(member.id)
    incidents = []
    for n in range(4):
        incident = Incident(
            title=f"Incident {n}", severity="high", detected_at=START - timedelta(days=rng.randint(0, 40))
        )
        await incident.save().run()
        points = TalkingPoints(incident=incident.id, version=1, key=f"{incident.id}:1", status="approved")
        await points.save().run()
        incidents.append((incident.id, incident.detected_at, points.id))
    for _ in range(rng.randint(0, 60)):
        incident_id, detected, _points = rng.choice(incidents)
        at = detected + timedelta(hours=rng.randint(-48, 24 * 30), microseconds=rng.choice([0, 1, 500_000]))
        await (
            Interaction(
                member=rng.choice(members),
                platform="x",
                kind=rng.choice(["reply", "comment", "share", "mention"]),
                occurred_at=at.astimezone(rng.choice(ZONES)),
                sentiment=rng.choice(["positive", "positive", "negative", "neutral"]),
                troll=rng.random() < 0.2,
                incident_id=rng.choice([incident_id, incident_id, None]),
            )
            .save()
            .run()
        )
    for _ in range(rng.randint(0, 10)):
        incident_id, detected, points_id = rng.choice(incidents)
        briefed = detected + timedelta(hours=rng.randint(0, 24 * 20))
        outcome = rng.choice(["helped", "helped", "sent", "declined"])
        await (
            Briefing(
                member=rng.choice(members),
                incident=incident_id,
                talking_points=points_id,
                version=1,
                channel="dm",
                briefed_at=briefed,
                outcome=outcome,
                outcome_at=rng.choice([None, briefed + timedelta(hours=rng.randint(1, 72))]),
            )
            .save()
            .run()
        )
    for _ in range(rng.randint(0, 4)):
        incident_id = rng.choice(incidents)[0]
        await (
            ThankYou(
                member=rng.choice(members),
                incident=incident_id,
                channel="dm",
                deleted_at=rng.choice([None, START]),
            )
            .save()
            .run()
        )
    for _ in range(rng.randint(0, 3)):
        member_id, incident_id = rng.choice(members), rng.choice(incidents)[0]
        key = f"{incident_id}:{member_id}"
        if not await ThanksDismissal.exists().where(ThanksDismissal.key == key).run():
            await ThanksDismissal(member=member_id, incident=incident_id, key=key, reason="no").save().run()


@pytest.mark.parametrize("seed", range(6))
async def test_the_badge_counts_equal_the_due_queue_on_random_data(engine, seed):
    rng = random.Random(seed)
    await random_world(rng)
    queue = await queries.due_items(now=START)
    assert seed > 0 or queue  # the data makes some thank-yous due (and the comparisons below mean something)
    # every due time, and a moment either side of it, as "now", plus times long before and after
    moments = [START - timedelta(days=400), START + timedelta(days=400)]
    for item in queue:
        moments += [item["due_at"], item["due_at"] - timedelta(microseconds=1), item["due_at"] + timedelta(seconds=1)]
    for now in moments:
        items = await queries.due_items(now=now)
        expected = {"due": len(items), "overdue": sum(1 for i in items if i["overdue"])}
        assert await queries.due_counts(now) == expected, now


async def test_the_badge_counts_exactly_at_the_due_time(engine):
    """Overdue flips strictly after due_at, on the microsecond (UTC text comparisons on SQLite)."""
    member = Member(name="Ann")
    await member.save().run()
    incident = Incident(title="Typo", severity="low", detected_at=START)
    await incident.save().run()
    helped = START + timedelta(hours=1, microseconds=250)
    await (
        Interaction(
            member=member.id,
            platform="x",
            kind="reply",
            occurred_at=helped,
            sentiment="positive",
            incident_id=incident.id,
        )
        .save()
        .run()
    )
    [item] = await queries.due_items(now=START)
    due_at = item["due_at"]
    assert await queries.due_counts(due_at) == {"due": 1, "overdue": 0}
    assert await queries.due_counts(due_at + timedelta(microseconds=1)) == {"due": 1, "overdue": 1}
    assert await queries.due_counts((due_at + timedelta(microseconds=1)).astimezone(ZONES[1])) == {
        "due": 1,
        "overdue": 1,
    }
    assert await queries.due_counts(due_at - timedelta(days=1)) == {"due": 1, "overdue": 0}
