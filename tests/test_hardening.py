"""Refusals found by a security review: each was a bypass, a leak or a 500 before."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from crm.accounts import passwords
from crm.accounts.sessions import MAX_FAILURES_PER_ACCOUNT
from crm.audit.service import Actor
from crm.briefings import service as briefings
from crm.briefings.tables import Briefing
from crm.incidents import service as incidents
from crm.incidents import talking_points
from crm.members import erasure, interactions, merge
from crm.members import service as members
from tests.conftest import login, make_client, post_form

SYSTEM = Actor.system("test")


async def _incident_with_points(clock, author: Actor) -> tuple[dict, dict]:
    incident = await incidents.create_incident(
        values={"title": "Bad ad", "severity": "high", "platforms": ["x"]}, actor=SYSTEM, now=clock()
    )
    draft = await talking_points.create_draft(
        incident_id=incident["id"], values={"points": ["Sorry"]}, actor=author, now=clock()
    )
    return incident, draft


async def test_an_editor_of_a_draft_cannot_approve_it_under_two_person_approval(users, clock):
    alice = Actor(user_id=users["alice"]["id"], label="alice")
    bob = Actor(user_id=users["bob"]["id"], label="bob")
    incident, draft = await _incident_with_points(clock, alice)
    await talking_points.update_draft(
        incident_id=incident["id"], version=1, values={"points": ["Bob's text"]}, actor=bob, now=clock()
    )
    import pytest

    from crm.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        await talking_points.approve(incident_id=incident["id"], version=1, actor=bob, now=clock())
    carol = Actor(user_id=users["carol"]["id"], label="carol")  # neither wrote nor edited it
    approved = await talking_points.approve(incident_id=incident["id"], version=1, actor=carol, now=clock())
    assert approved["status"] == "approved"


async def test_erasure_clears_the_briefings_composed_for_the_person(users, clock):
    alice, bob = (Actor(user_id=users[n]["id"], label=n) for n in ("alice", "bob"))
    incident, _ = await _incident_with_points(clock, alice)
    await talking_points.approve(incident_id=incident["id"], version=1, actor=bob, now=clock())
    jane = await members.create_member(
        values={
            "name": "Jane Secret",
            "consent_private_briefing": True,
            "handles": [{"platform": "x", "handle": "janesecret"}],
        },
        actor=SYSTEM,
        now=clock(),
    )
    await briefings.brief(
        incident_id=incident["id"],
        member_id=jane["id"],
        channel="dm",
        note="called Jane at +44 1234",
        actor=bob,
        now=clock(),
    )
    await erasure.erase_member(member_id=jane["id"], actor=alice, now=clock())
    row = await Briefing.select(Briefing.message, Briefing.note).first().run()
    assert row == {"message": "", "note": ""}


async def test_a_merged_duplicate_cannot_be_erased_on_its_own(users, clock):
    import pytest

    from crm.errors import Conflict

    keep = await members.create_member(values={"name": "Kim"}, actor=SYSTEM, now=clock())
    dup = await members.create_member(
        values={"name": "Kim", "handles": [{"platform": "x", "handle": "kim"}]}, actor=SYSTEM, now=clock()
    )
    await merge.merge_members(keep_id=keep["id"], merge_id=dup["id"], actor=SYSTEM, now=clock())
    with pytest.raises(Conflict, match="merged into member"):
        await erasure.erase_member(member_id=dup["id"], actor=SYSTEM, now=clock())


async def test_concurrent_wrong_passwords_cannot_outrun_the_throttle(app, users):
    clients = [make_client(app) for _ in range(2 * MAX_FAILURES_PER_ACCOUNT)]
    try:
        results = await asyncio.gather(*(login(c, "alice@example.com", "wrong-password-again-9") for c in clients))
    finally:
        for c in clients:
            await c.aclose()
    codes = sorted(r.status_code for r in results)
    assert codes.count(422) == MAX_FAILURES_PER_ACCOUNT and codes.count(429) == MAX_FAILURES_PER_ACCOUNT


async def test_an_over_long_password_for_a_real_account_costs_a_hash_too(users, monkeypatch):
    calls = []
    real = passwords._verify
    monkeypatch.setattr(passwords, "_verify", lambda stored, pw: calls.append(1) or real(stored, pw))
    stored = await passwords.hash_password("quiet-harbour-lantern-1987")
    assert not await passwords.verify_password(stored, "x" * 500)
    assert calls == [1]


async def test_odd_numbers_in_paths_forms_and_bodies_are_4xx_not_500(as_user, auth, client, users, clock):
    alice = await as_user("alice")
    member = await members.create_member(values={"name": "Kim"}, actor=SYSTEM, now=clock())
    for response in (
        await alice.get("/members/99999999999999999999"),
        await client.get("/api/v1/members/99999999999999999999", headers=auth["alice"]),
        await post_form(alice, f"/members/{member['id']}/merge", {"merge_id": "²"}),
        await client.post(
            "/api/v1/interactions",
            headers=auth["alice"],
            json={"member_id": 2**63, "kind": "post", "occurred_at": clock().isoformat()},
        ),
    ):
        assert 400 <= response.status_code < 500, (response.request.url, response.status_code)


async def test_dates_outside_1990_to_9998_are_refused_naming_the_field(client, auth, clock):
    member = await members.create_member(values={"name": "Kim"}, actor=SYSTEM, now=clock())
    response = await client.post(
        "/api/v1/interactions",
        headers=auth["alice"],
        json={"member_id": member["id"], "kind": "post", "occurred_at": "0001-01-01T00:00:00+01:00"},
    )
    assert response.status_code == 422 and "occurred_at" in response.json()["error"]["fields"]


async def test_an_absurd_time_zone_is_refused_naming_the_field(client, auth):
    response = await client.post(
        "/api/v1/members", headers=auth["alice"], json={"name": "Kim", "time_zone": "Europe/" + "x" * 300}
    )
    assert response.status_code == 422 and "time_zone" in response.json()["error"]["fields"]


async def test_linking_does_not_steal_interactions_from_another_incident(users, clock):
    import pytest

    from crm.errors import Conflict

    member = await members.create_member(values={"name": "Kim"}, actor=SYSTEM, now=clock())
    row, _ = await interactions.log_interaction(
        values={"member_id": member["id"], "kind": "post", "occurred_at": clock() - timedelta(hours=1)},
        actor=SYSTEM,
        now=clock(),
    )
    first = await incidents.create_incident(values={"title": "One", "severity": "low"}, actor=SYSTEM, now=clock())
    second = await incidents.create_incident(values={"title": "Two", "severity": "low"}, actor=SYSTEM, now=clock())
    await incidents.link_interactions(incident_id=first["id"], interaction_ids=[row["id"]], actor=SYSTEM, now=clock())
    with pytest.raises(Conflict, match="Already linked to another incident"):
        await incidents.link_interactions(
            incident_id=second["id"], interaction_ids=[row["id"]], actor=SYSTEM, now=clock()
        )


async def test_pages_are_never_cached(as_user):
    alice = await as_user("alice")
    assert (await alice.get("/admin/users")).headers["cache-control"] == "no-store"
    assert (await alice.get("/static/app.css")).headers.get("cache-control") != "no-store"


UNSAFE_NEXT = [
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/ /evil.example",
    "/\x00x",
    "/\x7fx",
    "/\u00a0/evil.example",
    "/\\evil.example",
    "/\\/evil.example",
    "//evil.example",
    "javascript:alert(1)",
    "https://evil.example/",
    " /members",
]


def test_safe_next_refuses_control_characters_whitespace_backslashes_and_other_sites():
    """Browsers strip tabs and newlines from a URL, so "/<tab>/evil.example" is "//evil.example": off-site."""
    from crm.forms import safe_next

    for target in UNSAFE_NEXT:
        assert safe_next(target) == "/", repr(target)
    for target in ("/members/7#thanks", "/thanks?next=%2F", "/faq?q=a%20b"):
        assert safe_next(target) == target


async def test_signing_in_never_follows_an_unsafe_next(client, users):
    from tests.conftest import PASSWORD, csrf

    for target in ("/\t/evil.example", "/\n/evil.example", "/\\evil.example", "//evil.example", "javascript:alert(1)"):
        client.cookies.clear()
        response = await client.post(
            "/login",
            data={"email": "bob@example.com", "password": PASSWORD, "next": target, "_csrf_token": await csrf(client)},
        )
        assert response.status_code == 303 and response.headers["location"] == "/", repr(target)


def test_a_link_that_cannot_be_parsed_or_has_control_characters_is_a_field_error():
    """urlsplit raises ValueError on "http://[" (Invalid IPv6 URL) and silently drops tabs and newlines."""
    from crm.validation import url

    for bad in (
        "http://[",
        "https://[::1/x",
        "https://x.com/a\nb",
        "https://x.com/\tb",
        "https://x.com/\x00",
        "https://x.com/\x7f",
        "https://x.com/a b",
        "ftp://x.com",
    ):
        errors: dict[str, str] = {}
        url(bad, "url", errors)
        assert "url" in errors, repr(bad)
    errors = {}
    assert url(" https://[::1]:8080/a?b=c ", "url", errors) == "https://[::1]:8080/a?b=c" and errors == {}
