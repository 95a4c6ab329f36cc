"""The status workflow (stamped, audited, illegal moves refused with the allowed ones named) and the
response clock against fixed times, on both engines. Time only moves when the FrozenClock is told to."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from crm.audit.service import Actor
from crm.audit.tables import AuditEntry
from crm.incidents.tables import Incident
from crm.incidents.vocab import STATUSES, TRANSITIONS
from crm.preferences import service as preferences
from tests.conftest import START
from tests.incidents.test_api import (
    audit_actions,
    error,
    move,
    move_ok,
    open_incident,
)

# How to bring a fresh incident to each status.
PATH_TO = {
    "detected": [],
    "acknowledged": ["acknowledged"],
    "responding": ["acknowledged", "responding"],
    "resolved": ["acknowledged", "responding", "resolved"],
    "reviewed": ["acknowledged", "responding", "resolved", "reviewed"],
}


async def row(incident_id: int) -> dict:
    return await Incident.select().where(Incident.id == incident_id).first().run()


# ---- the workflow --------------------------------------------------------------------------------


async def test_every_step_is_stamped_with_who_and_when_and_audited(api, auth, users, clock):
    iid = (await open_incident(api, severity="critical"))["id"]
    steps = [
        ("acknowledged", "alice", 7),
        ("responding", "bob", 5),
        ("resolved", "alice", 90),
        ("reviewed", "bob", 60 * 24),
    ]
    at = START
    for to, who, minutes in steps:
        clock.advance(minutes=minutes)
        at += timedelta(minutes=minutes)
        response = await move(api, iid, to, headers=auth[who])
        assert response.status_code == 200, response.text
        assert response.json()["status"] == to
        r = await row(iid)
        assert r["status"] == to and r[f"{to}_at"] == at and r[f"{to}_by"] == users[who]["id"]
        assert r["updated_at"] == at
        entry = await AuditEntry.select().where(AuditEntry.action == f"incident.{to}").first().run()
        assert entry is not None and entry["actor"] == users[who]["id"] and entry["at"] == at
        assert entry["record_id"] == str(iid) and entry["entity"] == "incident"
    r = await row(iid)
    assert r["acknowledged_at"] == START + timedelta(minutes=7) and r["acknowledged_by"] == users["alice"]["id"]
    assert r["responding_at"] == START + timedelta(minutes=12) and r["responding_by"] == users["bob"]["id"]
    assert r["resolved_at"] == START + timedelta(minutes=102) and r["resolved_by"] == users["alice"]["id"]
    assert r["owner"] == users["bob"]["id"]  # moving it along does not change the owner
    assert await audit_actions(iid) == [
        "incident.create",
        "incident.acknowledged",
        "incident.responding",
        "incident.resolved",
        "incident.reviewed",
    ]


async def test_there_is_no_shortcut_past_responding(api):
    iid = (await open_incident(api))["id"]
    await move_ok(api, iid, "acknowledged")
    response = await move(api, iid, "resolved")
    assert response.status_code == 409 and "Allowed next: responding." in error(response)["message"]
    assert (await row(iid))["resolved_at"] is None


async def test_illegal_moves_are_409_naming_the_allowed_ones_and_change_nothing(api):
    for start in STATUSES:
        iid = (await open_incident(api))["id"]
        await move_ok(api, iid, *PATH_TO[start])
        before, audit_before = await row(iid), await AuditEntry.count().run()
        allowed = TRANSITIONS[start]
        refused = [s for s in STATUSES if s not in allowed] + ["closed", ""]
        for to in refused:
            response = await move(api, iid, to)
            assert response.status_code == 409, (start, to, response.text)
            problem = error(response)
            assert problem["code"] == "conflict" and start in problem["message"]
            for option in allowed:
                assert option in problem["message"], (start, to, problem)
            if not allowed:
                assert "none" in problem["message"]
            assert "to" in problem["fields"]
        assert await row(iid) == before, start
        assert await AuditEntry.count().run() == audit_before, start


async def test_the_obvious_jumps_are_refused(api):
    iid = (await open_incident(api))["id"]
    for to in ("reviewed", "resolved", "responding"):
        response = await move(api, iid, to)
        assert response.status_code == 409
        assert "Allowed next: acknowledged." in error(response)["message"]
    await move_ok(api, iid, "acknowledged", "responding", "resolved", "reviewed")
    for to in ("resolved", "responding", "acknowledged", "detected"):  # never back from reviewed
        response = await move(api, iid, to)
        assert response.status_code == 409
        assert "none (the incident is closed)" in error(response)["message"]
    assert (await row(iid))["status"] == "reviewed"
    other = (await open_incident(api))["id"]
    for body in ({}, {"to": 3}, {"to": "acknowledged", "by": "me"}):  # malformed requests
        response = await api.post(f"/api/v1/incidents/{other}/transitions", json=body)
        assert response.status_code in (400, 422), response.text
    assert (await row(other))["status"] == "detected"


async def test_a_resolved_incident_can_be_reopened_and_resolved_again(api, auth, users, clock):
    iid = (await open_incident(api, severity="high"))["id"]
    await move_ok(api, iid, "acknowledged", "responding")
    clock.advance(hours=2)
    await move_ok(api, iid, "resolved")
    assert (await api.get("/api/v1/status")).json()["promotion_freeze"] is False
    clock.advance(hours=1)
    response = await move(api, iid, "responding", headers=auth["alice"])  # it flared up again
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "responding"
    r = await row(iid)
    assert r["responding_at"] == START + timedelta(hours=3) and r["responding_by"] == users["alice"]["id"]
    # Open again: no longer counted as resolved.
    assert body["clock"]["resolved_at"] is None and body["clock"]["seconds_to_resolve"] is None
    assert [i["id"] for i in (await api.get("/api/v1/incidents?open=true")).json()] == [iid]
    assert (await api.get("/api/v1/status")).json()["promotion_freeze"] is True
    clock.advance(hours=1)
    body = await move_ok(api, iid, "resolved")
    assert body["clock"]["seconds_to_resolve"] == 4 * 3600
    assert await audit_actions(iid) == [
        "incident.create",
        "incident.acknowledged",
        "incident.responding",
        "incident.resolved",
        "incident.responding",
        "incident.resolved",
    ]


# ---- the response clock --------------------------------------------------------------------------


async def test_the_acknowledgement_target_by_severity(api, clock):
    targets = [("critical", 15 * 60), ("high", 3600), ("medium", 4 * 3600), ("low", 24 * 3600)]
    ids = {severity: (await open_incident(api, severity=severity))["id"] for severity, _ in targets}
    for severity, seconds in targets:  # shortest target first: the clock only moves forward
        clock.at = START + timedelta(seconds=seconds - 1)
        body = (await api.get(f"/api/v1/incidents/{ids[severity]}")).json()
        assert body["clock"]["ack_target_seconds"] == seconds
        assert body["clock"]["seconds_since_detection"] == seconds - 1
        assert body["clock"]["ack_target_missed"] is False, severity
        clock.advance(seconds=2)
        body = (await api.get(f"/api/v1/incidents/{ids[severity]}")).json()
        assert body["clock"]["ack_target_missed"] is True, severity
        assert body["clock"]["seconds_to_acknowledge"] is None


async def test_an_acknowledgement_is_judged_by_when_it_came(api, clock):
    in_time = (await open_incident(api, severity="critical"))["id"]
    late = (await open_incident(api, severity="critical"))["id"]
    clock.advance(seconds=15 * 60 - 1)
    await move_ok(api, in_time, "acknowledged")
    clock.advance(seconds=2)
    await move_ok(api, late, "acknowledged")
    for _ in range(2):  # right away, and three days later: the verdict does not change
        body = (await api.get(f"/api/v1/incidents/{in_time}")).json()
        assert body["clock"]["seconds_to_acknowledge"] == 899 and body["clock"]["ack_target_missed"] is False
        assert datetime.fromisoformat(body["clock"]["acknowledged_at"]) == START + timedelta(seconds=899)
        body = (await api.get(f"/api/v1/incidents/{late}")).json()
        assert body["clock"]["seconds_to_acknowledge"] == 901 and body["clock"]["ack_target_missed"] is True
        clock.advance(days=3)
    assert body["clock"]["seconds_since_detection"] == 901 + 3 * 86400


async def test_time_to_resolve_counts_from_detection(api, clock):
    iid = (await open_incident(api, severity="medium", detected_at=(START - timedelta(minutes=30)).isoformat()))["id"]
    clock.advance(minutes=10)
    await move_ok(api, iid, "acknowledged")
    clock.advance(minutes=50)
    await move_ok(api, iid, "responding")
    body = (await api.get(f"/api/v1/incidents/{iid}")).json()
    assert body["clock"]["seconds_to_resolve"] is None
    clock.advance(hours=5, seconds=7)
    body = await move_ok(api, iid, "resolved")
    assert body["clock"]["seconds_to_acknowledge"] == 40 * 60
    assert body["clock"]["seconds_to_resolve"] == 6 * 3600 + 30 * 60 + 7
    assert datetime.fromisoformat(body["clock"]["resolved_at"]) == START + timedelta(hours=6, seconds=7)


async def test_an_incident_found_late_may_have_missed_its_target_already(api):
    for found_ago, missed in [(timedelta(minutes=59), False), (timedelta(minutes=61), True)]:
        body = await open_incident(api, severity="high", detected_at=(START - found_ago).isoformat())
        assert body["clock"]["ack_target_missed"] is missed


async def test_the_target_follows_the_preference(api, users, clock):
    iid = (await open_incident(api, severity="critical"))["id"]
    clock.advance(minutes=20)
    body = (await api.get(f"/api/v1/incidents/{iid}")).json()
    assert body["clock"]["ack_target_seconds"] == 900 and body["clock"]["ack_target_missed"] is True
    admin = Actor(user_id=users["alice"]["id"], label="alice@example.com")
    await preferences.update(values={"ack_target_minutes.critical": 30}, actor=admin, now=clock())
    body = (await api.get(f"/api/v1/incidents/{iid}")).json()
    assert body["clock"]["ack_target_seconds"] == 1800 and body["clock"]["ack_target_missed"] is False
    clock.advance(minutes=10, seconds=1)
    body = (await api.get(f"/api/v1/incidents/{iid}")).json()
    assert body["clock"]["ack_target_missed"] is True
    # Other severities keep their defaults.
    other = await open_incident(api, severity="high")
    assert other["clock"]["ack_target_seconds"] == 3600


async def test_simultaneous_moves_are_decided_one_at_a_time(api, users, clock):
    from crm.errors import Conflict
    from crm.incidents import service

    iid = (await open_incident(api, severity="critical"))["id"]
    bob = Actor(user_id=users["bob"]["id"], label="bob@example.com")
    results = await asyncio.gather(
        *[service.transition(incident_id=iid, to="acknowledged", actor=bob, now=clock()) for _ in range(3)],
        return_exceptions=True,
    )
    assert sum(isinstance(r, dict) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 2, results
    assert (await audit_actions(iid)).count("incident.acknowledged") == 1
    await service.transition(incident_id=iid, to="responding", actor=bob, now=clock())
    lifts = await asyncio.gather(
        *[service.lift_freeze(incident_id=iid, actor=bob, now=clock()) for _ in range(3)], return_exceptions=True
    )
    assert sum(isinstance(r, dict) for r in lifts) == 1 and sum(isinstance(r, Conflict) for r in lifts) == 2, lifts
    assert (await audit_actions(iid)).count("incident.freeze_lift") == 1
