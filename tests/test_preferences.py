"""Admin preferences: typed defaults, validated updates (the key named on refusal, nothing stored),
audited, and only what was sent changes. On both engines."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm.audit.service import Actor
from crm.audit.tables import AuditEntry
from crm.errors import InvalidInput
from crm.preferences import queries, service
from crm.preferences.tables import AppSetting
from tests.conftest import START

DEFAULTS = {
    "ack_target_minutes.critical": 15,
    "ack_target_minutes.high": 60,
    "ack_target_minutes.medium": 240,
    "ack_target_minutes.low": 1440,
    "briefing_fatigue_incidents": 2,
    "two_person_approval": True,
    "thanks_due_days": 2,
    "faq_review_days": 90,
}


@pytest.fixture
async def admin(engine, users) -> Actor:
    return Actor(user_id=users["alice"]["id"], label="alice@example.com")


async def stored() -> dict:
    return {r["key"]: r["value"] for r in await AppSetting.select().where(AppSetting.key.like("pref:%")).run()}


async def settings_audit() -> list[dict]:
    return (
        await AuditEntry.select()
        .where(AuditEntry.action == "settings.update")
        .order_by(AuditEntry.id)
        .output(load_json=True)
        .run()
    )


async def test_the_defaults(engine):
    assert await queries.all_values() == DEFAULTS
    for key, value in DEFAULTS.items():
        assert await queries.get(key) == value
    assert await stored() == {}


async def test_an_update_changes_only_what_was_sent_and_is_audited(admin, users, clock):
    after = await service.update(values={"ack_target_minutes.high": "30"}, actor=admin, now=clock())
    assert after == {**DEFAULTS, "ack_target_minutes.high": 30}
    assert await queries.get("ack_target_minutes.high") == 30
    clock.advance(minutes=5)
    after = await service.update(
        values={"ack_target_minutes.low": 100, "two_person_approval": False}, actor=admin, now=clock()
    )
    assert after == {
        **DEFAULTS,
        "ack_target_minutes.high": 30,
        "ack_target_minutes.low": 100,
        "two_person_approval": False,
    }
    assert await queries.all_values() == after
    assert set(await stored()) == {
        "pref:ack_target_minutes.high",
        "pref:ack_target_minutes.low",
        "pref:two_person_approval",
    }
    entries = await settings_audit()
    assert len(entries) == 2
    assert [e["actor"] for e in entries] == [users["alice"]["id"]] * 2
    assert [e["at"] for e in entries] == [START, START + timedelta(minutes=5)]
    # The second entry shows the change from the first's result.
    before, last = entries[1]["before"], entries[1]["after"]
    assert before["ack_target_minutes.high"] == 30 and before["ack_target_minutes.low"] == 1440
    assert last["ack_target_minutes.low"] == 100 and last["two_person_approval"] is False
    # Saving the same values again changes nothing and records nothing.
    await service.update(values={"ack_target_minutes.low": 100}, actor=admin, now=clock())
    assert len(await settings_audit()) == 2


@pytest.mark.parametrize(
    "values, key",
    [
        ({"ack_target_minutes.high": "soon"}, "ack_target_minutes.high"),
        ({"ack_target_minutes.high": 12.5}, "ack_target_minutes.high"),
        ({"ack_target_minutes.high": "12.5"}, "ack_target_minutes.high"),
        ({"ack_target_minutes.high": True}, "ack_target_minutes.high"),
        ({"ack_target_minutes.high": None}, "ack_target_minutes.high"),
        ({"ack_target_minutes.critical": 0}, "ack_target_minutes.critical"),
        ({"ack_target_minutes.critical": -5}, "ack_target_minutes.critical"),
        ({"ack_target_minutes.low": 10_081}, "ack_target_minutes.low"),
        ({"two_person_approval": "maybe"}, "two_person_approval"),
        ({"ack_target_minutes.urgent": 5}, "ack_target_minutes.urgent"),
        ({"ack_target_minutes.high": 30, "colour": "red"}, "colour"),  # one bad key: nothing is stored
        ({"ack_target_minutes.high": 30, "ack_target_minutes.low": "x"}, "ack_target_minutes.low"),
    ],
)
async def test_bad_values_are_422_naming_the_key_and_store_nothing(admin, clock, values, key):
    with pytest.raises(InvalidInput) as refused:
        await service.update(values=values, actor=admin, now=clock())
    assert refused.value.status_code == 422
    assert key in refused.value.fields, refused.value.fields
    assert await stored() == {} and await settings_audit() == []
    assert await queries.all_values() == DEFAULTS


async def test_the_limits_themselves_are_accepted(admin, clock):
    after = await service.update(
        values={
            "ack_target_minutes.critical": 1,
            "ack_target_minutes.low": 10_080,
            "ack_target_minutes.high": " 45 ",
            "ack_target_minutes.medium": 90.0,
        },
        actor=admin,
        now=clock(),
    )
    assert after["ack_target_minutes.critical"] == 1 and after["ack_target_minutes.low"] == 10_080
    assert after["ack_target_minutes.high"] == 45 and after["ack_target_minutes.medium"] == 90


async def test_the_switch_reads_form_values(admin, clock):
    for raw, value in [
        ("", False),
        ("on", True),
        ("off", False),
        ("true", True),
        ("0", False),
        (1, True),
        (False, False),
        (True, True),
    ]:
        after = await service.update(values={"two_person_approval": raw}, actor=admin, now=clock())
        assert after["two_person_approval"] is value, raw
        assert await queries.get("two_person_approval") is value


async def test_a_stored_value_the_page_could_not_have_saved_reads_as_the_default(engine):
    await AppSetting.insert(
        AppSetting(key="pref:thanks_due_days", value="soon"),  # not JSON
        AppSetting(key="pref:two_person_approval", value="0"),  # a number where a switch is kept
    ).run()
    assert await queries.get("thanks_due_days") == 2
    assert await queries.get("two_person_approval") is True
    assert await queries.all_values() == DEFAULTS
