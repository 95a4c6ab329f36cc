"""POST /api/v1/interactions/bulk: up to 1,000 interactions as a JSON array or NDJSON, with the single endpoint's
fields and rules; one result per item in the order sent (created, duplicate, rejected naming the field); one
transaction with its audit entry; rollups folded in bulk equal to a rebuild; whole-body refusals that write
nothing; on both engines."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, timedelta, timezone

import pytest

from crm.audit.tables import AuditEntry
from crm.members.bulk import interactions as bulk_interactions
from crm.members.bulk import rebuild_all
from crm.members.tables import Handle, Interaction, Member, MemberDay
from crm.members.vocab import BULK_STATUSES, KINDS
from tests.conftest import error
from tests.imports.conftest import assert_same_rollups, rollups
from tests.members.test_api import BAD_INTERACTIONS, create, iso, log

URL = "/api/v1/interactions/bulk"


def ndjson(items: list) -> bytes:
    return b"".join(json.dumps(item).encode() + b"\n" for item in items)


async def post_ndjson(api, items: list, **kwargs):
    headers = {"Content-Type": "application/x-ndjson", **kwargs.pop("headers", {})}
    return await api.post(URL, content=ndjson(items), headers=headers, **kwargs)


async def counts() -> tuple[int, ...]:
    return (
        await Member.count().run(),
        await Handle.count().run(),
        await Interaction.count().run(),
        await MemberDay.count().run(),
        await AuditEntry.count().run(),
    )


def tweet(n: int, clock, **fields) -> dict:
    at = clock() - timedelta(hours=n)
    return {"platform": "x", "handle": f"fan{n % 3}", "kind": "mention", "occurred_at": iso(at), **fields}


def audit_after(entry: dict) -> dict:
    return json.loads(entry["after"]) if isinstance(entry["after"], str) else entry["after"]


# ---- the answer, item by item --------------------------------------------------------------------


@pytest.mark.parametrize("body", ["json", "ndjson"])
async def test_it_answers_created_duplicate_and_rejected_in_the_order_sent(api, clock, body):
    jane = await create(api, name="Jane", handles=[{"platform": "instagram", "handle": "jane"}])
    stored = await log(api, platform="x", handle="old", external_id="100", occurred_at=iso(clock()))
    before = await counts()
    items = [
        tweet(0, clock, external_id="1", sentiment="positive", text="Love it"),
        tweet(1, clock, external_id="100"),  # already stored
        tweet(2, clock, kind="like"),  # not a kind
        tweet(3, clock, external_id="1", sentiment="negative"),  # repeats item 0
        {"member_id": jane["id"], "kind": "comment", "occurred_at": iso(clock())},  # on her first handle's platform
        tweet(5, clock, external_id="100", platform="instagram"),  # another platform: not the stored one
        tweet(6, clock, occurred_at="2026-03-01T10:00:00"),  # no offset
        tweet(7, clock, handle=""),  # nobody
        {"member_id": 99_999, "kind": "comment", "occurred_at": iso(clock())},
    ]
    if body == "json":
        response = await api.post(URL, json=items)
    else:
        response = await post_ndjson(api, items)

    assert response.status_code == 200, response.text
    answer = response.json()["items"]
    assert [(i["index"], i["status"]) for i in answer] == [
        (0, "created"),
        (1, "duplicate"),
        (2, "rejected"),
        (3, "duplicate"),
        (4, "created"),
        (5, "created"),
        (6, "rejected"),
        (7, "rejected"),
        (8, "rejected"),
    ]
    assert answer[1]["id"] == stored["id"] and answer[3]["id"] == answer[0]["id"]
    assert list(answer[2]["error"]) == ["kind"] and "comment" in answer[2]["error"]["kind"]
    assert list(answer[6]["error"]) == ["occurred_at"]
    assert answer[7]["error"] == {"handle": "Give member_id, or platform and handle."}  # the single endpoint's words
    assert answer[8]["error"] == {"member_id": "No member with id 99999."}
    assert all("error" not in i for i in answer if i["status"] != "rejected")
    assert all("id" not in i for i in answer if i["status"] == "rejected")

    created = {i["index"]: i["id"] for i in answer if i["status"] == "created"}
    rows = {r["id"]: r for r in await Interaction.select().run()}
    assert set(created.values()) <= set(rows) and len(rows) == before[2] + 3
    first = rows[created[0]]
    assert (first["external_key"], first["sentiment"], first["text"]) == ("x:1", "positive", "Love it")
    assert first["logged_by"] is not None and first["created_at"] == clock()
    assert rows[created[4]]["member"] == jane["id"] and rows[created[4]]["platform"] == "instagram"
    assert rows[created[5]]["external_key"] == "instagram:100"
    # Two new members (x:fan0, instagram:fan2), one audit entry for the whole request.
    assert {h["key"] for h in await Handle.select().run()} == {"instagram:jane", "x:old", "x:fan0", "instagram:fan2"}
    assert await Member.count().run() == before[0] + 2
    [entry] = await AuditEntry.select().where(AuditEntry.action == "interaction.bulk_create").run()
    assert sorted(audit_after(entry)["ids"]) == sorted(created.values())
    assert await AuditEntry.count().run() == before[4] + 1


async def test_it_checks_each_item_by_the_single_endpoints_rules(api, clock):
    """The single endpoint's list of bad inputs (tests/members/test_api.py), each refused naming its field, and
    wrong types and unknown fields as that endpoint names them, while the good items of the request are written."""
    member = await create(api, name="Jane", handles=[{"platform": "x", "handle": "jane"}])
    items = []
    expected = []
    for change, field in BAD_INTERACTIONS:
        if change == "future":
            change = {"occurred_at": iso(clock() + timedelta(days=1, minutes=1))}
        for who in ({"member_id": member["id"]}, {"handle": "somebody-new"}):
            items.append({"platform": "x", "kind": "reply", "occurred_at": iso(clock()), **who, **change})
            expected.append(field)
    typed = [
        ({"member_id": 2**40}, "member_id"),  # no id column holds it (PostgreSQL would refuse to look it up)
        ({"member_id": 2**40, "platform": None}, "member_id"),  # and its usual platform is not looked up
        ({"incident_id": 2**31}, "incident_id"),
        ({"handle": "nul\x00here"}, "handle"),
        ({"troll": "sometimes"}, "troll"),
        ({"member_id": [1]}, "member_id"),
        ({"text": 5}, "text"),
        ({"colour": "red"}, "colour"),
    ]
    for change, field in typed:
        items.append({"platform": "x", "kind": "reply", "occurred_at": iso(clock()), "handle": "jane", **change})
        expected.append(field)
    items.append(["not", "an", "object"])
    expected.append("item")
    items.append({"platform": "x", "handle": "jane", "occurred_at": iso(clock())})  # no kind
    expected.append("kind")
    good = {"platform": "x", "kind": "reply", "occurred_at": iso(clock()), "handle": "jane", "text": "t" * 10_000}
    items.append(good)

    response = await api.post(URL, json=items)

    assert response.status_code == 200, response.text
    answer = response.json()["items"]
    assert [i["status"] for i in answer] == ["rejected"] * len(expected) + ["created"]
    for item, field in zip(answer, expected, strict=False):
        assert field in item["error"], (item, field)
    assert answer[len(expected) - 2]["error"]["item"] == "Expected `object`, got `array`"
    assert answer[len(expected) - 3]["error"] == {"colour": "Object contains unknown field `colour`"}
    assert await Interaction.count().run() == 1 and await Member.count().run() == 1  # nobody new was made


async def test_it_links_to_an_incident_and_rejects_an_unknown_one(api, auth, clock):
    incident = (await api.post("/api/v1/incidents", json={"title": "Bad ad", "severity": "low"})).json()["id"]
    items = [
        tweet(0, clock, incident_id=incident),
        tweet(1, clock, incident_id=incident + 1),
        tweet(2, clock, incident_id=True),  # not an id, as the single endpoint says
        tweet(3, clock),
    ]
    answer = (await api.post(URL, json=items)).json()["items"]
    assert [i["status"] for i in answer] == ["created", "rejected", "rejected", "created"]
    assert answer[1]["error"] == {"incident_id": f"No incident with id {incident + 1}."}
    assert list(answer[2]["error"]) == ["incident_id"]
    linked = {r["id"]: r["incident_id"] for r in await Interaction.select().run()}
    assert linked == {answer[0]["id"]: incident, answer[3]["id"]: None}
    # The incident counts it, as one logged by the single endpoint.
    counted = (await api.get(f"/api/v1/incidents/{incident}")).json()["interactions"]
    assert sum(counted.values()) >= 1, counted


async def test_an_erased_or_deleted_persons_handle_is_rejected_naming_the_handle(api, clock):
    erased = await create(api, name="Gone", handles=[{"platform": "x", "handle": "gone"}])
    deleted = await create(api, name="Left", handles=[{"platform": "x", "handle": "left"}])
    assert (await api.post(f"/api/v1/members/{erased['id']}/erase")).status_code == 200
    assert (await api.delete(f"/api/v1/members/{deleted['id']}")).status_code == 204
    before = await counts()
    answer = (await api.post(URL, json=[tweet(0, clock, handle="Gone"), tweet(1, clock, handle="@left")])).json()
    assert [i["status"] for i in answer["items"]] == ["rejected", "rejected"]
    assert "erased" in answer["items"][0]["error"]["handle"]
    assert "deleted" in answer["items"][1]["error"]["handle"]
    assert await counts() == before  # nothing created: no audit entry either


async def test_two_requests_at_once_with_the_same_people_and_ids_write_each_once(api, clock):
    """Bulk writers take turns (crm/members/bulk/sql.py take_turn) and a request that loses a race on a unique key
    is planned again: a shared new handle makes one member and a shared id one interaction, answered as a
    duplicate (with the other request's id) to the request that came second."""
    first = [tweet(n, clock, external_id=f"s{n}", handle=f"shared{n % 5}") for n in range(60)]
    second = [tweet(n, clock, external_id=f"s{n}", handle=f"Shared{n % 5}") for n in range(30, 90)]
    one, two = await asyncio.gather(api.post(URL, json=first), api.post(URL, json=second))
    assert one.status_code == two.status_code == 200, (one.text, two.text)
    statuses = [i["status"] for i in one.json()["items"] + two.json()["items"]]
    assert statuses.count("created") == 90 and statuses.count("duplicate") == 30
    assert await Interaction.count().run() == 90 and await Member.count().run() == 5
    ids = {i["id"] for i in one.json()["items"] + two.json()["items"]}
    assert len(ids) == 90  # every duplicate answered with the id the other request created


# ---- rollups -------------------------------------------------------------------------------------


async def test_the_rollups_it_folds_in_equal_a_rebuild_and_logging_one_by_one(api, clock):
    rng = random.Random(7)
    zones = [UTC, timezone(timedelta(hours=-8)), timezone(timedelta(hours=5, minutes=30))]
    items = []
    for n in range(200):
        at = (clock() - timedelta(seconds=rng.randint(0, 90 * 86400))).astimezone(rng.choice(zones))
        items.append(
            {
                "platform": rng.choice(["x", "forum"]),
                "handle": f"Person{rng.randint(0, 9)}",
                "kind": rng.choice(KINDS),
                "occurred_at": iso(at),
                "sentiment": rng.choice(["positive", "negative", "neutral", "unknown"]),
                "troll": rng.random() < 0.1,
                "external_id": str(rng.randint(0, 200)) if rng.random() < 0.3 else None,
                "text": f"row {n}",
            }
        )
    answers = []
    for start in range(0, len(items), 70):  # several requests, cutting through people and days
        response = await api.post(URL, json=items[start : start + 70])
        assert response.status_code == 200, response.text
        answers += response.json()["items"]
    assert {i["status"] for i in answers} == {"created", "duplicate"}
    folded = await rollups()

    await rebuild_all()
    assert_same_rollups(await rollups(), folded)

    # And the same as the single endpoint, item by item (the members' own ids may differ: compare by handle).
    by_handle = {h["member"]: h["key"] for h in await Handle.select().run()}
    bulk = {by_handle[m]: r for m, r in folded.items()}
    for table in (Interaction, MemberDay, Handle, Member):
        await table.delete(force=True).run()
    for item in items:
        response = await api.post("/api/v1/interactions", json={k: v for k, v in item.items() if v is not None})
        assert response.status_code in (200, 201), response.text
    by_handle = {h["member"]: h["key"] for h in await Handle.select().run()}
    single = {by_handle[m]: r for m, r in (await rollups()).items()}
    assert_same_rollups(bulk, single, exact_score=True)


# ---- refusals of the whole request ---------------------------------------------------------------


async def test_only_admins_and_managers_may_post_and_only_signed_in(client, auth, clock):
    body = [tweet(0, clock)]
    for name in ("carol", "dave"):
        response = await client.post(URL, json=body, headers=auth[name])
        assert response.status_code == 403, (name, response.text)
    response = await client.post(URL, json=body, headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401 and await Interaction.count().run() == 0
    response = await client.post(URL, json=body)  # no token and no session: refused as a cross-site form would be
    assert response.status_code == 403 and await Interaction.count().run() == 0
    for name in ("alice", "bob"):
        response = await client.post(URL, json=[tweet(1, clock, handle=name)], headers=auth[name])
        assert response.status_code == 200 and response.json()["items"][0]["status"] == "created"


async def test_it_takes_1000_items_and_refuses_1001_writing_nothing(api, clock):
    text = "A long one. " * 100  # 1,000 of these make a body over the 1 MiB other endpoints take
    items = [tweet(n, clock, external_id=f"e{n}", handle=f"p{n % 40}", text=text) for n in range(1_001)]
    before = await counts()
    for send in (lambda: api.post(URL, json=items), lambda: post_ndjson(api, items)):
        response = await send()
        assert response.status_code == 413, response.text
        assert "1,001" in error(response)["message"] and "1,000" in error(response)["message"]
        assert await counts() == before
    body = ndjson(items[:1_000])
    assert len(body) > 1024 * 1024
    response = await api.post(URL, content=body, headers={"Content-Type": "application/x-ndjson"})
    assert response.status_code == 200, response.text
    assert [i["index"] for i in response.json()["items"]] == list(range(1_000))
    assert await Interaction.count().run() == 1_000


async def test_a_body_over_16_mib_is_refused_unread(api):
    body = b"[" + b" " * (16 * 1024 * 1024) + b"]"
    response = await api.post(URL, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and error(response)["code"] == "too_large"


async def test_a_line_of_ndjson_that_is_not_json_is_named_and_nothing_is_written(api, clock):
    good = ndjson([tweet(0, clock), tweet(1, clock)])
    body = good + b"\n" + b'{"platform": "x", "handle": "a",\n' + ndjson([tweet(2, clock)])  # a blank line first
    before = await counts()
    response = await api.post(URL, content=body, headers={"Content-Type": "application/x-ndjson"})
    assert response.status_code == 400, response.text
    problem = error(response)
    assert problem["fields"].keys() == {"items[2]"} and "line 4" in problem["fields"]["items[2]"].lower()
    assert "Item 2 (line 4)" in problem["message"]
    assert await counts() == before


@pytest.mark.parametrize(
    ("content", "content_type", "status", "field"),
    [
        (b"", "application/json", 400, "body"),
        (b"  \n ", "application/x-ndjson", 400, "body"),
        (b"[]", "application/json", 400, "body"),
        (b"[{]", "application/json", 400, "body"),
        (b'{"platform": "x"}', "application/json", 400, "body"),  # an object, not an array
        (b"platform,handle\nx,jane\n", "text/csv", 415, "content-type"),
        (b'[{"platform": "x"}]', "", 415, "content-type"),
    ],
)
async def test_a_body_it_cannot_read_is_refused_naming_the_problem(api, content, content_type, status, field):
    before = await counts()
    headers = {"Content-Type": content_type} if content_type else {}
    response = await api.post(URL, content=content, headers=headers)
    assert response.status_code == status, response.text
    assert field in error(response)["fields"] and error(response)["message"]
    assert await counts() == before


async def test_a_failure_mid_request_leaves_nothing(api, clock, monkeypatch):
    """Everything is written, the rollups folded in, then the request fails: all of it rolls back."""

    async def fold_then_fail(events):
        await fold(events)
        raise RuntimeError("the disk is full")

    fold = bulk_interactions.fold_rollups
    monkeypatch.setattr(bulk_interactions, "fold_rollups", fold_then_fail)
    await create(api, name="Jane", handles=[{"platform": "x", "handle": "fan0"}])
    before = await counts()
    response = await api.post(URL, json=[tweet(n, clock, external_id=str(n), handle=f"new{n}") for n in range(20)])
    assert response.status_code == 500
    assert await counts() == before
    assert (await Member.select().first().run())["interactions_total"] == 0

    monkeypatch.setattr(bulk_interactions, "fold_rollups", fold)
    response = await api.post(URL, json=[tweet(n, clock, external_id=str(n), handle=f"new{n}") for n in range(20)])
    assert [i["status"] for i in response.json()["items"]] == ["created"] * 20


# ---- the OpenAPI document ------------------------------------------------------------------------


async def test_the_schema_describes_the_items_and_the_answer(as_user):
    schema = (await (await as_user("alice")).get("/schema")).json()
    operation = schema["paths"][URL]["post"]
    body = operation["requestBody"]["content"]
    item = {"$ref": "#/components/schemas/InteractionCreate"}
    assert body["application/json"]["schema"] == {"type": "array", "items": item, "minItems": 1, "maxItems": 1000}
    assert body["application/x-ndjson"]["schema"] == item
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/BulkResults"}
    components = schema["components"]["schemas"]
    result = components["BulkItemResult"]
    assert set(result["required"]) == {"index", "status"}
    assert components[result["properties"]["status"]["$ref"].rsplit("/", 1)[-1]]["enum"] == BULK_STATUSES
    assert BULK_STATUSES == ["created", "duplicate", "rejected"]
