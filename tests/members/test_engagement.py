"""Engagement against hand-computed values at fixed times: score, windows, first/last, usual gap,
sentiment shares, trend, reach and activity states; and the list's state filter agrees with each member's."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from crm.audit.service import Actor
from crm.members import engagement, interactions, read, service
from crm.members.engagement import KIND_WEIGHTS
from crm.members.tables import Member
from tests.members.test_api import walk

ACTOR = Actor.system("test")
UTC = UTC
DAY = timedelta(days=1)


@pytest.fixture
def people(engine, clock):
    """Helpers bound to the test's clock: add(name) -> id, hit(id, at, ...), eng(id) -> Engagement."""

    class People:
        async def add(self, name: str, **values) -> int:
            created = await service.create_member(values={"name": name, **values}, actor=ACTOR, now=clock())
            return created["id"]

        async def hit(
            self, member_id: int, at: datetime, kind: str = "comment", sentiment: str = "unknown", troll: bool = False
        ) -> dict:
            row, created = await interactions.log_interaction(
                values={
                    "member_id": member_id,
                    "platform": "x",
                    "kind": kind,
                    "sentiment": sentiment,
                    "troll": troll,
                    "occurred_at": at,
                },
                actor=ACTOR,
                now=clock(),
            )
            assert created
            return row

        async def eng(self, member_id: int) -> engagement.Engagement:
            return (await read.member_with_engagement(member_id, clock()))[1]

    return People()


async def test_it_scores_each_kind_by_its_weight(people, clock):
    expected = {
        "post": 3,
        "review": 3,
        "event": 3,
        "share": 2,
        "comment": 2,
        "reply": 1.5,
        "dm": 1.5,
        "mention": 1,
        "other": 1,
    }
    assert KIND_WEIGHTS == expected
    for kind, weight in expected.items():
        member_id = await people.add(f"Only a {kind}")
        await people.hit(member_id, clock(), kind=kind)
        assert (await people.eng(member_id)).score == weight, kind


async def test_it_halves_the_score_every_30_days_exactly_at_read_time(people, clock):
    now = clock()
    member_id = await people.add("Jane")
    await people.hit(member_id, now - timedelta(days=60), kind="comment")  # 2 * 1/4 = 0.5
    await people.hit(member_id, now, kind="post")  # 3
    await people.hit(member_id, now - timedelta(days=30), kind="mention")  # 1 * 1/2 = 0.5
    await people.hit(member_id, now - timedelta(days=15), kind="reply")  # 1.5 * 2 ** -0.5
    expected = 3 + 0.5 + 0.5 + 1.5 * 2**-0.5
    assert (await people.eng(member_id)).score == round(expected, 4) == 5.0607
    stored = await Member.select(Member.score_log2).where(Member.id == member_id).first().run()
    assert math.isclose(engagement.score_at(stored["score_log2"], now), expected, rel_tol=1e-12)
    clock.advance(days=30)  # nothing written: the same stored state reads half as much a month later
    assert (await people.eng(member_id)).score == round(expected / 2, 4)
    clock.advance(days=45)
    assert math.isclose(engagement.score_at(stored["score_log2"], clock()), expected * 2**-2.5, rel_tol=1e-12)
    assert (await people.eng(await people.add("Nobody"))).score == 0.0


