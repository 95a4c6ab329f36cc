"""Briefing members through the JSON API: the composed brief, every refusal (409/404/422/403), outcomes
with evidence, who may do what, and the incident's figures. Both engines."""

from __future__ import annotations

from datetime import datetime, timedelta

from crm.audit.tables import AuditEntry
from crm.briefings import queries
from crm.briefings.tables import Briefing
from crm.incidents import queries as incident_queries
from tests.conftest import START, error

POINTS = ["We are sorry.", "Refunds go out today."]
BRIEFING_KEYS = {
    "id",
    "member_id",
    "incident_id",
    "talking_points_version",
    "channel",
    "note",
    "briefed_at",
    "briefed_by_id",
    "outcome",
    "evidence_interaction_ids",
    "message",
}


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def entries(action: str) -> list[dict]:
    return (
        await AuditEntry.select()
        .where(AuditEntry.action == action)
        .order_by(AuditEntry.id)
        .output(load_json=True)
        .run()
    )


async def test_a_brief_is_composed_from_the_approved_points(world, users):
    iid = await world.incident("Misleading ad", platforms=["x"])
    ann = await world.member("Ann", handles={"instagram": 5_000, "x": 300})  # her handle on the affected platform
    plain = await world.member("Plain")
    await world.approve(iid, POINTS, avoid=["Blame the agency"], links=["https://example.com/statement"])

    r = await world.brief(iid, ann, "email", note="She asked for news.")
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == BRIEFING_KEYS
    assert (
        body["member_id"],
        body["incident_id"],
        body["talking_points_version"],
        body["channel"],
        body["note"],
        body["outcome"],
        body["evidence_interaction_ids"],
        body["briefed_by_id"],
    ) == (ann, iid, 1, "email", "She asked for news.", "sent", [], users["bob"]["id"])
    assert at(body["briefed_at"]) == START
    message = body["message"]
    assert message.startswith("Hi Ann (@ann_x),\n")
    assert '"Misleading ad"' in message
    assert "1. We are sorry.\n2. Refunds go out today." in message
    assert "Please don't:\n- Blame the agency" in message
    assert "- https://example.com/statement" in message

    plain_brief = await world.briefed(iid, plain, "phone")
    assert plain_brief["message"].startswith("Hi Plain,\n")  # no handle: just the name
    assert "Please don't" in plain_brief["message"]

    stored = await Briefing.select().where(Briefing.id == body["id"]).first().run()
    assert stored["message"] == message and stored["version"] == 1  # exactly what they were told
    [entry, _] = await entries("briefing.create")
    assert entry["record_id"] == str(body["id"]) and entry["actor"] == users["bob"]["id"]
    assert entry["after"] == {"incident": iid, "member": ann, "version": 1, "channel": "email"}

    for who in ("alice", "bob", "carol", "dave"):  # everyone signed in may read the list
        r = await world.api.get(f"/api/v1/incidents/{iid}/briefings", headers=world.auth[who])
        assert r.status_code == 200, r.text
        assert [(b["member_id"], b["channel"]) for b in r.json()] == [(ann, "email"), (plain, "phone")]
    assert (await world.api.get(f"/api/v1/incidents/{iid}/briefings")).status_code == 401
    r = await world.api.get("/api/v1/incidents/9999/briefings", headers=world.h)
    assert r.status_code == 404 and error(r)["code"] == "not_found"


async def test_no_brief_without_approved_talking_points(world):
    iid = await world.incident()
    ann = await world.member("Ann")
    r = await world.brief(iid, ann)
    assert r.status_code == 409 and error(r)["code"] == "conflict"
    assert "No talking points are approved" in error(r)["message"]
    r = await world.api.post(f"/api/v1/incidents/{iid}/talking-points", json={"points": POINTS}, headers=world.h)
    assert r.status_code == 201  # a draft is not enough
    r = await world.brief(iid, ann)
    assert r.status_code == 409 and "No talking points are approved" in error(r)["message"]
    assert await Briefing.count().run() == 0
    assert await entries("briefing.create") == []


async def test_do_not_contact_is_refused(world):
    iid = await world.incident()
    dnc = await world.member("Dnc", do_not_contact=True)
    await world.approve(iid, POINTS)
    r = await world.brief(iid, dnc)
    assert r.status_code == 409
    assert error(r)["fields"] == {"member_id": "do_not_contact"}
    assert error(r)["message"] == "Dnc is marked do-not-contact."
    assert await Briefing.count().run() == 0


