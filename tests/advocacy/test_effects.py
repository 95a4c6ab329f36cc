"""Incident effects: the 60 whole UTC days before an incident's detection day against the 60 from it on."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from tests.conftest import START

DAY = timedelta(days=1)


def midnight(at: datetime) -> datetime:
    return datetime.combine(at.astimezone(UTC).date(), time(0), tzinfo=UTC)


async def test_before_and_after_rates_and_shares_use_whole_days(scene):
    detected = START - 100 * DAY
    d = midnight(detected)  # the detection day starts the "after" window, even before the detection time
    m = await scene.member("Ada")
    incident = await scene.incident("Wrong prices", detected_at=detected)
    await scene.brief(m, incident, detected + DAY)
    for at, sentiment, troll in [
        (d - 61 * DAY + timedelta(hours=23, minutes=59), "positive", False),  # a day too early
        (d - 60 * DAY, "positive", False),
        (d - 30 * DAY, "positive", False),
        (d - 20 * DAY, "positive", False),
        (d - timedelta(seconds=1), "negative", False),  # the last second before the detection day
        (d, "neutral", False),
        (d + 10 * DAY, "positive", False),
        (d + 20 * DAY, "positive", True),  # a troll
        (d + 60 * DAY - timedelta(seconds=1), "negative", False),
        (d + 60 * DAY, "positive", False),  # a day too late
    ]:
        await scene.interact(m, at, sentiment=sentiment, troll=troll)
    [effect] = (await scene.health(m)).incident_effects
    assert (effect.incident_id, effect.title, effect.detected_at, effect.briefed) == (
        incident,
        "Wrong prices",
        detected,
        True,
    )
    assert (effect.interactions_before, effect.interactions_after) == (4, 4)  # the troll counts as an interaction
    assert (effect.rate_before, effect.rate_after, effect.rate_change) == (2.0, 2.0, 0.0)
    assert effect.positive_share_before == 0.75
    assert effect.positive_share_after == pytest.approx(1 / 3, abs=1e-4)  # the troll is left out of sentiment
    assert effect.positive_share_change == pytest.approx(1 / 3 - 0.75, abs=1e-4)
    assert (effect.complete, effect.days_observed) == (True, 60)
    assert effect.summary == "2 \u2192 2 interactions per 30 days; positive 75% \u2192 33%."


async def test_the_after_window_is_incomplete_until_its_60th_day(scene, clock):
    detected = START - 10 * DAY
    m = await scene.member("Ada")
    incident = await scene.incident(detected_at=detected)
    await scene.brief(m, incident, detected)
    await scene.interact(m, detected - 5 * DAY, sentiment="negative")
    await scene.interact(m, detected + DAY)
    await scene.interact(m, detected + 5 * DAY)
    [effect] = (await scene.health(m)).incident_effects
    assert (effect.complete, effect.days_observed) == (False, 11)  # the detection day, 9 more, and today
    assert effect.rate_after == round(2 * 30 / 11, 2) and effect.rate_before == 0.5
    assert effect.rate_change == round(round(2 * 30 / 11, 2) - 0.5, 2)
    assert (effect.positive_share_before, effect.positive_share_after, effect.positive_share_change) == (0.0, 1.0, 1.0)
    assert effect.summary.endswith("(so far: 11 of 60 days after).")
    clock.at = midnight(detected) + 59 * DAY - timedelta(seconds=1)  # the 59th day's last second
    [effect] = (await scene.health(m)).incident_effects
    assert (effect.complete, effect.days_observed, effect.rate_after) == (False, 59, round(2 * 30 / 59, 2))
    clock.at = midnight(detected) + 59 * DAY  # the 60th day has begun: the window is all observed, as in engagement
    [effect] = (await scene.health(m)).incident_effects
    assert (effect.complete, effect.days_observed, effect.rate_after) == (True, 60, 1.0)


async def test_no_interactions_means_zero_rates_and_no_shares(scene):
    m = await scene.member("Ada")
    incident = await scene.incident(detected_at=START - 70 * DAY)
    await scene.brief(m, incident, START - 69 * DAY)
    [effect] = (await scene.health(m)).incident_effects
    assert (effect.rate_before, effect.rate_after, effect.rate_change) == (0.0, 0.0, 0.0)
    assert (effect.positive_share_before, effect.positive_share_after, effect.positive_share_change) == (
        None,
        None,
        None,
    )
    assert effect.summary == "0 \u2192 0 interactions per 30 days; positive \u2014 \u2192 \u2014."


async def test_only_their_incidents_newest_first_at_most_ten(scene):
    m = await scene.member("Ada")
    other = await scene.member("Bo")
    briefed = [await scene.incident(f"Briefed {n}", detected_at=START - (20 + n) * DAY) for n in range(11)]
    for incident in briefed:
        await scene.brief(m, incident, START - 10 * DAY)
    linked = await scene.incident("Linked", detected_at=START - 5 * DAY)
    await scene.interact(m, START - 4 * DAY, incident_id=linked)
    not_mine = await scene.incident("Someone else's", detected_at=START - 3 * DAY)
    await scene.brief(other, not_mine, START - 2 * DAY)
    future = await scene.incident("Not yet", detected_at=START + DAY)
    await scene.brief(m, future, START)
    effects = (await scene.health(m)).incident_effects
    assert [e.title for e in effects] == ["Linked"] + [f"Briefed {n}" for n in range(9)]
    assert [e.briefed for e in effects[:2]] == [False, True]
