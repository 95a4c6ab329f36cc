"""Merging a duplicate (and undoing it), likely duplicates, and GDPR erasure."""

from __future__ import annotations

import json
import math
from datetime import timedelta

import pytest

from crm.audit.service import Actor
from crm.audit.tables import AuditEntry
from crm.errors import Conflict, NotFound
from crm.members import engagement, merge
from crm.members.tables import ErasedIdentity, Handle, Interaction, Member, MemberDay, MemberMerge, MemberTopic
from tests.members.test_api import audit, counts, create, error, iso, log

ACTOR = Actor.system("test")


async def state_of(member_id: int) -> dict:
    """Everything stored about one member (except updated_at), to compare before and after."""
    member = await Member.select().where(Member.id == member_id).first().run()
    member.pop("updated_at")
    handles = await Handle.select().where(Handle.member == member_id).order_by(Handle.id).run()
    topics = (
        await MemberTopic.select(MemberTopic.topic, MemberTopic.key)
        .where(MemberTopic.member == member_id)
        .order_by(MemberTopic.topic)
        .run()
    )
    rows = await Interaction.select().where(Interaction.member == member_id).order_by(Interaction.id).run()
    days = (
        await MemberDay.select(
            MemberDay.day,
            MemberDay.key,
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
    return {"member": member, "handles": handles, "topics": topics, "interactions": rows, "days": days}


def same_state(a: dict, b: dict) -> None:
    """Equal, with the score (a float kept by incremental log-adds) compared to 1e-12."""
    a, b = json.loads(json.dumps(a, default=str)), json.loads(json.dumps(b, default=str))
    score_a, score_b = a["member"].pop("score_log2"), b["member"].pop("score_log2")
    assert math.isclose(score_a, score_b, rel_tol=1e-12)
    assert a == b


async def assert_rollup_is_a_recomputation(member_id: int) -> None:
    rows = await Interaction.select().where(Interaction.member == member_id).run()
    expected = engagement.compute_rollup(rows)
    stored = await Member.select().where(Member.id == member_id).first().run()
    assert stored["interactions_total"] == expected.interactions_total
    assert stored["first_interaction_at"] == expected.first_interaction_at
    assert stored["last_interaction_at"] == expected.last_interaction_at
    assert math.isclose(stored["score_log2"], expected.score_log2, rel_tol=1e-9)
    assert stored["usual_gap_seconds"] == expected.usual_gap_seconds
    assert stored["quiet_after"] == expected.quiet_after
    days = await MemberDay.select().where(MemberDay.member == member_id).run()
    assert {
        d["day"]: {k: d[k] for k in ("total", "positive", "negative", "neutral", "unknown", "troll")} for d in days
    } == expected.days


@pytest.fixture
async def pair(api, clock):
    """Jane and her duplicate, each with handles, topics and interactions."""
    now = clock()
    jane = await create(
        api,
        name="Jane Doe",
        email="jane@example.com",
        topics=["food", "travel"],
        handles=[{"platform": "x", "handle": "janed", "followers": 100}],
    )
    dup = await create(
        api,
        name="J. Doe",
        topics=["travel", "music"],
        handles=[
            {"platform": "instagram", "handle": "jane.doe", "followers": 40},
            {"platform": "tiktok", "handle": "jd", "followers": 2},
        ],
    )
    await log(
        api,
        member_id=jane["id"],
        platform="x",
        kind="post",
        sentiment="positive",
        occurred_at=iso(now - timedelta(days=2)),
    )
    await log(api, member_id=jane["id"], platform="x", kind="reply", occurred_at=iso(now - timedelta(days=50)))
    await log(
        api,
        member_id=dup["id"],
        platform="instagram",
        kind="comment",
        sentiment="negative",
        occurred_at=iso(now - timedelta(days=2)),
        external_id="ig-1",
    )
    await log(
        api,
        member_id=dup["id"],
        platform="instagram",
        kind="share",
        troll=True,
        occurred_at=iso(now - timedelta(days=400)),
    )
    return jane, dup


async def test_it_merges_a_duplicate_into_the_kept_member(api, pair, users, clock):
    jane, dup = pair
    response = await api.post("/api/v1/members/merge", json={"keep": jane["id"], "merge": dup["id"]})
    assert response.status_code == 200, response.text
    kept = response.json()
    assert kept["id"] == jane["id"] and kept["name"] == "Jane Doe" and kept["email"] == "jane@example.com"
    assert {(h["platform"], h["handle"]) for h in kept["handles"]} == {
        ("x", "janed"),
        ("instagram", "jane.doe"),
        ("tiktok", "jd"),
    }
    assert kept["topics"] == ["food", "music", "travel"]
    assert kept["engagement"]["reach"] == 142
    assert kept["engagement"]["interactions_365d"] == 3
    assert await Interaction.count().where(Interaction.member == jane["id"]).run() == 4
    assert await Interaction.count().where(Interaction.member == dup["id"]).run() == 0
    await assert_rollup_is_a_recomputation(jane["id"])
    await assert_rollup_is_a_recomputation(dup["id"])
    # The duplicate is gone from reads, kept in the table with a pointer to the member kept.
    assert (await api.get(f"/api/v1/members/{dup['id']}")).status_code == 404
    assert [i["id"] for i in (await api.get("/api/v1/members")).json()["items"]] == [jane["id"]]
    assert (await Member.select(Member.merged_into).where(Member.id == dup["id"]).first().run()) == {
        "merged_into": jane["id"]
    }
    # Its handle now leads to the kept member.
    logged = await log(api, platform="tiktok", handle="jd", occurred_at=iso(clock()))
    assert logged["member_id"] == jane["id"]
    [entry] = await audit("member.merge", jane["id"])
    assert entry["actor"] == users["alice"]["id"]
    assert entry["after"]["kept"] == jane["id"] and entry["after"]["merged"] == dup["id"]


async def test_it_undoes_a_merge_exactly_and_only_once(api, pair, clock):
    jane, dup = pair
    before = {m["id"]: await state_of(m["id"]) for m in pair}
    response = await api.post("/api/v1/members/merge", json={"keep": jane["id"], "merge": dup["id"]})
    assert response.status_code == 200
    [row] = await MemberMerge.select().run()
    clock.advance(days=1)
    await merge.undo_merge(merge_id=row["id"], actor=ACTOR, now=clock())
    for member_id, state in before.items():
        same_state(await state_of(member_id), state)
    assert (await api.get(f"/api/v1/members/{dup['id']}")).status_code == 200
    assert (await MemberMerge.select().where(MemberMerge.id == row["id"]).first().run())["undone_at"] == clock()
    assert len(await audit("member.merge_undo", jane["id"])) == 1
    with pytest.raises(Conflict):
        await merge.undo_merge(merge_id=row["id"], actor=ACTOR, now=clock())
    for member_id, state in before.items():
        same_state(await state_of(member_id), state)
    assert len(await audit("member.merge_undo", jane["id"])) == 1
    with pytest.raises(NotFound):
        await merge.undo_merge(merge_id=row["id"] + 1000, actor=ACTOR, now=clock())


async def test_it_refuses_to_merge_a_member_into_itself_or_into_nobody(api, pair):
    jane, dup = pair
    before = {m["id"]: await state_of(m["id"]) for m in pair}
    response = await api.post("/api/v1/members/merge", json={"keep": jane["id"], "merge": jane["id"]})
    assert response.status_code == 422 and "merge" in error(response)["fields"]
    for body in ({"keep": jane["id"], "merge": 987654}, {"keep": 987654, "merge": dup["id"]}):
        assert (await api.post("/api/v1/members/merge", json=body)).status_code == 404
    await api.delete(f"/api/v1/members/{dup['id']}")
    before[dup["id"]] = await state_of(dup["id"])
    response = await api.post("/api/v1/members/merge", json={"keep": jane["id"], "merge": dup["id"]})
    assert response.status_code == 404  # a deleted member is not merged
    response = await api.post("/api/v1/members/merge", json={"keep": jane["id"]})
    assert response.status_code in (400, 422)
    for member_id, state in before.items():
        same_state(await state_of(member_id), state)
    assert await MemberMerge.count().run() == 0


async def test_it_suggests_likely_duplicates_with_reasons(api):
    jane = await create(api, name="Jane Doe", email="jane@example.com", handles=[{"platform": "x", "handle": "JaneD"}])
    same_name = await create(api, name="  jane doe")
    other_platform = await create(api, name="JD", handles=[{"platform": "instagram", "handle": "@janed"}])
    email_handle = await create(
        api, name="Newsletter reader", handles=[{"platform": "email", "handle": "jane@example.com"}]
    )
    await create(api, name="Unrelated", email="other@example.com", handles=[{"platform": "x", "handle": "someone"}])
    gone = await create(api, name="Jane Doe", handles=[{"platform": "reddit", "handle": "janed"}])
    await api.delete(f"/api/v1/members/{gone['id']}")
    found = {d["id"]: d["reasons"] for d in await merge.likely_duplicates(jane["id"])}
    assert set(found) == {same_name["id"], other_platform["id"], email_handle["id"]}
    assert found[same_name["id"]] == ["same name"]
    assert any("instagram" in r for r in found[other_platform["id"]])
    assert any("jane@example.com" in r for r in found[email_handle["id"]])
    # And the other way round: the email handle points back at the member with that email.
    assert [d["id"] for d in await merge.likely_duplicates(email_handle["id"])] == [jane["id"]]
    assert [d["id"] for d in await merge.likely_duplicates(other_platform["id"])] == [jane["id"]]


# ---- erasure -------------------------------------------------------------------------------------


@pytest.fixture
async def jane(api, clock):
    now = clock()
    member = await create(
        api,
        name="Jane Secret",
        email="jane.secret@example.com",
        notes="Lives at 1 Elm St",
        location="Lyon",
        topics=["knitting"],
        consent_private_briefing=True,
        handles=[{"platform": "x", "handle": "JaneSecret", "followers": 10, "url": "https://x.com/JaneSecret"}],
    )
    await api.patch(f"/api/v1/members/{member['id']}", json={"notes": "Lives at 2 Elm St"})
    for n, (kind, days) in enumerate((("post", 1), ("reply", 20), ("comment", 90))):
        await log(
            api,
            member_id=member["id"],
            platform="x",
            kind=kind,
            sentiment="positive",
            occurred_at=iso(now - timedelta(days=days)),
            text=f"Secret words {n}",
            url=f"https://x.com/JaneSecret/status/{n}",
            external_id=f"status-{n}",
        )
    return member


async def test_it_erases_a_persons_data_but_keeps_the_counts(api, jane):
    before = await state_of(jane["id"])
    response = await api.post(f"/api/v1/members/{jane['id']}/erase")
    assert response.status_code == 200, response.text
    after = await state_of(jane["id"])
    member = after["member"]
    for secret in (
        "Jane Secret",
        "jane.secret@example.com",
        "Elm St",
        "Lyon",
        "knitting",
        "JaneSecret",
        "Secret words",
        "status-",
    ):
        assert secret.lower() not in json.dumps(after, default=str).lower(), secret
    assert member["email"] is None and member["notes"] == "" and member["erased_at"] is not None
    assert member["consent_private_briefing"] is False and member["do_not_contact"] is True
    assert after["handles"] == [] and after["topics"] == []
    assert [(r["text"], r["url"], r["external_id"]) for r in after["interactions"]] == [("", None, None)] * 3
    # The anonymous counts and the rollup are kept.
    assert [r["id"] for r in after["interactions"]] == [r["id"] for r in before["interactions"]]
    assert after["days"] == before["days"]
    for column in (
        "interactions_total",
        "first_interaction_at",
        "last_interaction_at",
        "score_log2",
        "usual_gap_seconds",
        "quiet_after",
    ):
        assert member[column] == before["member"][column], column
    assert (await api.get(f"/api/v1/members/{jane['id']}")).status_code == 404
    assert await ErasedIdentity.count().run() == 2  # the handle and the email, as salted hashes
    assert "janesecret" not in json.dumps(await ErasedIdentity.select().run(), default=str).lower()


async def test_it_scrubs_the_erased_persons_earlier_audit_entries(api, jane):
    await api.post(f"/api/v1/members/{jane['id']}/erase")
    entries = await AuditEntry.select().output(load_json=True).run()
    text = json.dumps(entries, default=str).lower()
    for secret in (
        "jane secret",
        "jane.secret@example.com",
        "elm st",
        "lyon",
        "knitting",
        "janesecret",
        "secret words",
        "status-",
    ):
        assert secret not in text, secret
    # That the changes happened is kept.
    assert len(await audit("member.create", jane["id"])) == 1
    assert len(await audit("member.update", jane["id"])) == 1
    [erased] = await audit("member.erase", jane["id"])
    assert erased["actor_label"] == "alice@example.com"


async def test_it_does_not_bring_an_erased_person_back_from_a_later_interaction(api, jane, clock):
    await api.post(f"/api/v1/members/{jane['id']}/erase")
    before = await counts()
    for handle in ("JaneSecret", "@janesecret", "JANESECRET"):
        response = await api.post(
            "/api/v1/interactions",
            json={
                "platform": "x",
                "handle": handle,
                "kind": "mention",
                "occurred_at": iso(clock()),
                "external_id": "status-0",
            },
        )
        assert response.status_code == 409, response.text
        assert "erase" in error(response)["message"].lower()
    response = await api.post(
        "/api/v1/interactions",
        json={"member_id": jane["id"], "platform": "x", "kind": "mention", "occurred_at": iso(clock())},
    )
    assert response.status_code == 404
    assert await counts() == before
    # The same handle on another platform is someone else.
    assert (await log(api, platform="reddit", handle="janesecret", occurred_at=iso(clock())))["member_id"] != jane["id"]


async def test_it_erases_only_once_and_only_for_admins(api, auth, jane):
    assert (await api.post(f"/api/v1/members/{jane['id']}/erase", headers=auth["bob"])).status_code == 403
    assert (await api.post(f"/api/v1/members/{jane['id']}/erase")).status_code == 200
    before = await counts()
    response = await api.post(f"/api/v1/members/{jane['id']}/erase")
    assert response.status_code == 409
    assert await counts() == before
    assert len(await audit("member.erase", jane["id"])) == 1
    assert (await api.post("/api/v1/members/987654/erase")).status_code == 404
