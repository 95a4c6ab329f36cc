"""Versioned talking points: drafts numbered per incident, one approved version at a time (the previous
one superseded), approval rights and two-person approval, approved versions never edited, the
differences between versions. On both engines."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from crm.audit.service import Actor
from crm.audit.tables import AuditEntry
from crm.errors import Conflict
from crm.incidents import talking_points
from crm.incidents.tables import TalkingPoints
from crm.preferences import service as preferences
from tests.conftest import START
from tests.incidents.test_api import (
    audit_actions,
    counts,
    error,
    open_incident,
)


async def draft(api, iid: int, points: list[str], headers: dict | None = None, **extra) -> dict:
    response = await api.post(
        f"/api/v1/incidents/{iid}/talking-points", json={"points": points, **extra}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def approve(api, iid: int, version: int, headers: dict | None = None):
    return await api.post(f"/api/v1/incidents/{iid}/talking-points/{version}/approve", headers=headers)


async def statuses(iid: int) -> dict[int, str]:
    rows = (
        await TalkingPoints.select(TalkingPoints.version, TalkingPoints.status)
        .where(TalkingPoints.incident == iid)
        .order_by(TalkingPoints.version)
        .run()
    )
    return {r["version"]: r["status"] for r in rows}


async def current_version(api, iid: int) -> int | None:
    response = await api.get(f"/api/v1/incidents/{iid}/talking-points/current")
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "approved"
    return response.json()["version"]


def actor(users, name: str) -> Actor:
    return Actor(user_id=users[name]["id"], label=f"{name}@example.com")


# ---- drafts --------------------------------------------------------------------------------------


async def test_drafts_are_numbered_per_incident(api, users, clock):
    iid = (await open_incident(api))["id"]
    other = (await open_incident(api, title="Another"))["id"]
    first = await draft(
        api,
        iid,
        ["  We are   sorry. ", "", "We are pulling the ad."],
        avoid=["Blame the agency"],
        links=["https://example.com/statement"],
    )
    assert first == {
        "incident_id": iid,
        "version": 1,
        "status": "draft",
        "points": ["We are sorry.", "We are pulling the ad."],
        "avoid": ["Blame the agency"],
        "links": ["https://example.com/statement"],
        "author_id": users["bob"]["id"],
        "created_at": first["created_at"],
        "approved_by_id": None,
        "approved_at": None,
    }
    clock.advance(minutes=5)
    assert (await draft(api, iid, ["Second try"]))["version"] == 2
    assert (await draft(api, other, ["Elsewhere"]))["version"] == 1
    assert (await draft(api, iid, ["Third try"]))["version"] == 3
    assert await statuses(iid) == {1: "draft", 2: "draft", 3: "draft"}
    assert await audit_actions(entity="talking_points") == ["talking_points.create"] * 4


async def test_a_draft_needs_points_and_real_links(api):
    iid = (await open_incident(api))["id"]
    before = await counts()
    for body, field in [
        ({"points": []}, "points"),
        ({"points": ["  ", ""]}, "points"),
        ({"points": ["ok"], "links": ["javascript:alert(1)"]}, "links[0]"),
        ({"points": ["x" * 2001]}, "points"),
        ({"points": ["ok"] * 51}, "points"),
        ({"points": ["ok"], "status": "approved"}, "status"),
        ({"avoid": ["x"]}, "points"),
    ]:
        response = await api.post(f"/api/v1/incidents/{iid}/talking-points", json=body)
        assert response.status_code in (400, 422), (body, response.text)
        problem = error(response)
        assert field in problem["fields"] or field in problem["message"], (body, problem)
    assert await counts() == before
    response = await api.post("/api/v1/incidents/999999/talking-points", json={"points": ["ok"]})
    assert response.status_code == 404
    assert await TalkingPoints.count().run() == 0


# ---- approval ------------------------------------------------------------------------------------


async def test_approving_keeps_exactly_one_approved_version_per_incident(api, auth, users, clock):
    iid = (await open_incident(api))["id"]
    other = (await open_incident(api, title="Another"))["id"]
    await draft(api, other, ["Elsewhere"])
    assert (await approve(api, other, 1, auth["alice"])).status_code == 200
    for n in range(1, 4):
        await draft(api, iid, [f"Point {n}"])
    assert await current_version(api, iid) is None

    expected = {}
    for version, minutes in [(1, 1), (2, 10), (3, 20)]:
        clock.advance(minutes=minutes)
        response = await approve(api, iid, version, auth["alice"])
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "approved" and body["approved_by_id"] == users["alice"]["id"]
        expected = {v: ("approved" if v == version else "superseded" if v < version else "draft") for v in (1, 2, 3)}
        assert await statuses(iid) == expected
        assert list((await statuses(iid)).values()).count("approved") == 1
        assert await current_version(api, iid) == version
    # A newer draft approved later supersedes the current one too; the other incident is untouched.
    await draft(api, iid, ["Point 4"])
    assert (await approve(api, iid, 4, auth["alice"])).status_code == 200
    assert await statuses(iid) == {1: "superseded", 2: "superseded", 3: "superseded", 4: "approved"}
    assert await statuses(other) == {1: "approved"}
    assert await current_version(api, other) == 1
    superseded = (
        await TalkingPoints.select(TalkingPoints.version, TalkingPoints.superseded_at)
        .where((TalkingPoints.incident == iid) & (TalkingPoints.status == "superseded"))
        .order_by(TalkingPoints.version)
        .run()
    )
    assert [r["superseded_at"] for r in superseded] == [
        START + timedelta(minutes=11),
        START + timedelta(minutes=31),
        START + timedelta(minutes=31),
    ]
    assert (await audit_actions(entity="talking_points")).count("talking_points.approve") == 5


async def test_only_a_draft_can_be_approved(api, auth):
    iid = (await open_incident(api))["id"]
    await draft(api, iid, ["One"])
    await draft(api, iid, ["Two"])
    assert (await approve(api, iid, 1, auth["alice"])).status_code == 200
    assert (await approve(api, iid, 2, auth["alice"])).status_code == 200
    before, audit_before = await statuses(iid), await AuditEntry.count().run()
    for version, status in [(2, "approved"), (1, "superseded")]:
        response = await approve(api, iid, version, auth["alice"])
        assert response.status_code == 409, response.text
        assert status in error(response)["message"] and "only a draft" in error(response)["message"]
    for version, iid_ in [(9, iid), (1, 999999)]:
        response = await approve(api, iid_, version, auth["alice"])
        assert response.status_code == 404 and error(response)["code"] == "not_found"
    assert await statuses(iid) == before == {1: "superseded", 2: "approved"}
    assert await AuditEntry.count().run() == audit_before


async def test_approved_and_superseded_versions_are_never_edited(api, auth, users, clock):
    iid = (await open_incident(api))["id"]
    await draft(api, iid, ["One"])
    await draft(api, iid, ["Two"])
    edited = await talking_points.update_draft(
        incident_id=iid, version=2, values={"points": ["Two, better"]}, actor=actor(users, "bob"), now=clock()
    )
    assert edited["points"] == ["Two, better"] and edited["version"] == 2 and edited["status"] == "draft"
    assert (await approve(api, iid, 1, auth["alice"])).status_code == 200
    assert (await approve(api, iid, 2, auth["alice"])).status_code == 200
    for version, status in [(1, "superseded"), (2, "approved")]:
        before = await talking_points.get_version(iid, version)
        with pytest.raises(Conflict) as refused:
            await talking_points.update_draft(
                incident_id=iid,
                version=version,
                values={"points": ["Rewritten"]},
                actor=actor(users, "alice"),
                now=clock(),
            )
        assert status in refused.value.message and "new version" in refused.value.message
        assert await talking_points.get_version(iid, version) == before
    assert await current_version(api, iid) == 2
    assert (await talking_points.get_version(iid, 2))["points"] == ["Two, better"]


async def test_two_person_approval_stops_authors_approving_their_own_version(api, auth, users, clock):
    iid = (await open_incident(api))["id"]
    await draft(api, iid, ["By bob"])  # bob is the author
    before = await AuditEntry.count().run()
    response = await approve(api, iid, 1)  # bob approves his own
    assert response.status_code == 403, response.text
    problem = error(response)
    assert problem["code"] == "forbidden" and "Two-person approval" in problem["message"]
    assert "author" in problem["message"]
    assert await statuses(iid) == {1: "draft"} and await AuditEntry.count().run() == before
    assert await current_version(api, iid) is None
    # Someone else may.
    response = await approve(api, iid, 1, auth["alice"])
    assert response.status_code == 200 and response.json()["approved_by_id"] == users["alice"]["id"]
    # Admins are no exception: alice cannot approve her own version either.
    await draft(api, iid, ["By alice"], headers=auth["alice"])
    assert (await approve(api, iid, 2, auth["alice"])).status_code == 403
    assert (await approve(api, iid, 2)).status_code == 200


async def test_without_two_person_approval_authors_may_approve_their_own(api, users, clock):
    await preferences.update(values={"two_person_approval": False}, actor=actor(users, "alice"), now=clock())
    iid = (await open_incident(api))["id"]
    await draft(api, iid, ["By bob"])
    response = await approve(api, iid, 1)
    assert response.status_code == 200, response.text
    assert response.json()["approved_by_id"] == users["bob"]["id"] == response.json()["author_id"]
    assert await current_version(api, iid) == 1


async def test_agents_and_viewers_may_read_but_not_write_or_approve(api, auth):
    iid = (await open_incident(api))["id"]
    await draft(api, iid, ["By bob"])
    before = await counts()
    for who in ("carol", "dave"):
        response = await approve(api, iid, 1, auth[who])
        assert response.status_code == 403 and error(response)["code"] == "forbidden"
        response = await api.post(
            f"/api/v1/incidents/{iid}/talking-points", json={"points": ["Mine"]}, headers=auth[who]
        )
        assert response.status_code == 403 and error(response)["code"] == "forbidden"
    assert await counts() == before and await statuses(iid) == {1: "draft"}
    assert (await approve(api, iid, 1, auth["alice"])).status_code == 200
    for who in ("carol", "dave"):
        response = await api.get(f"/api/v1/incidents/{iid}/talking-points/current", headers=auth[who])
        assert response.status_code == 200 and response.json()["points"] == ["By bob"]


async def test_current_is_404_until_a_version_is_approved(api, auth):
    iid = (await open_incident(api))["id"]
    response = await api.get(f"/api/v1/incidents/{iid}/talking-points/current")
    assert response.status_code == 404 and error(response)["code"] == "not_found"
    await draft(api, iid, ["Draft only"])
    response = await api.get(f"/api/v1/incidents/{iid}/talking-points/current")
    assert response.status_code == 404 and "approved" in error(response)["message"]
    response = await api.get("/api/v1/incidents/999999/talking-points/current")
    assert response.status_code == 404
    assert (await approve(api, iid, 1, auth["alice"])).status_code == 200
    assert await current_version(api, iid) == 1


async def test_simultaneous_approvals_still_leave_one_approved_version(api, users, clock):
    iid = (await open_incident(api))["id"]
    for n in range(1, 5):
        await draft(api, iid, [f"Point {n}"])
    results = await asyncio.gather(
        *[
            talking_points.approve(incident_id=iid, version=v, actor=actor(users, "alice"), now=clock())
            for v in (1, 2, 3, 4)
        ],
        return_exceptions=True,
    )
    assert not [r for r in results if isinstance(r, BaseException) and not isinstance(r, Conflict)], results
    assert list((await statuses(iid)).values()).count("approved") == 1, await statuses(iid)


async def test_simultaneous_drafts_get_distinct_versions(api, users, clock):
    iid = (await open_incident(api))["id"]
    made = await asyncio.gather(
        *[
            talking_points.create_draft(
                incident_id=iid, values={"points": [f"Point {n}"]}, actor=actor(users, "bob"), now=clock()
            )
            for n in range(4)
        ]
    )
    assert sorted(m["version"] for m in made) == [1, 2, 3, 4]


# ---- differences ---------------------------------------------------------------------------------


async def test_diff_marks_added_removed_and_kept_lines():
    old = {
        "points": ["We are sorry.", "The ad is gone.", "We will donate."],
        "avoid": ["Blame the agency"],
        "links": [],
    }
    new = {
        "points": ["We are sorry.", "We will donate.", "We are changing our review process."],
        "avoid": ["Blame the agency"],
        "links": ["https://example.com/statement"],
    }
    changes = talking_points.diff(old, new)
    assert changes["points"] == [
        (" ", "We are sorry."),
        ("-", "The ad is gone."),
        (" ", "We will donate."),
        ("+", "We are changing our review process."),
    ]
    assert changes["avoid"] == [(" ", "Blame the agency")]
    assert changes["links"] == [("+", "https://example.com/statement")]
    assert talking_points.diff(new, new)["points"] == [(" ", p) for p in new["points"]]
    # Similar lines are still whole lines: no "?" hint lines leak through.
    similar = talking_points.diff(
        {"points": ["We are sorry."], "avoid": [], "links": []},
        {"points": ["We are so sorry."], "avoid": [], "links": []},
    )
    assert similar["points"] == [("-", "We are sorry."), ("+", "We are so sorry.")]
