"""The re-brief queue: whoever was briefed on an older talking-points version than the approved one, with
what changed since their version, until they are briefed again. Both engines."""

from __future__ import annotations

from datetime import timedelta

from tests.briefings.conftest import excluded, ids
from tests.conftest import error

V1 = {"points": ["We are sorry.", "Refunds in 5 days."], "avoid": ["Blame the agency"]}
V2 = {
    "points": ["We are sorry.", "Refunds in 3 days.", "Support is open late."],
    "avoid": [],
    "links": ["https://example.com/refunds"],
}
V3 = {"points": ["We are sorry.", "Refunds in 3 days.", "Support is open late.", "Vouchers for everyone."]}


async def approve(world, iid: int, version: dict) -> int:
    return await world.approve(iid, version["points"], **{k: v for k, v in version.items() if k != "points"})


async def queue(world, iid: int, who: str = "bob") -> list[dict]:
    r = await world.api.get(f"/api/v1/incidents/{iid}/rebrief", headers=world.auth[who])
    assert r.status_code == 200, r.text
    return r.json()


def marked(lines: list[list[str]], sign: str) -> list[str]:
    return [text for mark, text in lines if mark == sign]


async def test_briefed_on_v1_needs_an_update_after_v2_until_rebriefed(world):
    iid = await world.incident(platforms=["x"])
    ann, bea, cal = await world.member("Ann"), await world.member("Bea"), await world.member("Cal")
    for member in (ann, bea, cal):
        await world.interaction(member, at=world.clock() - timedelta(minutes=5), platform="x", sentiment="positive")
    assert await queue(world, iid) == []  # nothing approved yet

    await approve(world, iid, V1)
    await world.briefed(iid, ann)
    world.clock.advance(minutes=10)
    first_bea = await world.briefed(iid, bea)
    assert await queue(world, iid) == []  # everyone briefed is on the current version
    r = await world.api.post(f"/api/v1/incidents/{iid}/talking-points", json={"points": V2["points"]}, headers=world.h)
    assert r.status_code == 201
    assert await queue(world, iid) == []  # a draft changes nothing

    await world.api.post(f"/api/v1/incidents/{iid}/talking-points/2/approve", headers=world.auth["alice"])
    items = await queue(world, iid)
    assert [i["member_id"] for i in items] == [ann, bea]  # earliest briefed first
    item = items[1]
    assert set(item) == {"member_id", "briefing_id", "briefed_version", "current_version", "changes"}
    assert (item["briefing_id"], item["briefed_version"], item["current_version"]) == (first_bea["id"], 1, 2)
    points = item["changes"]["points"]
    assert marked(points, " ") == ["We are sorry."]
    assert marked(points, "-") == ["Refunds in 5 days."]
    assert marked(points, "+") == ["Refunds in 3 days.", "Support is open late."]
    # the draft approved had points only: "what to avoid" was dropped
    assert marked(item["changes"]["avoid"], "-") == ["Blame the agency"]
    assert item["changes"]["links"] == []
    # they are suggested again (briefed, but not on the current version); Cal was never briefed
    body = await world.suggestions(iid)
    assert set(ids(body["items"])) == {ann, bea, cal} and body["excluded"] == []

    # re-briefed on v2: Ann leaves the queue, Bea is still waiting
    again = await world.briefed(iid, ann, "phone")
    assert again["talking_points_version"] == 2 and "2. Refunds in 3 days." in again["message"]
    assert [i["member_id"] for i in await queue(world, iid)] == [bea]
    assert excluded(await world.suggestions(iid)) == {ann: "already_briefed"}
    await world.briefed(iid, bea)
    assert await queue(world, iid) == []


async def test_the_changes_are_from_each_members_own_version(world):
    iid = await world.incident(platforms=["x"])
    other = await world.incident("Another", platforms=["x"])
    ann, bea = await world.member("Ann"), await world.member("Bea")
    await approve(world, iid, V1)
    await world.briefed(iid, ann)
    await approve(world, iid, V2)
    await world.briefed(iid, bea)
    await approve(world, other, V1)
    await world.briefed(other, bea)  # another incident's briefing is no concern of this queue
    await approve(world, iid, V3)

    items = {i["member_id"]: i for i in await queue(world, iid, who="dave")}  # viewers may read it
    assert set(items) == {ann, bea}
    assert (items[ann]["briefed_version"], items[ann]["current_version"]) == (1, 3)
    assert marked(items[ann]["changes"]["points"], "+") == [
        "Refunds in 3 days.",
        "Support is open late.",
        "Vouchers for everyone.",
    ]
    assert marked(items[ann]["changes"]["points"], "-") == ["Refunds in 5 days."]
    assert (items[bea]["briefed_version"], items[bea]["current_version"]) == (2, 3)
    assert marked(items[bea]["changes"]["points"], "+") == ["Vouchers for everyone."]
    assert marked(items[bea]["changes"]["points"], "-") == []
    assert marked(items[bea]["changes"]["links"], "-") == ["https://example.com/refunds"]
    assert await queue(world, other) == []

    r = await world.api.get("/api/v1/incidents/9999/rebrief", headers=world.h)
    assert r.status_code == 404 and error(r)["code"] == "not_found"
    assert (await world.api.get(f"/api/v1/incidents/{iid}/rebrief")).status_code == 401
