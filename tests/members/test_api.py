"""The members JSON API: creating, reading, listing, changing and deleting members,
the refusals (409 on duplicates, 422 naming the field, 403 by role), on both engines."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from crm.audit.tables import AuditEntry
from crm.members.tables import Handle, Interaction, Member, MemberDay, MemberTopic
from tests.conftest import error

ENGAGEMENT_KEYS = {
    "score",
    "interactions_7d",
    "interactions_30d",
    "interactions_90d",
    "interactions_365d",
    "first_interaction_at",
    "last_interaction_at",
    "usual_gap_days",
    "positive_share_90d",
    "negative_share_90d",
    "trend",
    "reach",
    "state",
}


# ---- helpers shared by the members tests ---------------------------------------------------------


def iso(at) -> str:
    return at.isoformat()


async def create(api, **body) -> dict:
    response = await api.post("/api/v1/members", json={"name": "Someone", **body})
    assert response.status_code == 201, response.text
    return response.json()


async def log(api, **body) -> dict:
    response = await api.post("/api/v1/interactions", json={"kind": "comment", **body})
    assert response.status_code == 201, response.text
    return response.json()


async def counts() -> dict[str, int]:
    """How many rows each members table holds, and the audit log: to show nothing was written."""
    return {
        "member": await Member.count().run(),
        "handle": await Handle.count().run(),
        "topic": await MemberTopic.count().run(),
        "interaction": await Interaction.count().run(),
        "day": await MemberDay.count().run(),
        "audit": await AuditEntry.count().where(AuditEntry.entity.is_in(["member", "interaction"])).run(),
    }


async def audit(action: str, record_id) -> list[dict]:
    """Audit entries for one action on one record, oldest first, with before/after as dicts."""
    return (
        await AuditEntry.select()
        .where((AuditEntry.action == action) & (AuditEntry.record_id == str(record_id)))
        .order_by(AuditEntry.id)
        .output(load_json=True)
        .run()
    )


async def walk(api, url: str, limit: int, **params) -> list[dict]:
    """Every item of a keyset-paginated list, page by page."""
    items, cursor, pages = [], None, 0
    while True:
        query = {**params, "limit": limit} | ({"cursor": cursor} if cursor else {})
        response = await api.get(url, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor, pages = page["next"], pages + 1
        if cursor is None:
            return items
        assert pages < 100, "pagination does not end"


# ---- create ----------------------------------------------------------------------------------------


async def test_it_creates_a_member_with_defaults(api, clock):
    response = await api.post("/api/v1/members", json={"name": "Jane Doe"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "Jane Doe"
    assert body["tier"] == "member"
    assert body["consent_private_briefing"] is False and body["consent_recorded_at"] is None
    assert body["do_not_contact"] is False
    assert body["email"] is None and body["topics"] == [] and body["handles"] == []
    stored = await Member.select().where(Member.id == body["id"]).first().run()
    assert stored["name"] == "Jane Doe" and stored["tier"] == "member" and stored["deleted_at"] is None
    [entry] = await audit("member.create", body["id"])
    assert entry["after"]["name"] == "Jane Doe"


async def test_it_normalises_topics_email_and_handles(api):
    body = await create(
        api,
        name="Jane",
        email="  Jane.Doe@Example.COM ",
        topics=["Travel", "travel", " FOOD ", "food", "Slow  Travel"],
        handles=[{"platform": "x", "handle": "@JaneD", "followers": 120, "url": "https://x.com/JaneD"}],
        consent_private_briefing=True,
        tier="advocate",
    )
    assert body["email"] == "jane.doe@example.com"
    assert sorted(body["topics"]) == ["food", "slow travel", "travel"]
    assert body["handles"] == [{"platform": "x", "handle": "JaneD", "followers": 120, "url": "https://x.com/JaneD"}]
    assert body["tier"] == "advocate"
    assert body["consent_private_briefing"] is True and body["consent_recorded_at"] is not None
    assert body["engagement"]["reach"] == 120
    assert await MemberTopic.count().where(MemberTopic.member == body["id"]).run() == 3


async def test_it_refuses_a_duplicate_email_in_any_case_naming_the_existing_member(api):
    await create(api, name="Someone first")
    first = await create(api, name="Jane", email="jane@example.com")
    before = await counts()
    for email in ["jane@example.com", "JANE@example.com", " Jane@Example.com "]:
        response = await api.post("/api/v1/members", json={"name": "Other Jane", "email": email})
        assert response.status_code == 409, email
        assert error(response)["code"] == "conflict"
        assert f"member {first['id']}" in error(response)["message"]
    assert await counts() == before


async def test_it_refuses_a_duplicate_handle_on_the_same_platform_naming_the_existing_member(api):
    await create(api, name="Someone first")
    first = await create(api, name="Jane", handles=[{"platform": "instagram", "handle": "JaneD"}])
    before = await counts()
    for handle in ["janed", "@JaneD", "JANED", " @janed "]:
        response = await api.post(
            "/api/v1/members", json={"name": "Other", "handles": [{"platform": "instagram", "handle": handle}]}
        )
        assert response.status_code == 409, (handle, response.text)
        assert f"member {first['id']}" in error(response)["message"]
    assert await counts() == before


async def test_it_accepts_the_same_handle_on_another_platform(api):
    await create(api, name="Jane", handles=[{"platform": "x", "handle": "janed"}])
    other = await create(api, name="Jane on TikTok", handles=[{"platform": "tiktok", "handle": "@janed"}])
    assert other["handles"] == [{"platform": "tiktok", "handle": "janed", "followers": None, "url": None}]


async def test_it_refuses_a_handle_listed_twice_in_one_request(api):
    response = await api.post(
        "/api/v1/members",
        json={"name": "Twice", "handles": [{"platform": "x", "handle": "same"}, {"platform": "x", "handle": "@SAME"}]},
    )
    assert response.status_code == 422
    assert "handles[1].handle" in error(response)["fields"]
    assert await Member.count().run() == 0


# ---- read one ------------------------------------------------------------------------------------


async def test_it_shows_one_member_with_handles_and_exactly_the_engagement_keys(api, clock):
    member = await create(
        api,
        name="Jane",
        handles=[
            {"platform": "x", "handle": "jane", "followers": 10},
            {"platform": "youtube", "handle": "JaneTube", "followers": 5},
        ],
    )
    await log(api, member_id=member["id"], platform="x", kind="post", occurred_at=iso(clock()))
    response = await api.get(f"/api/v1/members/{member['id']}")
    assert response.status_code == 200
    body = response.json()
    assert set(body["engagement"]) == ENGAGEMENT_KEYS
    assert body["engagement"]["score"] == 3.0
    assert body["engagement"]["interactions_7d"] == 1
    assert body["engagement"]["reach"] == 15
    assert {(h["platform"], h["handle"], h["followers"]) for h in body["handles"]} == {
        ("x", "jane", 10),
        ("youtube", "JaneTube", 5),
    }


async def test_it_answers_404_for_an_unknown_member(api):
    response = await api.get("/api/v1/members/987654")
    assert response.status_code == 404 and error(response)["code"] == "not_found"


# ---- the list --------------------------------------------------------------------------------------


@pytest.fixture
async def crowd(api, clock):
    """A small, varied population for the list tests: name -> member."""
    now = clock()
    made = {}
    made["ann"] = await create(
        api,
        name="Ann Archer",
        email="ann@archery.org",
        tier="champion",
        topics=["travel"],
        consent_private_briefing=True,
        handles=[{"platform": "x", "handle": "annarrow", "followers": 500}],
    )
    made["ben"] = await create(
        api,
        name="Ben Baker",
        email="ben@bakery.net",
        tier="advocate",
        topics=["food", "travel"],
        handles=[{"platform": "instagram", "handle": "BreadBen", "followers": 80}],
    )
    made["cat"] = await create(
        api,
        name="Cat Carver",
        tier="member",
        topics=["food"],
        handles=[{"platform": "tiktok", "handle": "catcarves", "followers": 80}],
    )
    made["dan"] = await create(api, name="Dan Dyer", email="dan@dyes.com", tier="advocate")
    for at, kind in ((now - timedelta(days=2), "post"), (now - timedelta(days=40), "post")):
        await log(api, member_id=made["ann"]["id"], platform="x", kind=kind, occurred_at=iso(at))
    await log(
        api, member_id=made["ben"]["id"], platform="instagram", kind="mention", occurred_at=iso(now - timedelta(days=1))
    )
    await log(
        api, member_id=made["cat"]["id"], platform="tiktok", kind="mention", occurred_at=iso(now - timedelta(days=200))
    )
    return made


async def names(api, **params) -> list[str]:
    response = await api.get("/api/v1/members", params=params)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


SEARCHES = [
    ("arch", {"Ann Archer"}),  # part of a name and an email
    ("ARCHER", {"Ann Archer"}),
    ("bakery.n", {"Ben Baker"}),  # part of an email only
    ("breadb", {"Ben Baker"}),  # part of a handle only, any case
    ("@catcar", {"Cat Carver"}),  # a handle written with @
    ("er", {"Ann Archer", "Ben Baker", "Cat Carver", "Dan Dyer"}),
    ("nobody-like-this", set()),
]


async def test_it_searches_names_emails_and_handles_partially(api, crowd):
    for q, expected in SEARCHES:
        assert set(await names(api, q=q)) == expected, q


FILTERS = [
    ({"tier": "advocate"}, {"Ben Baker", "Dan Dyer"}),
    ({"tier": "champion"}, {"Ann Archer"}),
    ({"topic": "food"}, {"Ben Baker", "Cat Carver"}),
    ({"topic": "Travel"}, {"Ann Archer", "Ben Baker"}),
    ({"platform": "instagram"}, {"Ben Baker"}),
    ({"platform": "reddit"}, set()),
    ({"consent": "yes"}, {"Ann Archer"}),
    ({"consent": "no"}, {"Ben Baker", "Cat Carver", "Dan Dyer"}),
    ({"state": "inactive"}, {"Cat Carver", "Dan Dyer"}),
    ({"state": "new"}, {"Ben Baker"}),
    ({"state": "active"}, {"Ann Archer"}),
    ({"tier": "advocate", "topic": "food"}, {"Ben Baker"}),
    ({"q": "b", "consent": "no", "platform": "instagram"}, {"Ben Baker"}),
]


async def test_it_filters_the_list(api, crowd):
    for params, expected in FILTERS:
        assert set(await names(api, **params)) == expected, params


async def test_it_sorts_the_list(api, crowd):
    assert await names(api, sort="name") == ["Ann Archer", "Ben Baker", "Cat Carver", "Dan Dyer"]
    assert (await names(api, sort="reach"))[:1] == ["Ann Archer"]
    assert await names(api, sort="score") == ["Ann Archer", "Ben Baker", "Cat Carver", "Dan Dyer"]
    assert await names(api, sort="last_interaction") == ["Ben Baker", "Ann Archer", "Cat Carver", "Dan Dyer"]
    assert await names(api) == await names(api, sort="score")  # score is the default


async def test_it_refuses_unknown_list_options_naming_them(api):
    for params, field in [
        ({"sort": "age"}, "sort"),
        ({"tier": "gold"}, "tier"),
        ({"platform": "myspace"}, "platform"),
        ({"state": "sleeping"}, "state"),
        ({"consent": "maybe"}, "consent"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"q": "x" * 201}, "q"),
    ]:
        response = await api.get("/api/v1/members", params=params)
        assert response.status_code == 422, params
        assert field in error(response)["fields"], params


async def _population_for_paging(api, clock) -> None:
    """Thirteen members with ties on every sort key and some without any interaction."""
    now = clock()
    for n in range(13):
        followers = [100, 100, 50, 0, 7][n % 5]
        member = await create(
            api, name=f"Member {n % 4}", handles=[{"platform": "forum", "handle": f"m{n}", "followers": followers}]
        )
        if n % 3 == 0:
            continue  # never interacted: no score, no last interaction
        # Pairs of members share the same interaction (and so the same score and last time).
        at = now - timedelta(days=n // 2, hours=3) + timedelta(minutes=17, microseconds=250)
        await log(api, member_id=member["id"], platform="forum", kind="reply", occurred_at=iso(at))


def _expected_order(rows: list[dict], sort: str) -> list[int]:
    column = {"score": "score_log2", "reach": "reach", "last_interaction": "last_interaction_at"}[sort]
    with_value = [r for r in rows if r[column] is not None]
    without = [r for r in rows if r[column] is None]
    ordered = sorted(with_value, key=lambda r: (r[column], r["id"]), reverse=True)
    return [r["id"] for r in ordered + sorted(without, key=lambda r: r["id"], reverse=True)]


async def test_it_pages_through_every_member_exactly_once_in_order(api, clock):
    await _population_for_paging(api, clock)
    rows = await Member.select().run()
    for sort in ("score", "last_interaction", "reach", "name"):
        items = await walk(api, "/api/v1/members", limit=2, sort=sort)
        ids = [item["id"] for item in items]
        assert len(ids) == len(set(ids)) == 13, sort
        if sort == "name":
            # Names tie in fours; ties are broken by id, in the same (ascending) direction.
            pairs = [(item["name"], item["id"]) for item in items]
            assert pairs == sorted(pairs)
        else:
            assert ids == _expected_order(rows, sort), sort
        # The same order as one big page.
        response = await api.get("/api/v1/members", params={"sort": sort, "limit": 200})
        assert [item["id"] for item in response.json()["items"]] == ids, sort
        assert response.json()["next"] is None
        # And with a filter on top, pages still hold exactly the filtered members.
        filtered = await walk(api, "/api/v1/members", limit=3, sort=sort, q="member 1")
        assert [i["id"] for i in filtered] == [
            i for i in ids if i in {r["id"] for r in rows if r["name"] == "Member 1"}
        ], sort


def _cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


FORGED_CURSORS = [
    ("score", "definitely not a cursor"),
    ("score", "%%%"),
    ("score", _cursor({"a": 1})),
    ("score", _cursor(["high", 3])),
    ("score", _cursor([1.5])),
    ("score", _cursor([1.5, "3"])),
    ("score", _cursor([1.5, 2**40])),
    ("name", _cursor([5, 3])),
    ("reach", _cursor(["lots", 3])),
    ("reach", _cursor([2**40, 3])),
    ("last_interaction", _cursor(["yesterday", 3])),
    ("last_interaction", _cursor([12, 3])),
    ("last_interaction", _cursor(["2026-01-01T00:00:00", 3])),  # no offset
    ("name", _cursor(["nul\u0000byte", 3])),
    ("score", _cursor([True, 3])),
    ("score", _cursor([10**400, 3])),
    ("reach", _cursor([True, 3])),
    ("name", _cursor(["Ann", True])),
]


async def test_it_refuses_a_forged_cursor_naming_it(api, crowd):
    for sort, cursor in FORGED_CURSORS:
        response = await api.get("/api/v1/members", params={"sort": sort, "cursor": cursor, "limit": 2})
        assert response.status_code == 422, (sort, base64.urlsafe_b64decode(cursor + "==="), response.text)
        assert "cursor" in error(response)["fields"]
    # A genuine cursor still works with the same filters.
    first = (await api.get("/api/v1/members", params={"sort": "name", "limit": 2})).json()
    second = await api.get("/api/v1/members", params={"sort": "name", "limit": 2, "cursor": first["next"]})
    assert [i["name"] for i in second.json()["items"]] == ["Cat Carver", "Dan Dyer"]


# ---- change ------------------------------------------------------------------------------------------


async def test_it_changes_only_the_fields_sent_and_audits_before_and_after(api, users):
    member = await create(
        api,
        name="Jane",
        email="jane@example.com",
        tier="advocate",
        topics=["food"],
        notes="Met at the fair.",
        handles=[{"platform": "x", "handle": "jane", "followers": 3}],
    )
    response = await api.patch(f"/api/v1/members/{member['id']}", json={"tier": "champion"})
    assert response.status_code == 200, response.text
    body = response.json()
    unchanged = {k: v for k, v in member.items() if k not in ("tier", "updated_at", "engagement")}
    assert {k: v for k, v in body.items() if k not in ("tier", "updated_at", "engagement")} == unchanged
    assert body["tier"] == "champion"
    entries = await audit("member.update", member["id"])
    assert len(entries) == 1
    assert entries[0]["before"]["tier"] == "advocate" and entries[0]["after"]["tier"] == "champion"
    assert entries[0]["before"]["notes"] == entries[0]["after"]["notes"] == "Met at the fair."
    assert entries[0]["actor"] == users["alice"]["id"]


async def test_it_stamps_when_and_by_whom_consent_was_recorded(api, clock, users):
    member = await create(api, name="Jane")
    clock.advance(days=3)
    response = await api.patch(f"/api/v1/members/{member['id']}", json={"consent_private_briefing": True})
    assert response.status_code == 200
    assert response.json()["consent_private_briefing"] is True
    stored = await Member.select().where(Member.id == member["id"]).first().run()
    assert stored["consent_recorded_at"] == clock()
    assert stored["consent_recorded_by"] == users["alice"]["id"]
    # Sending the same value again records nothing new.
    clock.advance(days=1)
    await api.patch(f"/api/v1/members/{member['id']}", json={"consent_private_briefing": True, "name": "Janet"})
    stored = await Member.select().where(Member.id == member["id"]).first().run()
    assert stored["consent_recorded_at"] == clock() - timedelta(days=1)
    # Withdrawing it is recorded too.
    clock.advance(days=1)
    await api.patch(f"/api/v1/members/{member['id']}", json={"consent_private_briefing": False})
    stored = await Member.select().where(Member.id == member["id"]).first().run()
    assert stored["consent_private_briefing"] is False and stored["consent_recorded_at"] == clock()


async def test_it_replaces_topics_and_handles_and_refuses_another_members_handle_or_email(api):
    jane = await create(
        api, name="Jane", email="jane@example.com", topics=["food"], handles=[{"platform": "x", "handle": "jane"}]
    )
    other = await create(api, name="Other", email="other@example.com", handles=[{"platform": "x", "handle": "other"}])
    response = await api.patch(
        f"/api/v1/members/{jane['id']}",
        json={
            "topics": ["Music"],
            "handles": [{"platform": "x", "handle": "jane"}, {"platform": "reddit", "handle": "j"}],
        },
    )
    assert response.status_code == 200
    assert response.json()["topics"] == ["music"]
    assert len(response.json()["handles"]) == 2
    before = await counts()
    for change in ({"email": "OTHER@example.com"}, {"handles": [{"platform": "x", "handle": "@Other"}]}):
        response = await api.patch(f"/api/v1/members/{jane['id']}", json=change)
        assert response.status_code == 409, response.text
        assert f"member {other['id']}" in error(response)["message"]
    assert await counts() == before
    assert (await api.get(f"/api/v1/members/{jane['id']}")).json()["email"] == "jane@example.com"


async def test_it_answers_404_when_changing_an_unknown_member(api):
    response = await api.patch("/api/v1/members/987654", json={"name": "Nobody"})
    assert response.status_code == 404


# ---- delete ------------------------------------------------------------------------------------------


async def test_it_soft_deletes_a_member(api, clock):
    member = await create(api, name="Jane", handles=[{"platform": "x", "handle": "jane"}])
    await log(api, member_id=member["id"], platform="x", occurred_at=iso(clock()))
    response = await api.delete(f"/api/v1/members/{member['id']}")
    assert response.status_code == 204
    assert (await api.get(f"/api/v1/members/{member['id']}")).status_code == 404
    assert (await api.patch(f"/api/v1/members/{member['id']}", json={"name": "X"})).status_code == 404
    assert (await api.delete(f"/api/v1/members/{member['id']}")).status_code == 404
    assert member["id"] not in [i["id"] for i in (await api.get("/api/v1/members")).json()["items"]]
    stored = await Member.select().where(Member.id == member["id"]).first().run()
    assert stored is not None and stored["deleted_at"] == clock() and stored["name"] == "Jane"
    assert await Interaction.count().where(Interaction.member == member["id"]).run() == 1
    assert (
        await AuditEntry.exists()
        .where((AuditEntry.action == "member.delete") & (AuditEntry.record_id == str(member["id"])))
        .run()
    )


# ---- bad input ---------------------------------------------------------------------------------------

BAD_MEMBERS = [
    ({"tier": "gold"}, "tier"),
    ({"handles": [{"platform": "myspace", "handle": "jane"}]}, "handles[0].platform"),
    ({"handles": [{"platform": "x", "handle": "jane", "followers": -1}]}, "handles[0].followers"),
    ({"handles": [{"platform": "x", "handle": "jane", "url": "not a url"}]}, "handles[0].url"),
    ({"handles": [{"platform": "x", "handle": "jane", "url": "javascript:alert(1)"}]}, "handles[0].url"),
    ({"handles": [{"platform": "x", "handle": "  "}]}, "handles[0].handle"),
    ({"email": "not-an-email"}, "email"),
    ({"name": "   "}, "name"),
    ({"notes": "n" * 10_001}, "notes"),
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ({"owner_id": 987654}, "owner"),
    ({"shoe_size": 44}, "shoe_size"),
]


async def test_it_refuses_bad_member_input_naming_the_field_and_writes_nothing(api):
    before = await counts()
    for body, field in BAD_MEMBERS:
        response = await api.post("/api/v1/members", json={"name": "Jane", **body})
        assert response.status_code == 422, (body, response.text)
        fields = error(response)["fields"]
        assert field in fields, (body, fields)
    assert await counts() == before


async def test_it_refuses_bad_changes_naming_the_field_and_changes_nothing(api):
    member = await create(api, name="Jane", handles=[{"platform": "x", "handle": "jane", "followers": 1}])
    before = await counts()
    for body, field in (
        ({"tier": "gold"}, "tier"),
        ({"handles": [{"platform": "x", "handle": "jane", "followers": -1}]}, "handles[0].followers"),
        ({"name": ""}, "name"),
    ):
        response = await api.patch(f"/api/v1/members/{member['id']}", json=body)
        assert response.status_code == 422, response.text
        assert field in error(response)["fields"], (body, error(response))
    assert await counts() == before
    assert (await api.get(f"/api/v1/members/{member['id']}")).json() == {
        **member,
        "engagement": (await api.get(f"/api/v1/members/{member['id']}")).json()["engagement"],
    }


BAD_INTERACTIONS = [
    ({"platform": "myspace"}, "platform"),
    ({"kind": "like"}, "kind"),
    ({"sentiment": "ecstatic"}, "sentiment"),
    ({"text": "t" * 10_001}, "text"),
    ({"url": "ftp://example.com/post"}, "url"),
    ({"url": "see my post"}, "url"),
    ("future", "occurred_at"),
    ({"occurred_at": "2026-03-01T10:00:00"}, "occurred_at"),  # no offset
    ({"occurred_at": "last tuesday"}, "occurred_at"),
    ({"incident_id": "seven"}, "incident_id"),
]


async def test_it_refuses_bad_interactions_naming_the_field_and_writes_nothing(api, clock):
    member = await create(api, name="Jane", handles=[{"platform": "x", "handle": "jane"}])
    before = await counts()
    for change, field in BAD_INTERACTIONS:
        if change == "future":
            change = {"occurred_at": iso(clock() + timedelta(days=1, minutes=1))}
        for who in ({"member_id": member["id"]}, {"handle": "somebody-new"}):
            body = {"platform": "x", "kind": "reply", "occurred_at": iso(clock()), **who, **change}
            response = await api.post("/api/v1/interactions", json=body)
            assert response.status_code == 422, (body, response.text)
            assert field in error(response)["fields"], (body, error(response))
    assert await counts() == before


async def test_it_accepts_an_interaction_up_to_a_day_ahead_and_exactly_10000_characters(api, clock):
    member = await create(api, name="Jane")
    created = await log(
        api, member_id=member["id"], platform="x", text="t" * 10_000, occurred_at=iso(clock() + timedelta(days=1))
    )
    assert len(created["text"]) == 10_000


# ---- who may write -------------------------------------------------------------------------------


async def _every_write(api, member_id: int, other_id: int, headers: dict, now) -> list:
    return [
        await api.post("/api/v1/members", json={"name": "Intruder"}, headers=headers),
        await api.patch(f"/api/v1/members/{member_id}", json={"name": "Changed"}, headers=headers),
        await api.delete(f"/api/v1/members/{member_id}", headers=headers),
        await api.post(
            "/api/v1/interactions",
            json={"member_id": member_id, "platform": "x", "kind": "post", "occurred_at": iso(now)},
            headers=headers,
        ),
        await api.post(
            "/api/v1/interactions",
            json={"handle": "newcomer", "platform": "x", "kind": "post", "occurred_at": iso(now)},
            headers=headers,
        ),
        await api.post("/api/v1/members/merge", json={"keep": member_id, "merge": other_id}, headers=headers),
        await api.post(f"/api/v1/members/{member_id}/erase", headers=headers),
    ]


@pytest.mark.parametrize("who", ["carol", "dave"])
async def test_it_forbids_every_write_to_agents_and_viewers(api, auth, clock, who):
    member = await create(api, name="Jane", handles=[{"platform": "x", "handle": "jane"}])
    other = await create(api, name="Jane again")
    before = await counts()
    responses = await _every_write(api, member["id"], other["id"], auth[who], clock())
    assert [r.status_code for r in responses] == [403] * len(responses)
    assert all(error(r)["code"] == "forbidden" for r in responses)
    assert await counts() == before
    # Reading is fine.
    assert (await api.get(f"/api/v1/members/{member['id']}", headers=auth[who])).status_code == 200
    assert (await api.get("/api/v1/members", headers=auth[who])).status_code == 200


async def test_it_lets_managers_write_but_only_admins_erase(api, auth, clock):
    member = await create(api, name="Jane", handles=[{"platform": "x", "handle": "jane"}])
    bob = auth["bob"]
    assert (await api.post("/api/v1/members", json={"name": "By Bob"}, headers=bob)).status_code == 201
    assert (await api.patch(f"/api/v1/members/{member['id']}", json={"notes": "hi"}, headers=bob)).status_code == 200
    response = await api.post(f"/api/v1/members/{member['id']}/erase", headers=bob)
    assert response.status_code == 403
    stored = await Member.select().where(Member.id == member["id"]).first().run()
    assert stored["erased_at"] is None and stored["name"] == "Jane"
    response = await api.post(f"/api/v1/members/{member['id']}/erase")  # alice
    assert response.status_code == 200


async def test_it_needs_a_token(client):
    response = await client.get("/api/v1/members")
    assert response.status_code == 401
    response = await client.post("/api/v1/members", json={"name": "Anonymous"})
    assert response.status_code in (401, 403)  # no token, no session: the CSRF check refuses first
    assert await Member.count().run() == 0
