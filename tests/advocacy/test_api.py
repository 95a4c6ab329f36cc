"""GET /api/v1/members/{id}/health: the shape, every role may read it, 404 for members that are gone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm.members import erasure, merge
from crm.members import service as members
from tests.advocacy.conftest import ACTOR
from tests.conftest import START, error

DAY = timedelta(days=1)


async def test_health_has_the_documented_shape(scene, client, auth):
    m = await scene.active("Ada", tier="champion")
    incident = await scene.incident("Misleading ad", detected_at=START - 30 * DAY)
    for days in (29, 20, 10):
        await scene.brief(m, incident, START - days * DAY)
    await scene.thank(m, START - 40 * DAY)
    r = await client.get(f"/api/v1/members/{m}/health", headers=auth["bob"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {
        "member_id",
        "state",
        "last_briefed_at",
        "last_thanked_at",
        "asks_12m",
        "thanks_12m",
        "warnings",
        "incident_effects",
    }
    assert (body["member_id"], body["state"], body["asks_12m"], body["thanks_12m"]) == (m, "active", 3, 1)
    assert body["last_briefed_at"] == "2026-02-20T09:30:00Z"
    assert body["last_thanked_at"] == "2026-01-21T09:30:00Z"
    assert body["warnings"] == [
        {
            "code": "asked_without_thanks",
            "message": "Briefed 3 times since their last thank-you on 21 Jan 2026. Thank them before asking again.",
        }
    ]
    [effect] = body["incident_effects"]
    assert set(effect) == {
        "incident_id",
        "title",
        "detected_at",
        "briefed",
        "interactions_before",
        "interactions_after",
        "rate_before",
        "rate_after",
        "rate_change",
        "positive_share_before",
        "positive_share_after",
        "positive_share_change",
        "complete",
        "days_observed",
        "summary",
    }
    assert (effect["incident_id"], effect["complete"], effect["days_observed"]) == (incident, False, 31)


async def test_a_member_never_asked_or_thanked(scene, client, auth):
    m = await scene.member("Plain", tier="member")
    body = (await client.get(f"/api/v1/members/{m}/health", headers=auth["dave"])).json()
    assert body == {
        "member_id": m,
        "state": "inactive",
        "last_briefed_at": None,
        "last_thanked_at": None,
        "asks_12m": 0,
        "thanks_12m": 0,
        "warnings": [],
        "incident_effects": [],
    }


@pytest.mark.parametrize("name", ["alice", "bob", "carol", "dave"])
async def test_every_role_may_read_health(scene, client, auth, name):
    m = await scene.member("Ada")
    assert (await client.get(f"/api/v1/members/{m}/health", headers=auth[name])).status_code == 200


async def test_health_needs_a_signed_in_user(scene, client, users):
    m = await scene.member("Ada")
    r = await client.get(f"/api/v1/members/{m}/health")
    assert r.status_code == 401 and error(r)["code"] == "unauthorized"


async def test_missing_deleted_merged_and_erased_members_are_404(scene, client, auth, clock):
    deleted, kept, merged, erased = [await scene.member(n) for n in ("Del", "Keep", "Merged", "Erased")]
    await members.delete_member(member_id=deleted, actor=ACTOR, now=clock())
    await merge.merge_members(keep_id=kept, merge_id=merged, actor=ACTOR, now=clock())
    await erasure.erase_member(member_id=erased, actor=ACTOR, now=clock())
    for member_id in (deleted, merged, erased, 999_999):
        r = await client.get(f"/api/v1/members/{member_id}/health", headers=auth["bob"])
        assert r.status_code == 404, (member_id, r.text)
        assert error(r)["code"] == "not_found"
        # the same answer as the member itself
        assert (await client.get(f"/api/v1/members/{member_id}", headers=auth["bob"])).status_code == 404
    assert (await client.get(f"/api/v1/members/{kept}/health", headers=auth["bob"])).status_code == 200
