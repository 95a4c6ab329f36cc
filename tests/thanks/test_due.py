"""The due queue with an injected clock, on both engines: who is due (a helped briefing; positive, non-troll
interactions linked to the incident at or after detection) and who is not, helped_at and due_at from the setting,
overdue flipping exactly after due_at, most overdue first, the queue emptying as thank-yous are recorded, dismissing
with a reason (audited, roles), and the members who never appear (do-not-contact, deleted, erased, merged)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from crm.audit.service import Actor
from crm.preferences import service as preferences
from crm.thanks import queries
from tests.conftest import error
from tests.thanks.conftest import DETECTED, START, audit_entries, pairs


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
async def scene(world, users):
    iid = await world.incident("Misleading ad")
    ann = await world.member("Ann", tier="advocate")
    return {"iid": iid, "ann": ann}


async def test_a_helped_briefing_makes_a_thank_you_due(world, scene):
    world.clock.advance(hours=1)  # the outcome is recorded an hour after "START"
    await world.helped(scene["iid"], scene["ann"])
    [item] = await world.due()
    assert item["member_id"] == scene["ann"] and item["member_name"] == "Ann"
    assert item["incident_id"] == scene["iid"] and item["incident_title"] == "Misleading ad"
    assert at(item["helped_at"]) == START + timedelta(hours=1)  # when the outcome "helped" was recorded
    assert at(item["due_at"]) == START + timedelta(hours=1, days=2)  # thanks_due_days defaults to 2
    assert item["overdue"] is False
    assert item["reason"] == "helped on 2 Mar: briefed, outcome helped"


async def test_a_briefing_with_another_outcome_is_not_help(world, scene):
    await world.approve(scene["iid"], ["We are sorry"])
    briefing = await world.briefed(scene["iid"], scene["ann"])
    for outcome in ("acknowledged", "declined", "no_response"):
        r = await world.api.patch(f"/api/v1/briefings/{briefing['id']}", json={"outcome": outcome}, headers=world.h)
        assert r.status_code == 200
        assert await world.due() == []


async def test_supportive_interactions_after_detection_make_it_due_from_the_earliest(world, scene):
    await world.supportive(scene["ann"], scene["iid"], 3, after=timedelta(minutes=30))
    [item] = await world.due()
    assert at(item["helped_at"]) == DETECTED + timedelta(minutes=30)
    assert at(item["due_at"]) == DETECTED + timedelta(minutes=30, days=2)
    assert item["reason"] == "helped on 2 Mar: 3 supportive replies"


async def test_the_reason_names_each_kind_and_the_briefing(world, scene):
    await world.supportive(scene["ann"], scene["iid"], 2, kind="reply")
    await world.supportive(scene["ann"], scene["iid"], 1, kind="share", after=timedelta(minutes=10))
    await world.helped(scene["iid"], scene["ann"])
    [item] = await world.due()
    assert at(item["helped_at"]) == DETECTED + timedelta(minutes=10)  # the share came first
    assert item["reason"] == (
        "helped on 2 Mar: briefed, outcome helped; 3 supportive interactions (2 replies, 1 share)"
    )


async def test_interactions_that_are_not_help_do_not_count(world, scene):
    ann, iid = scene["ann"], scene["iid"]
    other = await world.incident("Another incident")
    await world.interaction(ann, at=DETECTED - timedelta(minutes=1), sentiment="positive", incident_id=iid)  # before
    await world.interaction(ann, at=DETECTED + timedelta(hours=1), sentiment="negative", incident_id=iid)
    await world.interaction(ann, at=DETECTED + timedelta(hours=1), sentiment="neutral", incident_id=iid)
    await world.interaction(ann, at=DETECTED + timedelta(hours=1), sentiment="positive", incident_id=iid, troll=True)
    await world.interaction(ann, at=DETECTED + timedelta(hours=1), sentiment="positive")  # not linked
    assert await world.due() == []
    # Exactly at detection counts, and only for the incident it is linked to.
    await world.interaction(ann, at=DETECTED, sentiment="positive", incident_id=other)
    assert pairs(await world.due()) == [(ann, other)]


async def test_due_at_follows_the_setting(world, scene):
    await world.supportive(scene["ann"], scene["iid"])
    await preferences.update(values={"thanks_due_days": 5}, actor=Actor.system("test"), now=START)
    [item] = await world.due()
    assert at(item["due_at"]) == at(item["helped_at"]) + timedelta(days=5)
    await preferences.update(values={"thanks_due_days": 0}, actor=Actor.system("test"), now=START)
    [item] = await world.due()
    assert at(item["due_at"]) == at(item["helped_at"]) and item["overdue"] is True
    assert await queries.due_counts(START) == {"due": 1, "overdue": 1}


async def test_overdue_flips_exactly_after_due_at(world, scene):
    await world.supportive(scene["ann"], scene["iid"])
    [item] = await world.due()
    due_at = at(item["due_at"])
    world.clock.at = due_at
    [item] = await world.due()
    assert item["overdue"] is False
    assert await queries.due_counts(world.clock()) == {"due": 1, "overdue": 0}
    world.clock.advance(seconds=1)
    [item] = await world.due()
    assert item["overdue"] is True
    assert await queries.due_counts(world.clock()) == {"due": 1, "overdue": 1}


async def test_the_queue_is_most_overdue_first(world, scene):
    iid = scene["iid"]
    ben, cat = await world.member("Ben"), await world.member("Cat")
    second = await world.incident("Second incident", detected_at=START - timedelta(days=6))
    await world.supportive(scene["ann"], iid, after=timedelta(minutes=50))  # helped most recently
    await world.supportive(ben, iid, after=timedelta(minutes=5))
    await world.interaction(cat, at=START - timedelta(days=5), sentiment="positive", incident_id=second)
    world.clock.advance(days=3)
    items = await world.due()
    assert pairs(items) == [(cat, second), (ben, iid), (scene["ann"], iid)]
    assert [i["overdue"] for i in items] == [True, True, True]
    due = [at(i["due_at"]) for i in items]
    assert due == sorted(due)


async def test_the_queue_empties_as_thank_yous_are_recorded(world, scene):
    iid = scene["iid"]
    ben = await world.member("Ben")
    await world.supportive(scene["ann"], iid)
    await world.supportive(ben, iid)
    assert len(await world.due()) == 2
    r = await world.thank(scene["ann"], iid)
    assert r.status_code == 201
    assert pairs(await world.due()) == [(ben, iid)]
    r = await world.thank(ben)  # a thank-you for no incident does not clear the incident's item
    assert r.status_code == 201
    assert pairs(await world.due()) == [(ben, iid)]
    r = await world.thank(ben, iid)
    assert await world.due() == []
    # More help after the thank-you does not make it due again: they were thanked for this incident.
    await world.supportive(ben, iid, after=timedelta(hours=1, minutes=30))
    assert await world.due() == []


async def test_dismissing_removes_the_item_with_an_audited_reason(world, scene, users):
    iid, ann = scene["iid"], scene["ann"]
    await world.supportive(ann, iid)
    r = await world.dismiss(ann, iid, "  Prefers no contact  ")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["reason"] == "Prefers no contact" and body["dismissed_by_id"] == users["bob"]["id"]
    assert body["member_id"] == ann and body["incident_id"] == iid
    assert await world.due() == []
    [entry] = await audit_entries("thanks.dismiss")
    assert entry["record_id"] == f"{iid}:{ann}" and entry["after"]["reason"] == "Prefers no contact"
    r = await world.dismiss(ann, iid)  # nothing due any more
    assert r.status_code == 409
    assert error(r)["fields"] == {"member_id": "not_due"}


async def test_dismissing_needs_a_reason_a_role_and_something_due(world, scene):
    iid, ann = scene["iid"], scene["ann"]
    await world.supportive(ann, iid)
    for reason in ("", "   ", "x" * 501):
        r = await world.dismiss(ann, iid, reason)
        assert r.status_code == 422
        assert "reason" in error(r)["fields"]
    for who in ("carol", "dave"):
        r = await world.dismiss(ann, iid, who=who)
        assert r.status_code == 403
    r = await world.api.post(
        "/api/v1/thank-yous/due/dismiss", json={"member_id": ann, "incident_id": iid}, headers=world.h
    )
    assert r.status_code == 422 and "reason" in error(r)["fields"]
    assert len(await world.due()) == 1
    assert await audit_entries("thanks.dismiss") == []
    r = await world.dismiss(999_999, iid)
    assert r.status_code == 404
    r = await world.dismiss(ann, 999_999)
    assert r.status_code == 404
    ben = await world.member("Ben")  # never helped
    r = await world.dismiss(ben, iid)
    assert r.status_code == 409


async def test_members_who_must_not_be_contacted_or_are_gone_never_appear(world, scene):
    iid = scene["iid"]
    dnc = await world.member("Dnc", do_not_contact=True)
    gone, erased, dup = await world.member("Gone"), await world.member("Erased"), await world.member("Dup")
    for member in (scene["ann"], dnc, gone, erased, dup):
        await world.supportive(member, iid)
    assert len(await world.due()) == 5 - 1  # do-not-contact never appears
    assert (await world.api.delete(f"/api/v1/members/{gone}", headers=world.h)).status_code in (200, 204)
    assert (await world.api.post(f"/api/v1/members/{erased}/erase", headers=world.auth["alice"])).status_code == 200
    r = await world.api.post("/api/v1/members/merge", json={"keep": scene["ann"], "merge": dup}, headers=world.h)
    assert r.status_code == 200, r.text
    items = await world.due()
    assert pairs(items) == [(scene["ann"], iid)]  # the merged member's help now counts for Ann
    assert await queries.due_counts(START) == {"due": 1, "overdue": 0}
    # Marking someone do-not-contact takes them out of the queue at once.
    r = await world.api.patch(f"/api/v1/members/{scene['ann']}", json={"do_not_contact": True}, headers=world.h)
    assert r.status_code == 200, r.text
    assert await world.due() == []


async def test_every_role_reads_the_queue_and_anonymous_callers_cannot(world, scene):
    await world.supportive(scene["ann"], scene["iid"])
    for who in ("alice", "bob", "carol", "dave"):
        assert len(await world.due(who)) == 1
    r = await world.api.get("/api/v1/thank-yous/due")
    assert r.status_code == 401


async def test_the_reason_shows_the_year_of_an_old_help(world, users):
    iid = await world.incident("Old incident", detected_at=START - timedelta(days=400))
    ann = await world.member("Ann")
    await world.interaction(ann, at=START - timedelta(days=399), sentiment="positive", incident_id=iid)
    [item] = await world.due()
    assert item["reason"] == "helped on 27 Jan 2025: 1 supportive reply"
    assert item["overdue"] is True