async def test_no_consent_is_refused_until_consent_is_recorded_which_is_audited(world, users):
    iid = await world.incident()
    dana = await world.member("Dana", consent=False)
    await world.approve(iid, POINTS)
    r = await world.brief(iid, dana)
    assert r.status_code == 409
    assert error(r)["fields"] == {"member_id": "no_consent"}
    assert "record their consent first" in error(r)["message"]
    assert await Briefing.count().run() == 0

    world.clock.advance(minutes=3)
    r = await world.api.patch(f"/api/v1/members/{dana}", json={"consent_private_briefing": True}, headers=world.h)
    assert r.status_code == 200, r.text
    assert r.json()["consent_private_briefing"] is True
    assert at(r.json()["consent_recorded_at"]) == START + timedelta(minutes=3)
    [entry] = [e for e in await entries("member.update") if e["record_id"] == str(dana)]
    assert entry["actor"] == users["bob"]["id"]
    assert entry["before"]["consent_private_briefing"] is False
    assert entry["after"]["consent_private_briefing"] is True

    r = await world.brief(iid, dana)
    assert r.status_code == 201, r.text


async def test_a_second_briefing_on_the_same_version_is_refused(world):
    iid = await world.incident()
    ann = await world.member("Ann")
    await world.approve(iid, POINTS)
    first = await world.briefed(iid, ann)
    for channel in ("dm", "phone"):  # on any channel
        r = await world.brief(iid, ann, channel)
        assert r.status_code == 409
        assert error(r)["fields"] == {"member_id": "already_briefed"}
        assert error(r)["message"] == "Ann was already briefed on version 1."
    await world.approve(iid, [*POINTS, "Support is open late."])
    second = await world.briefed(iid, ann, "phone")
    assert (first["talking_points_version"], second["talking_points_version"]) == (1, 2)
    assert "3. Support is open late." in second["message"]
    assert await Briefing.count().run() == 2


async def test_bad_requests(world):
    iid = await world.incident()
    ann = await world.member("Ann")
    gone = await world.member("Gone")
    await world.approve(iid, POINTS)
    assert (await world.api.delete(f"/api/v1/members/{gone}", headers=world.h)).status_code == 204

    r = await world.brief(iid, ann, "pigeon")
    assert r.status_code == 422 and set(error(r)["fields"]) == {"channel"}
    r = await world.brief(iid, ann, note="x" * 2_001)
    assert r.status_code == 422 and set(error(r)["fields"]) == {"note"}
    r = await world.brief(iid, 9999)
    assert r.status_code == 404 and error(r)["message"] == "No member with id 9999."
    r = await world.brief(iid, gone)
    assert r.status_code == 404 and error(r)["code"] == "not_found"
    r = await world.brief(9999, ann)
    assert r.status_code == 404 and error(r)["message"] == "No incident with id 9999."
    r = await world.api.post(f"/api/v1/incidents/{iid}/briefings", json={"member_id": ann}, headers=world.h)
    assert r.status_code == 422 and error(r)["code"] == "invalid_input"  # channel missing
    r = await world.api.post(
        f"/api/v1/incidents/{iid}/briefings",
        json={"member_id": ann, "channel": "dm", "outcome": "helped"},
        headers=world.h,
    )
    assert r.status_code == 422 and error(r)["code"] == "invalid_input"  # unknown field
    assert await Briefing.count().run() == 0
    for channel in ("dm", "email", "phone", "in_person", "other"):
        await world.approve(iid, [*POINTS, f"Version for {channel}"])
        assert (await world.briefed(iid, ann, channel))["channel"] == channel


