"""Each warning fires exactly at its boundary and not before; asks and thanks over 12 months."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from crm.advocacy import service
from tests.conftest import START

DAY = timedelta(days=1)


# ---- asked_without_thanks ----------------------------------------------------------------------------


async def test_two_asks_without_thanks_are_fine_and_the_third_warns(scene):
    m = await scene.active("Ada")
    incident = await scene.incident(detected_at=START - 40 * DAY)
    await scene.brief(m, incident, START - 30 * DAY)
    await scene.brief(m, incident, START - 20 * DAY)
    assert "asked_without_thanks" not in await scene.codes(m)
    await scene.brief(m, incident, START - 10 * DAY)
    [warning] = [w for w in (await scene.health(m)).warnings if w.code == "asked_without_thanks"]
    assert warning.message.startswith("Briefed 3 times and never thanked.")


async def test_a_thank_you_in_between_resets_the_count(scene):
    m = await scene.active("Ada")
    incident = await scene.incident(detected_at=START - 50 * DAY)
    for days in (45, 40):
        await scene.brief(m, incident, START - days * DAY)
    await scene.thank(m, START - 35 * DAY)
    for days in (30, 20):
        await scene.brief(m, incident, START - days * DAY)
    assert "asked_without_thanks" not in await scene.codes(m)  # four asks, but only two since the thank-you
    await scene.brief(m, incident, START - 10 * DAY)
    [warning] = [w for w in (await scene.health(m)).warnings if w.code == "asked_without_thanks"]
    assert warning.message.startswith("Briefed 3 times since their last thank-you on 26 Jan 2026.")


async def test_a_deleted_thank_you_does_not_reset_the_count(scene):
    m = await scene.active("Ada")
    incident = await scene.incident(detected_at=START - 50 * DAY)
    await scene.brief(m, incident, START - 45 * DAY)
    await scene.brief(m, incident, START - 40 * DAY)
    await scene.thank(m, START - 35 * DAY, deleted=True)
    await scene.brief(m, incident, START - 30 * DAY)
    health = await scene.health(m)
    assert "asked_without_thanks" in [w.code for w in health.warnings]
    assert health.last_thanked_at is None and health.thanks_12m == 0


async def test_a_thank_you_counts_from_the_moment_it_is_sent(scene, clock):
    m = await scene.active("Ada", until=START + 5 * DAY)
    incident = await scene.incident(detected_at=START - 50 * DAY)
    for days in (40, 30, 20):
        await scene.brief(m, incident, START - days * DAY)
    await scene.thank(m, START + 2 * DAY)  # recorded ahead of time: not sent yet at START
    assert "asked_without_thanks" in await scene.codes(m)
    clock.at = START + 2 * DAY - timedelta(seconds=1)
    assert "asked_without_thanks" in await scene.codes(m)
    clock.at = START + 2 * DAY
    assert "asked_without_thanks" not in await scene.codes(m)


# ---- stay_in_touch -----------------------------------------------------------------------------------


async def test_stay_in_touch_fires_at_60_days_without_contact_and_not_at_59(scene, clock):
    last_contact = START - 60 * DAY
    m = await scene.active("Ada", until=START - 2 * DAY)
    incident = await scene.incident(detected_at=last_contact - DAY)
    await scene.brief(m, incident, last_contact)
    clock.at = last_contact + 59 * DAY
    health = await scene.health(m)
    assert health.state == "active" and "stay_in_touch" not in [w.code for w in health.warnings]
    clock.at = last_contact + 60 * DAY - timedelta(seconds=1)
    assert "stay_in_touch" not in await scene.codes(m)
    clock.at = last_contact + 60 * DAY
    health = await scene.health(m)
    assert health.state == "active"
    [warning] = [w for w in health.warnings if w.code == "stay_in_touch"]
    assert warning.message == "Still active, but not briefed or thanked for 60 days (last on 1 Jan 2026)."


async def test_a_thank_you_is_contact_too(scene):
    m = await scene.active("Ada")
    await scene.thank(m, START - 59 * DAY)
    assert "stay_in_touch" not in await scene.codes(m)


async def test_never_contacted_active_and_new_members_are_warned(scene):
    active = await scene.active("Ada")
    new = await scene.member("Neo")
    await scene.interact(new, START - 10 * DAY)
    assert (await scene.health(new)).state == "new"
    for m in (active, new):
        [warning] = [w for w in (await scene.health(m)).warnings if w.code == "stay_in_touch"]
        assert "never briefed or thanked" in warning.message


async def test_inactive_and_going_quiet_members_get_no_stay_in_touch(scene):
    never = await scene.member("Nobody")  # no interactions at all: inactive
    gone = await scene.member("Gone")
    await scene.every(gone, first=START - 400 * DAY, last=START - 181 * DAY)
    quiet = await scene.member("Quiet")
    await scene.every(quiet, first=START - 150 * DAY, last=START - 60 * DAY)
    assert [(await scene.health(m)).state for m in (never, gone, quiet)] == ["inactive", "inactive", "going_quiet"]
    for m in (never, gone, quiet):
        assert "stay_in_touch" not in await scene.codes(m)


async def test_do_not_contact_members_get_no_stay_in_touch(scene):
    m = await scene.active("Ada", do_not_contact=True)
    health = await scene.health(m)
    assert health.state == "active" and health.warnings == []


# ---- quiet_after_incident ----------------------------------------------------------------------------


async def _quiet_member(scene) -> int:
    """Every 5 days from 150 to 60 days ago, then silence: going quiet, last interaction START - 60 days."""
    m = await scene.member("Quinn")
    await scene.every(m, first=START - 150 * DAY, last=START - 60 * DAY)
    assert (await scene.health(m)).state == "going_quiet"
    return m


async def test_going_quiet_after_a_briefed_incident_warns_with_the_incident(scene):
    m = await _quiet_member(scene)
    incident = await scene.incident("Price error <b>", detected_at=START - 90 * DAY)
    await scene.brief(m, incident, START - 89 * DAY)
    [warning] = [w for w in (await scene.health(m)).warnings if w.code == "quiet_after_incident"]
    assert warning.message == (
        "Going quiet since their last interaction on 1 Jan 2026, after being briefed on "
        "\u201cPrice error <b>\u201d (detected 2 Dec 2025)."
    )


async def test_going_quiet_without_a_briefing_does_not_warn(scene):
    m = await _quiet_member(scene)
    incident = await scene.incident(detected_at=START - 90 * DAY)
    await scene.interact(m, START - 85 * DAY, incident_id=incident)  # in the conversation, but never briefed
    assert "quiet_after_incident" not in await scene.codes(m)


async def test_an_incident_after_they_went_quiet_does_not_count(scene):
    m = await _quiet_member(scene)
    incident = await scene.incident(detected_at=START - 60 * DAY + timedelta(seconds=1))
    await scene.brief(m, incident, START - 59 * DAY)
    assert "quiet_after_incident" not in await scene.codes(m)
    at_last = await scene.incident("Same moment", detected_at=START - 60 * DAY)  # detected at their last interaction
    await scene.brief(m, at_last, START - 59 * DAY)
    assert "quiet_after_incident" in await scene.codes(m)


async def test_the_incident_must_be_detected_within_180_days(scene, clock):
    m = await scene.member("Quinn")
    await scene.every(m, first=START - 175 * DAY, last=START - 100 * DAY)
    incident = await scene.incident(detected_at=START - 180 * DAY)
    await scene.brief(m, incident, START - 170 * DAY)
    assert "quiet_after_incident" in await scene.codes(m)
    clock.advance(seconds=1)
    health = await scene.health(m)
    assert health.state == "going_quiet" and "quiet_after_incident" not in [w.code for w in health.warnings]


async def test_an_active_member_briefed_on_an_incident_is_not_quiet(scene):
    m = await scene.active("Ada")
    incident = await scene.incident(detected_at=START - 30 * DAY)
    await scene.brief(m, incident, START - 29 * DAY)
    assert await scene.codes(m) == []


# ---- asks and thanks over 12 months ------------------------------------------------------------------


async def test_asks_and_thanks_count_the_last_365_days_to_the_second(scene, clock):
    m = await scene.active("Ada")
    incident = await scene.incident(detected_at=START - 400 * DAY)
    await scene.brief(m, incident, START - 365 * DAY)
    await scene.brief(m, incident, START - 10 * DAY)
    await scene.thank(m, START - 365 * DAY)
    await scene.thank(m, START - 5 * DAY)
    await scene.thank(m, START - 2 * DAY, deleted=True)
    health = await scene.health(m)
    assert (health.asks_12m, health.thanks_12m) == (2, 2)
    assert health.last_briefed_at == START - 10 * DAY and health.last_thanked_at == START - 5 * DAY
    clock.advance(seconds=1)
    health = await scene.health(m)
    assert (health.asks_12m, health.thanks_12m) == (1, 1)


async def test_briefings_and_thank_yous_after_now_are_not_counted_yet(scene):
    m = await scene.active("Ada")
    incident = await scene.incident(detected_at=START - 10 * DAY)
    await scene.brief(m, incident, START + DAY)
    await scene.thank(m, START + DAY)
    health = await scene.health(m)
    assert (health.asks_12m, health.thanks_12m, health.last_briefed_at, health.last_thanked_at) == (0, 0, None, None)


# ---- review fixes ------------------------------------------------------------------------------------


async def test_asked_without_thanks_never_fires_for_do_not_contact_members(scene):
    """Their thank-you would be refused (409): a warning asking for one could never be acted on."""
    dnc = await scene.active("Dnc", do_not_contact=True)
    ada = await scene.active("Ada")
    incident = await scene.incident(detected_at=START - 40 * DAY)
    for m in (dnc, ada):
        for days in (30, 20, 10):
            await scene.brief(m, incident, START - days * DAY)
    assert "asked_without_thanks" not in await scene.codes(dnc)
    assert "asked_without_thanks" in await scene.codes(ada)  # the same asks warn for anyone else
    listed = {f.member_id: [w.code for w in f.warnings] for f in await service.supportive(scene.now())}
    assert listed[dnc] == [] and "asked_without_thanks" in listed[ada]


async def test_reason_dates_are_days_in_the_given_time_zone(scene):
    m = await scene.active("Ada")
    incident = await scene.incident(detected_at=START - 50 * DAY)
    await scene.thank(m, datetime(2026, 1, 25, 23, 30, tzinfo=UTC))  # 26 Jan 00:30 in Paris
    for days in (30, 20, 10):
        await scene.brief(m, incident, START - days * DAY)

    def reason(health) -> str:
        return next(w.message for w in health.warnings if w.code == "asked_without_thanks")

    assert "last thank-you on 25 Jan 2026." in reason(await service.health(m, scene.now()))
    paris = await service.health(m, scene.now(), ZoneInfo("Europe/Paris"))
    assert "last thank-you on 26 Jan 2026." in reason(paris)
    [row] = [f for f in await service.supportive(scene.now(), zone=ZoneInfo("Europe/Paris")) if f.member_id == m]
    assert "last thank-you on 26 Jan 2026." in reason(row)
