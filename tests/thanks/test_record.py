"""Recording a thank-you through the JSON API: the happy path with its audit entry, the message from the channel's
template, gifts as whole cents, sent_at in the past but never the future, and every refusal (do-not-contact 409,
bad fields 422 naming the field, missing or gone members 404, wrong incident or briefing 422, roles 403).
Both engines."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm.audit.tables import AuditEntry
from crm.thanks.tables import ThankYou
from tests.conftest import error
from tests.thanks.conftest import START, audit_entries


@pytest.fixture
async def scene(world, users):
    iid = await world.incident("Misleading ad")
    ann = await world.member("Ann", tier="advocate")
    return {"iid": iid, "ann": ann}


async def count() -> int:
    return await ThankYou.count().run()


async def test_it_records_a_thank_you_with_its_audit_entry(world, scene, users):
    r = await world.thank(scene["ann"], scene["iid"], channel="email", gift="Lounge pass", gift_value=19.99)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["member_id"] == scene["ann"] and body["member_name"] == "Ann"
    assert body["incident_id"] == scene["iid"] and body["incident_title"] == "Misleading ad"
    assert body["briefing_id"] is None and body["channel"] == "email"
    assert body["gift"] == "Lounge pass" and body["gift_value"] == 19.99 and body["gift_value_cents"] == 1999
    assert body["sent_by_id"] == users["bob"]["id"]
    assert body["sent_at"].startswith("2026-03-02T09:30:00")  # defaults to now (the frozen clock)
    # No message sent: the email template, filled in.
    assert "Hi Ann" in body["message"] and "Misleading ad" in body["message"]
    assert "{member_name}" not in body["message"] and "{incident_title}" not in body["message"]
    [entry] = await audit_entries("thanks.create")
    assert entry["record_id"] == str(body["id"]) and entry["actor"] == users["bob"]["id"]
    assert entry["after"]["member"] == scene["ann"] and entry["after"]["gift_value_cents"] == 1999
    r = await world.api.get(f"/api/v1/thank-yous/{body['id']}", headers=world.auth["dave"])
    assert r.status_code == 200 and r.json()["message"] == body["message"]


async def test_it_keeps_the_message_given_and_allows_no_incident(world, scene):
    r = await world.thank(scene["ann"], message="  Thanks for the kind words!  ", channel="public_reply")
    assert r.status_code == 201, r.text
    assert r.json()["message"] == "Thanks for the kind words!" and r.json()["incident_id"] is None


async def test_a_sent_at_in_the_past_is_kept_and_one_in_the_future_refused(world, scene):
    earlier = START - timedelta(days=3)
    r = await world.thank(scene["ann"], scene["iid"], sent_at=earlier.isoformat())
    assert r.status_code == 201, r.text
    assert r.json()["sent_at"].startswith("2026-02-27T09:30:00")
    r = await world.thank(scene["ann"], scene["iid"], sent_at=(START + timedelta(minutes=1)).isoformat())
    assert r.status_code == 422
    assert "future" in error(r)["fields"]["sent_at"]
    r = await world.thank(scene["ann"], scene["iid"], sent_at="2026-03-01T10:00:00")  # no time zone
    assert r.status_code == 422 and "sent_at" in error(r)["fields"]
    assert await count() == 1


@pytest.mark.parametrize(
    "value, cents", [(25, 2500), (19.99, 1999), (0.1, 10), (0, 0), (12.3, 1230), (0.29, 29), (1_000_000, 100_000_000)]
)
async def test_gift_values_are_stored_as_whole_cents(world, scene, value, cents):
    r = await world.thank(scene["ann"], scene["iid"], gift="T-shirt", gift_value=value)
    assert r.status_code == 201, r.text
    assert r.json()["gift_value_cents"] == cents
    row = await ThankYou.select(ThankYou.gift_value_cents).first().run()
    assert row["gift_value_cents"] == cents


@pytest.mark.parametrize(
    "value, words",
    [
        (-1, "negative"),
        (-0.01, "negative"),
        (12.345, "two decimals"),
        (0.001, "two decimals"),
        (1e300, "At most"),
        (1_000_000.01, "At most"),
        ("NaN", "amount"),
        ("Infinity", "amount"),
        ("twelve", "float"),
    ],
)
async def test_bad_gift_values_are_refused(world, scene, value, words):
    r = await world.thank(scene["ann"], scene["iid"], gift="T-shirt", gift_value=value)
    assert r.status_code == 422, r.text
    assert words in error(r)["fields"]["gift_value"]
    assert await count() == 0


async def test_a_huge_json_number_is_refused_not_a_server_error(world, scene):
    raw = f'{{"member_id": {scene["ann"]}, "channel": "dm", "gift": "Jet", "gift_value": 1e400}}'
    r = await world.api.post("/api/v1/thank-yous", content=raw, headers={**world.h, "Content-Type": "application/json"})
    assert r.status_code in (400, 422), r.text  # beyond a double: the body cannot be read as a number at all
    assert error(r)["code"] in ("bad_request", "invalid_input")
    assert await count() == 0


@pytest.mark.parametrize(
    "body, field",
    [
        ({"channel": "carrier_pigeon"}, "channel"),
        ({"message": "x" * 5_001}, "message"),
        ({"gift": "x" * 201}, "gift"),
        ({"gift_value": 10}, "gift"),  # a value needs a gift to describe
        ({"message": "nul \x00 here"}, "message"),
        ({"colour": "blue"}, "colour"),  # unknown fields are refused, named
        ({"gift_value": True}, "gift_value"),
        ({"channel": 7}, "channel"),
    ],
)
async def test_bad_fields_are_refused_with_422_naming_the_field(world, scene, body, field):
    r = await world.thank(scene["ann"], scene["iid"], **body)
    assert r.status_code == 422, r.text
    assert field in error(r)["fields"], r.text
    assert await count() == 0


async def test_a_do_not_contact_member_is_refused_with_409(world, scene):
    dnc = await world.member("Dnc", do_not_contact=True)
    r = await world.thank(dnc, scene["iid"])
    assert r.status_code == 409
    assert error(r)["fields"] == {"member_id": "do_not_contact"}
    assert await count() == 0
    assert not await AuditEntry.exists().where(AuditEntry.action == "thanks.create").run()


async def test_missing_or_gone_members_are_404(world, scene):
    gone = await world.member("Gone")
    r = await world.api.delete(f"/api/v1/members/{gone}", headers=world.h)
    assert r.status_code in (200, 204), r.text
    erased = await world.member("Erased")
    r = await world.api.post(f"/api/v1/members/{erased}/erase", headers=world.auth["alice"])
    assert r.status_code == 200, r.text
    kept, dup = await world.member("Kept"), await world.member("Dup")
    r = await world.api.post("/api/v1/members/merge", json={"keep": kept, "merge": dup}, headers=world.h)
    assert r.status_code == 200, r.text
    for member_id in (gone, erased, dup, 999_999, 2**40):
        r = await world.thank(member_id, scene["iid"])
        assert r.status_code == 404, (member_id, r.text)
        assert error(r)["code"] == "not_found"
    assert await count() == 0


async def test_a_missing_incident_or_briefing_is_refused_naming_the_field(world, scene):
    r = await world.thank(scene["ann"], 999_999)
    assert r.status_code == 422 and "incident_id" in error(r)["fields"]
    r = await world.thank(scene["ann"], scene["iid"], briefing_id=999_999)
    assert r.status_code == 422 and "briefing_id" in error(r)["fields"]
    r = await world.thank(scene["ann"], 2**40)
    assert r.status_code == 422 and "incident_id" in error(r)["fields"]
    assert await count() == 0


async def test_a_briefing_must_be_the_members_and_the_incidents(world, scene):
    ben = await world.member("Ben", tier="advocate", consent=True)
    other = await world.incident("Other incident")
    bens = await world.helped(scene["iid"], ben)
    anns = await world.helped(scene["iid"], scene["ann"])
    r = await world.thank(scene["ann"], scene["iid"], briefing_id=bens["id"])  # Ben's briefing
    assert r.status_code == 422 and "is not Ann's" in error(r)["fields"]["briefing_id"]
    r = await world.thank(scene["ann"], other, briefing_id=anns["id"])  # Ann's, but for another incident
    assert r.status_code == 422 and "another incident" in error(r)["fields"]["briefing_id"]
    assert await count() == 0
    # Without an incident, the briefing's own incident is used (and so the due item clears).
    r = await world.thank(scene["ann"], briefing_id=anns["id"])
    assert r.status_code == 201, r.text
    assert r.json()["incident_id"] == scene["iid"] and r.json()["briefing_id"] == anns["id"]


@pytest.mark.parametrize("who", ["carol", "dave"])
async def test_agents_and_viewers_cannot_record(world, scene, who):
    r = await world.thank(scene["ann"], scene["iid"], who=who)
    assert r.status_code == 403
    assert error(r)["code"] == "forbidden"
    assert await count() == 0


async def test_anyone_signed_in_reads_a_members_thank_yous(world, scene):
    first = (await world.thank(scene["ann"], scene["iid"], sent_at=(START - timedelta(days=1)).isoformat())).json()
    second = (await world.thank(scene["ann"], channel="public_reply")).json()
    r = await world.api.get(f"/api/v1/members/{scene['ann']}/thank-yous", headers=world.auth["dave"])
    assert r.status_code == 200
    assert [t["id"] for t in r.json()] == [second["id"], first["id"]]  # newest first
    r = await world.api.get("/api/v1/members/999999/thank-yous", headers=world.auth["dave"])
    assert r.status_code == 404
    r = await world.api.get(f"/api/v1/members/{scene['ann']}/thank-yous")
    assert r.status_code == 401


async def test_a_thank_you_recorded_in_error_is_removed_softly_and_the_help_is_due_again(world, scene):
    await world.supportive(scene["ann"], scene["iid"])
    made = (await world.thank(scene["ann"], scene["iid"])).json()
    assert await world.due() == []
    r = await world.api.delete(f"/api/v1/thank-yous/{made['id']}", headers=world.auth["carol"])
    assert r.status_code == 403
    r = await world.api.delete(f"/api/v1/thank-yous/{made['id']}", headers=world.h)
    assert r.status_code == 204, r.text
    assert await ThankYou.count().where(ThankYou.deleted_at.is_not_null()).run() == 1  # kept for the record
    assert [i["member_id"] for i in await world.due()] == [scene["ann"]]
    r = await world.api.get(f"/api/v1/members/{scene['ann']}/thank-yous", headers=world.h)
    assert r.json() == []
    assert (
        await AuditEntry.exists()
        .where((AuditEntry.action == "thanks.delete") & (AuditEntry.record_id == str(made["id"])))
        .run()
    )
    r = await world.api.delete(f"/api/v1/thank-yous/{made['id']}", headers=world.h)
    assert r.status_code == 404