async def test_it_counts_windows_of_utc_days_and_first_and_last(people, clock):
    # now is 2026-03-02 09:30 UTC: the 7-day window starts 2026-02-24, 30 days 2026-02-01,
    # 90 days 2025-12-03, 365 days 2025-03-03.
    member_id = await people.add("Jane")
    at = [
        datetime(2026, 3, 2, 8, 0, tzinfo=UTC),  # 7
        datetime(2026, 2, 24, 0, 0, tzinfo=UTC),  # 7 (first day of the window)
        datetime.fromisoformat("2026-02-24T00:59:59+01:00"),  # 2026-02-23 23:59:59 UTC: 30
        datetime(2026, 2, 1, 0, 0, tzinfo=UTC),  # 30
        datetime(2026, 1, 31, 23, 59, tzinfo=UTC),  # 90
        datetime(2025, 12, 3, 0, 0, tzinfo=UTC),  # 90
        datetime(2025, 12, 2, 12, 0, tzinfo=UTC),  # 365
        datetime(2025, 3, 3, 0, 0, tzinfo=UTC),  # 365
        datetime(2025, 3, 2, 23, 0, tzinfo=UTC),  # older than a year
    ]
    for moment in at:
        await people.hit(member_id, moment)
    e = await people.eng(member_id)
    assert (e.interactions_7d, e.interactions_30d, e.interactions_90d, e.interactions_365d) == (2, 4, 6, 8)
    assert e.first_interaction_at == datetime(2025, 3, 2, 23, 0, tzinfo=UTC)
    assert e.last_interaction_at == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    # The next day, the oldest day of each window drops out.
    clock.advance(days=1)
    e = await people.eng(member_id)
    assert (e.interactions_7d, e.interactions_30d, e.interactions_90d, e.interactions_365d) == (1, 3, 5, 7)


async def test_it_keeps_the_usual_gap_as_the_mean_time_between_interactions(people, clock):
    now = clock()
    member_id = await people.add("Jane")
    await people.hit(member_id, now - timedelta(days=10))
    assert (await people.eng(member_id)).usual_gap_days is None  # one interaction: no gap yet
    await people.hit(member_id, now)
    await people.hit(member_id, now - timedelta(days=6))  # logged out of order
    assert (await people.eng(member_id)).usual_gap_days == 5.0  # 10 days over 2 gaps
    await people.hit(member_id, now - timedelta(days=10, hours=12))
    assert (await people.eng(member_id)).usual_gap_days == 3.5  # 10.5 days over 3 gaps


async def test_it_shares_positive_and_negative_over_90_days_leaving_out_unknown_and_trolls(people, clock):
    now = clock()
    member_id = await people.add("Jane")
    assert (await people.eng(member_id)).positive_share_90d is None
    for sentiment in ("positive", "positive", "negative", "neutral", "unknown"):
        await people.hit(member_id, now - timedelta(days=5), sentiment=sentiment)
    await people.hit(member_id, now - timedelta(days=5), sentiment="positive", troll=True)
    for _ in range(3):
        await people.hit(member_id, now - timedelta(days=100), sentiment="negative")  # outside 90 days
    e = await people.eng(member_id)
    assert (e.positive_share_90d, e.negative_share_90d) == (0.5, 0.25)
    only_unknown = await people.add("Quiet type")
    await people.hit(only_unknown, now, sentiment="unknown")
    e = await people.eng(only_unknown)
    assert (e.positive_share_90d, e.negative_share_90d) == (None, None)


@pytest.mark.parametrize(
    "last_30, previous_30, trend", [(2, 1, "up"), (1, 3, "down"), (2, 2, "flat"), (0, 0, "flat"), (0, 1, "down")]
)
async def test_it_compares_the_last_30_days_with_the_30_before(people, clock, last_30, previous_30, trend):
    now = clock()
    member_id = await people.add("Jane")
    for n in range(last_30):
        await people.hit(member_id, now - timedelta(days=1 + n))
    for n in range(previous_30):
        await people.hit(member_id, now - timedelta(days=40 + n))
    await people.hit(member_id, now - timedelta(days=75))  # before both: never counts
    assert (await people.eng(member_id)).trend == trend