async def test_outcomes_and_their_evidence(world, users):
    iid = await world.incident(platforms=["x"])
    ann = await world.member("Ann")
    bea = await world.member("Bea")
    await world.approve(iid, POINTS)
    briefing = await world.briefed(iid, ann)
    mine = [
        await world.interaction(ann, at=START - timedelta(minutes=n), platform="x", sentiment="positive")
        for n in (1, 2)
    ]
    hers = await world.interaction(bea, at=START, platform="x", sentiment="positive")
    url = f"/api/v1/briefings/{briefing['id']}"

    for outcome in ("acknowledged", "declined", "no_response", "sent"):
        world.clock.advance(minutes=1)
        r = await world.api.patch(url, json={"outcome": outcome}, headers=world.h)
        assert r.status_code == 200, r.text
        assert r.json()["outcome"] == outcome and r.json()["evidence_interaction_ids"] == []
    r = await world.api.patch(
        url, json={"outcome": "helped", "evidence_interaction_ids": [mine[1], mine[0], mine[0]]}, headers=world.h
    )
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "helped" and r.json()["evidence_interaction_ids"] == sorted(mine)
    stored = await Briefing.select().where(Briefing.id == briefing["id"]).first().run()
    assert stored["outcome_at"] == START + timedelta(minutes=4)
    # changing the outcome alone keeps the evidence; the list shows it too
    r = await world.api.patch(url, json={"outcome": "acknowledged"}, headers=world.h)
    assert r.json()["evidence_interaction_ids"] == sorted(mine)
    listed = (await world.api.get(f"/api/v1/incidents/{iid}/briefings", headers=world.auth["dave"])).json()
    assert [(b["outcome"], b["evidence_interaction_ids"]) for b in listed] == [("acknowledged", sorted(mine))]
    last = (await entries("briefing.outcome"))[-1]
    assert last["before"] == {"outcome": "helped"} and last["actor"] == users["bob"]["id"]

    refusals = [
        ({"outcome": "great"}, "outcome"),
        ({"outcome": "helped", "evidence_interaction_ids": [hers]}, "evidence_interaction_ids"),  # not hers to give
        ({"outcome": "helped", "evidence_interaction_ids": [mine[0], 99999]}, "evidence_interaction_ids"),
    ]
    for payload, field in refusals:
        r = await world.api.patch(url, json=payload, headers=world.h)
        assert r.status_code == 422, payload
        assert set(error(r)["fields"]) == {field}
    assert (await queries.get(briefing["id"]))["outcome"] == "acknowledged"  # nothing changed
    r = await world.api.patch("/api/v1/briefings/9999", json={"outcome": "helped"}, headers=world.h)
    assert r.status_code == 404 and error(r)["code"] == "not_found"


async def test_agents_and_viewers_only_read(world):
    iid = await world.incident(platforms=["x"])
    ann = await world.member("Ann")
    await world.interaction(ann, at=START, platform="x", sentiment="positive")
    await world.approve(iid, POINTS)
    briefing = await world.briefed(iid, ann)
    for who in ("carol", "dave"):
        r = await world.brief(iid, ann, who=who)
        assert r.status_code == 403, (who, r.text)
        assert (await world.feedback(iid, ann, "skipped", who=who)).status_code == 403
        r = await world.api.patch(
            f"/api/v1/briefings/{briefing['id']}", json={"outcome": "helped"}, headers=world.auth[who]
        )
        assert r.status_code == 403
        for path in ("briefings", "rebrief", "suggestions"):
            r = await world.api.get(f"/api/v1/incidents/{iid}/{path}", headers=world.auth[who])
            assert r.status_code == 200, (who, path, r.text)
    assert await Briefing.count().run() == 1
    assert (await queries.get(briefing["id"]))["outcome"] == "sent"
    # alice (admin) may brief too
    await world.approve(iid, [*POINTS, "More."])
    assert (await world.brief(iid, ann, who="alice")).status_code == 201


async def test_figures(world, clock):
    iid = await world.incident(detected_at=START - timedelta(hours=2))
    quiet = await world.incident("Quiet one", detected_at=START)
    members = [await world.member(name) for name in ("Ann", "Bea", "Cal", "Dee")]
    await world.approve(iid, POINTS)
    incident = await incident_queries.incident_or_404(iid)
    assert await queries.figures(incident) == {
        "briefed": 0,
        "acknowledged": 0,
        "helped": 0,
        "seconds_to_first_briefing": None,
    }

    clock.advance(minutes=15)  # first briefing 2h15 after detection
    briefings = [await world.briefed(iid, m) for m in members]
    for briefing, outcome in zip(briefings, ("acknowledged", "helped", "declined", "sent"), strict=False):
        r = await world.api.patch(f"/api/v1/briefings/{briefing['id']}", json={"outcome": outcome}, headers=world.h)
        assert r.status_code == 200
    clock.advance(hours=1)
    await world.approve(iid, [*POINTS, "New."])
    await world.briefed(iid, members[1])  # re-briefed: still one member, and still helped
    assert await queries.figures(incident) == {
        "briefed": 4,
        "acknowledged": 2,
        "helped": 1,
        "seconds_to_first_briefing": 2 * 3600 + 15 * 60,
    }
    assert (await queries.figures(await incident_queries.incident_or_404(quiet)))["briefed"] == 0
