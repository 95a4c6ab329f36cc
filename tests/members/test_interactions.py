"""Logging interactions through the API: by member or handle, idempotent on external_id,
the timeline, troll flags, and all-or-nothing writes."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from zoneinfo import ZoneInfo

from crm.audit.service import Actor
from crm.audit.tables import AuditEntry
from crm.members import engagement, interactions, links, read
from crm.members.tables import Handle, Interaction, Member, MemberDay
from tests.members.test_api import counts, create, error, iso, log


async def rollup_of(member_id: int) -> dict:
    row = (
        await Member.select(
            Member.interactions_total,
            Member.first_interaction_at,
            Member.last_interaction_at,
            Member.score_log2,
            Member.usual_gap_seconds,
            Member.quiet_after,
        )
        .where(Member.id == member_id)
        .first()
        .run()
    )
    days = (
        await MemberDay.select(
            MemberDay.day,
            MemberDay.total,
            MemberDay.positive,
            MemberDay.negative,
            MemberDay.neutral,
            MemberDay.unknown,
            MemberDay.troll,
        )
        .where(MemberDay.member == member_id)
        .order_by(MemberDay.day)
        .run()
    )
    return {**row, "days": days}


async def test_it_logs_an_interaction_for_a_member_id(api, clock, users):
    member = await create(api, name="Jane", handles=[{"platform": "x", "handle": "jane"}])
    incident = (await api.post("/api/v1/incidents", json={"title": "Bad ad", "severity": "low"})).json()["id"]
    occurred = clock() - timedelta(hours=5)
    response = await api.post(
        "/api/v1/interactions",
        json={
            "member_id": member["id"],
            "platform": "x",
            "kind": "review",
            "sentiment": "positive",
            "occurred_at": occurred.astimezone(ZoneInfo("Europe/Paris")).isoformat(),
            "text": "Loved it",
            "url": "https://x.com/jane/status/1",
            "external_id": "1",
            "incident_id": incident,
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["member_id"] == member["id"] and body["kind"] == "review" and body["sentiment"] == "positive"
    assert body["incident_id"] == incident and body["troll"] is False and body["external_id"] == "1"
    assert body["occurred_at"] == occurred.isoformat().replace("+00:00", "Z")  # stored and shown in UTC
    stored = await Interaction.select().where(Interaction.id == body["id"]).first().run()
    assert stored["incident_id"] == incident and stored["logged_by"] == users["alice"]["id"]
    assert stored["occurred_at"] == occurred and stored["text"] == "Loved it"
    rollup = await rollup_of(member["id"])
    assert rollup["interactions_total"] == 1 and rollup["last_interaction_at"] == occurred
    assert [(d["day"], d["total"], d["positive"]) for d in rollup["days"]] == [(occurred.date(), 1, 1)]
    assert (
        await AuditEntry.exists()
        .where((AuditEntry.action == "interaction.create") & (AuditEntry.record_id == str(body["id"])))
        .run()
    )


async def test_it_logs_an_interaction_by_platform_and_handle(api, clock):
    member = await create(api, name="Jane", handles=[{"platform": "instagram", "handle": "Jane.Travels"}])
    body = await log(api, platform="instagram", handle="@JANE.travels", occurred_at=iso(clock()))
    assert body["member_id"] == member["id"]
    assert await Member.count().run() == 1


async def test_it_refuses_an_unknown_or_deleted_member_id(api, clock):
    member = await create(api, name="Jane")
    await api.delete(f"/api/v1/members/{member['id']}")
    before = await counts()
    for member_id in (member["id"], 987654):
        response = await api.post(
            "/api/v1/interactions",
            json={"member_id": member_id, "platform": "x", "kind": "post", "occurred_at": iso(clock())},
        )
        assert response.status_code == 404, response.text
    response = await api.post("/api/v1/interactions", json={"kind": "post", "occurred_at": iso(clock())})
    assert response.status_code == 422
    assert await counts() == before


async def test_it_creates_a_member_for_an_unknown_handle(api, clock):
    body = await log(api, platform="tiktok", handle="@NewFace", occurred_at=iso(clock()))
    member = (await api.get(f"/api/v1/members/{body['member_id']}")).json()
    assert member["tier"] == "member"
    assert member["handles"] == [{"platform": "tiktok", "handle": "NewFace", "followers": None, "url": None}]
    assert member["engagement"]["interactions_7d"] == 1
    # The next interaction from that handle finds the same member.
    again = await log(api, platform="tiktok", handle="newface", occurred_at=iso(clock()))
    assert again["member_id"] == body["member_id"]
    assert await Member.count().run() == 1


async def test_it_refuses_a_handle_of_a_deleted_member_rather_than_creating_another(api, clock):
    member = await create(api, name="Jane", handles=[{"platform": "x", "handle": "jane"}])
    await api.delete(f"/api/v1/members/{member['id']}")
    before = await counts()
    response = await api.post(
        "/api/v1/interactions", json={"platform": "x", "handle": "jane", "kind": "post", "occurred_at": iso(clock())}
    )
    assert response.status_code == 409
    assert str(member["id"]) in error(response)["message"]
    assert await counts() == before


async def test_it_does_not_count_the_same_external_id_twice(api, clock):
    member = await create(api, name="Jane", handles=[{"platform": "x", "handle": "jane"}])
    body = {"platform": "x", "handle": "jane", "kind": "post", "occurred_at": iso(clock()), "external_id": "tw-1"}
    first = await api.post("/api/v1/interactions", json=body)
    assert first.status_code == 201
    rollup = await rollup_of(member["id"])
    before = await counts()
    clock.advance(hours=1)
    for repeat in (body, {**body, "kind": "share", "sentiment": "negative"}, {**body, "member_id": member["id"]}):
        again = await api.post("/api/v1/interactions", json=repeat)
        assert again.status_code == 200, again.text
        assert again.json() == first.json()
    assert await counts() == before
    assert await rollup_of(member["id"]) == rollup
    # The same id on another platform is another interaction.
    other = await api.post("/api/v1/interactions", json={**body, "platform": "reddit", "handle": "jane"})
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    assert await Interaction.count().run() == 2


async def test_it_lists_a_members_interactions_newest_first_page_by_page(api, clock):
    member = await create(api, name="Jane")
    now = clock()
    times = [now - timedelta(days=d) for d in (3, 0, 10, 3, 1, 3, 200)]  # ties on purpose
    made = []
    for n, at in enumerate(times):
        made.append(await log(api, member_id=member["id"], platform="x", occurred_at=iso(at), text=f"#{n}"))
    other = await create(api, name="Other")
    await log(api, member_id=other["id"], platform="x", occurred_at=iso(now))
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        response = await api.get(f"/api/v1/members/{member['id']}/interactions", params=params)
        assert response.status_code == 200
        seen += response.json()["items"]
        cursor = response.json()["next"]
        if cursor is None:
            break
    expected = sorted(
        zip(times, (r["id"] for r in made), strict=False), reverse=True
    )  # newest first, then the later id
    assert [r["id"] for r in seen] == [i for _, i in expected]
    assert all(r["member_id"] == member["id"] for r in seen)
    for params in ({"cursor": "nonsense"}, {"limit": 0}, {"limit": 201}):
        response = await api.get(f"/api/v1/members/{member['id']}/interactions", params=params)
        assert response.status_code == 422 and set(params) <= set(error(response)["fields"])
    assert (await api.get("/api/v1/members/987654/interactions")).status_code == 404


async def test_it_keeps_troll_interactions_but_leaves_them_out_of_sentiment(api, clock):
    member = await create(api, name="Jane")
    now = clock()
    await log(api, member_id=member["id"], platform="x", sentiment="positive", occurred_at=iso(now))
    await log(api, member_id=member["id"], platform="x", sentiment="negative", occurred_at=iso(now))
    troll = await log(api, member_id=member["id"], platform="x", sentiment="negative", troll=True, occurred_at=iso(now))
    assert troll["troll"] is True
    engagement_ = (await api.get(f"/api/v1/members/{member['id']}")).json()["engagement"]
    assert engagement_["interactions_7d"] == 3  # still counted as an interaction
    assert engagement_["positive_share_90d"] == 0.5 and engagement_["negative_share_90d"] == 0.5
    # Flag the positive one: the shares follow; clear it again: back as before.
    positive = await Interaction.select().where(Interaction.sentiment == "positive").first().run()
    flagged = await interactions.set_troll(
        interaction_id=positive["id"], troll=True, actor=Actor.system("test"), now=now
    )
    assert flagged["troll"] is True
    engagement_ = (await api.get(f"/api/v1/members/{member['id']}")).json()["engagement"]
    assert engagement_["positive_share_90d"] == 0.0 and engagement_["negative_share_90d"] == 1.0
    [day] = (await rollup_of(member["id"]))["days"]
    assert (day["total"], day["positive"], day["negative"], day["troll"]) == (3, 0, 1, 2)
    await interactions.set_troll(interaction_id=troll["id"], troll=False, actor=Actor.system("test"), now=now)
    await interactions.set_troll(interaction_id=positive["id"], troll=False, actor=Actor.system("test"), now=now)
    engagement_ = (await api.get(f"/api/v1/members/{member['id']}")).json()["engagement"]
    assert engagement_["positive_share_90d"] == round(1 / 3, 4) and engagement_["negative_share_90d"] == round(2 / 3, 4)
    assert await Interaction.count().where(Interaction.member == member["id"]).run() == 3
    troll_audit = await AuditEntry.count().where(AuditEntry.action == "interaction.troll").run()
    assert troll_audit == 3
    # Setting the flag it already has changes nothing and records nothing.
    await interactions.set_troll(interaction_id=troll["id"], troll=False, actor=Actor.system("test"), now=now)
    assert await AuditEntry.count().where(AuditEntry.action == "interaction.troll").run() == 3


async def test_it_leaves_nothing_behind_when_a_write_fails_half_way(api, clock, monkeypatch):
    member = await create(api, name="Jane", handles=[{"platform": "x", "handle": "jane"}])
    await log(api, member_id=member["id"], platform="x", occurred_at=iso(clock() - timedelta(days=2)))
    rollup = await rollup_of(member["id"])
    before = await counts()
    real = engagement.apply_interaction

    async def apply_then_fail(**kwargs):
        await real(**kwargs)  # the rollup is changed ...
        raise RuntimeError("the disk is on fire")  # ... and then the write fails

    monkeypatch.setattr(engagement, "apply_interaction", apply_then_fail)
    for who in ({"member_id": member["id"]}, {"handle": "jane"}, {"handle": "brand-new-person"}):
        response = await api.post(
            "/api/v1/interactions",
            json={"platform": "x", "kind": "post", "occurred_at": iso(clock()), "external_id": "e-1", **who},
        )
        assert response.status_code == 500
    assert await counts() == before  # no interaction, no new member or handle, no day row, no audit entry
    assert await rollup_of(member["id"]) == rollup
    assert not await Handle.exists().where(Handle.handle == "brand-new-person").run()
    # Once the fault is gone, the same request goes through (the external id was not taken).
    monkeypatch.setattr(engagement, "apply_interaction", real)
    created = await log(api, member_id=member["id"], platform="x", occurred_at=iso(clock()), external_id="e-1")
    assert (await read.member_read(member["id"], clock())).engagement.interactions_7d == 2
    assert created["external_id"] == "e-1"


async def test_it_copes_with_concurrent_writes_for_one_person(api, clock):
    """The same new handle, the same external id, or the same member, several requests at once
    (on PostgreSQL they really overlap: the pool has several connections)."""

    def body(n: int, external_id: str) -> dict:
        return {
            "platform": "x",
            "handle": "burst",
            "kind": "mention",
            "occurred_at": iso(clock()),
            "external_id": external_id,
        }

    responses = await asyncio.gather(*[api.post("/api/v1/interactions", json=body(n, f"b-{n}")) for n in range(4)])
    assert sorted(r.status_code for r in responses) == [201] * 4, [r.text for r in responses]
    assert await Member.count().run() == 1 and await Interaction.count().run() == 4
    responses = await asyncio.gather(*[api.post("/api/v1/interactions", json=body(0, "same")) for _ in range(4)])
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201], [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert await Interaction.count().run() == 5
    [member] = await Member.select().run()
    responses = await asyncio.gather(
        *[
            api.post(
                "/api/v1/interactions",
                json={"member_id": member["id"], "platform": "x", "kind": "post", "occurred_at": iso(clock())},
            )
            for _ in range(4)
        ]
    )
    assert [r.status_code for r in responses] == [201] * 4, [r.text for r in responses]
    [member] = await Member.select().run()
    assert member["interactions_total"] == 9 and await Interaction.count().run() == 9
    assert (await rollup_of(member["id"]))["days"][0]["total"] == 9


async def test_it_refuses_an_unknown_incident_and_logs_by_member_id_alone(api, clock):
    member = await create(api, name="Jane", handles=[{"platform": "instagram", "handle": "jane"}])
    body = {"member_id": member["id"], "kind": "comment", "occurred_at": clock().isoformat()}
    response = await api.post("/api/v1/interactions", json={**body, "incident_id": 999})
    assert response.status_code == 422 and "incident_id" in response.json()["error"]["fields"]
    assert await Interaction.count().run() == 0
    response = await api.post("/api/v1/interactions", json=body)  # no platform: their first handle's
    assert response.status_code == 201 and response.json()["platform"] == "instagram"


async def test_the_incident_is_checked_by_the_check_incidents_registered(api, clock, monkeypatch):
    asked = []

    async def check(incident_id: int) -> bool:  # stands in for crm.incidents.queries.exists (crm/wiring.py)
        asked.append(incident_id)
        return incident_id == 7

    monkeypatch.setitem(links._checks, "incident", check)
    member = await create(api, name="Jane")
    body = {"member_id": member["id"], "platform": "x", "kind": "comment", "occurred_at": clock().isoformat()}
    assert (await api.post("/api/v1/interactions", json={**body, "incident_id": 8})).status_code == 422
    response = await api.post("/api/v1/interactions", json={**body, "incident_id": 7})
    assert response.status_code == 201 and asked == [8, 7]
    assert (await Interaction.select(Interaction.incident_id).first().run())["incident_id"] == 7