async def test_it_sums_followers_as_reach_and_follows_handle_changes(api, clock):
    response = await api.post(
        "/api/v1/members",
        json={
            "name": "Jane",
            "handles": [
                {"platform": "x", "handle": "jane", "followers": 100},
                {"platform": "youtube", "handle": "jane", "followers": 50},
                {"platform": "reddit", "handle": "jane"},
            ],
        },
    )
    member = response.json()
    assert member["engagement"]["reach"] == 150
    response = await api.patch(
        f"/api/v1/members/{member['id']}",
        json={
            "handles": [
                {"platform": "x", "handle": "jane", "followers": 10},
                {"platform": "reddit", "handle": "jane", "followers": 7},
            ]
        },
    )
    assert response.status_code == 200
    assert response.json()["engagement"]["reach"] == 17
    items = (await api.get("/api/v1/members", params={"sort": "reach"})).json()["items"]
    assert [(i["id"], i["reach"]) for i in items] == [(member["id"], 17)]
    response = await api.patch(f"/api/v1/members/{member['id']}", json={"handles": []})
    assert response.json()["engagement"]["reach"] == 0


async def _states_scenario(people, now) -> dict[str, tuple[int, str]]:
    """name -> (member id, the state it is in at ``now``), each built by hand."""
    made = {}

    async def member(name: str, state: str, times: list[timedelta]) -> None:
        member_id = await people.add(name)
        for ago in times:
            await people.hit(member_id, now - ago)
        made[name] = (member_id, state)

    await member("never", "inactive", [])
    await member("gone 181 days", "inactive", [timedelta(days=200), timedelta(days=181)])
    await member("new, 10 days", "new", [timedelta(days=10)])
    await member("new despite a long silence since", "new", [timedelta(days=29), timedelta(days=28)])
    await member("new, exactly 30 days", "new", [timedelta(days=30)])
    await member("weekly, last 3 days ago", "active", [timedelta(days=3 + 7 * n) for n in range(12)])
    await member("monthly, last 20 days ago", "active", [timedelta(days=20 + 30 * n) for n in range(6)])
    await member("one, 100 days ago", "active", [timedelta(days=100)])
    # Every 2 days, but silent for 10 days: more than twice the usual gap.
    await member("silent past twice the gap", "going_quiet", [timedelta(days=10 + 2 * n) for n in range(26)])
    # Daily for 20 days half a year ago, then once 5 days ago: usual gap 9.75 days (about 3 a month),
    # not silent for twice that yet, but 1 interaction in 30 days is under half the usual rate.
    await member("rate halved", "going_quiet", [timedelta(days=200 - n) for n in range(20)] + [timedelta(days=5)])
    # Usual gap 7.5 days (4 a month) and 2 in the last 30 days: exactly half the usual rate.
    await member(
        "rate exactly halved",
        "going_quiet",
        [timedelta(days=3), timedelta(days=10)] + [timedelta(days=31 + 47 * n / 8) for n in range(9)],
    )
    # Twice the gap (4 days) exactly reached, not passed.
    await member(
        "at twice the gap exactly", "active", [timedelta(days=4)] + [timedelta(days=4 + 2 * n) for n in range(1, 20)]
    )
    await member("exactly 180 days", "going_quiet", [timedelta(days=180), timedelta(days=181)])
    return made


async def test_it_works_out_each_activity_state(people, clock):
    made = await _states_scenario(people, clock())
    for name, (member_id, state) in made.items():
        assert (await people.eng(member_id)).state == state, name


async def test_it_filters_the_list_by_state_exactly_as_each_member_reports_it(api, people, clock):
    made = await _states_scenario(people, clock())
    for moment in range(4):  # now, and as time passes with nothing new logged
        states = {}
        for member_id, _ in made.values():
            response = await api.get(f"/api/v1/members/{member_id}")
            states[member_id] = response.json()["engagement"]["state"]
        listed = {}
        for state in ("new", "active", "going_quiet", "inactive"):
            for item in await walk(api, "/api/v1/members", limit=200, state=state):
                assert item["id"] not in listed, "a member listed under two states"
                assert item["state"] == state
                listed[item["id"]] = state
        assert listed == states, clock()
        if moment == 0:
            assert set(states.values()) == {"new", "active", "going_quiet", "inactive"}
            assert states == {member_id: state for member_id, state in made.values()}
        clock.advance(days=[3, 11, 170][moment] if moment < 3 else 0)
