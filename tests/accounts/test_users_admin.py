"""The admin's users page and API: add, change role, deactivate, reset password."""

from __future__ import annotations

import re

import pytest

from crm.accounts.tables import AuthSession, User
from crm.audit.tables import AuditEntry
from crm.security import SESSION_COOKIE
from tests.conftest import PASSWORD, login, make_client, post_form


async def test_admin_adds_a_user_from_the_form_and_it_is_audited(as_user):
    alice = await as_user("alice")
    response = await post_form(
        alice,
        "/admin/users/",
        {"email": "Erin@Example.com", "name": "Erin", "role": "manager", "password": "tidal-Kestrel-meadow-41"},
    )
    assert response.status_code == 200 and "User added" in response.text
    row = await User.select().where(User.email == "erin@example.com").first().run()
    assert row["role"] == "manager" and row["is_active"]
    entry = (
        await AuditEntry.select()
        .where((AuditEntry.action == "user.create") & (AuditEntry.record_id == str(row["id"])))
        .first()
        .run()
    )
    assert entry["actor_label"] == "alice@example.com"
    assert entry["after"] and "erin@example.com" in str(entry["after"])
    assert "password" not in str(entry["after"])


async def test_admin_gets_a_generated_password_shown_once_when_none_is_given(as_user, app):
    alice = await as_user("alice")
    response = await post_form(
        alice, "/admin/users/", {"email": "erin@example.com", "name": "Erin", "role": "agent", "password": ""}
    )
    password = re.search(r'id="new-password">([^<]+)<', response.text).group(1)
    async with make_client(app) as erin:
        assert (await login(erin, "erin@example.com", password)).status_code == 303


@pytest.mark.parametrize(
    "form, field, message",
    [
        ({"email": "not-an-email", "name": "Erin", "role": "agent"}, "email", "valid email"),
        ({"email": "erin@example.com", "name": "  ", "role": "agent"}, "name", "Enter a name"),
        ({"email": "erin@example.com", "name": "Erin", "role": "superuser"}, "role", "Choose one of"),
        (
            {"email": "erin@example.com", "name": "Erin", "role": "agent", "password": "password1234"},
            "password",
            "too common",
        ),
    ],
)
async def test_it_shows_the_form_again_with_the_error_next_to_the_field(as_user, form, field, message):
    alice = await as_user("alice")
    before = await User.count().run()
    response = await post_form(alice, "/admin/users/", form)
    assert response.status_code == 422
    assert re.search(rf'<p id="e-{field}" class="error">[^<]*{message}', response.text), response.text
    assert await User.count().run() == before
    assert await AuditEntry.count().where(AuditEntry.action == "user.create").run() == 4  # only the cast


async def test_it_refuses_a_duplicate_email_whatever_its_case(as_user):
    alice = await as_user("alice")
    response = await post_form(
        alice,
        "/admin/users/",
        {"email": "BOB@example.com", "name": "Bob 2", "role": "agent", "password": "tidal-Kestrel-meadow-41"},
    )
    assert response.status_code == 409
    assert "Already in use" in response.text
    assert await User.count().where(User.name == "Bob 2").run() == 0


async def test_admin_changes_a_role_and_the_change_is_audited_with_before_and_after(as_user, users):
    alice = await as_user("alice")
    bob_id = users["bob"]["id"]
    response = await post_form(alice, f"/admin/users/{bob_id}", {"action": "save", "name": "Bob", "role": "viewer"})
    assert response.status_code == 303
    assert (await User.select(User.role).where(User.id == bob_id).first().run())["role"] == "viewer"
    entry = await AuditEntry.select().where(AuditEntry.action == "user.update").output(load_json=True).first().run()
    assert entry["before"]["role"] == "manager" and entry["after"]["role"] == "viewer"


async def test_deactivating_a_user_ends_their_sessions(as_user, users):
    alice, bob = await as_user("alice"), await as_user("bob")
    assert (await bob.get("/")).status_code == 200
    await post_form(alice, f"/admin/users/{users['bob']['id']}", {"action": "deactivate"})
    assert (await bob.get("/")).status_code == 303
    assert await AuthSession.count().where(AuthSession.user == users["bob"]["id"]).run() == 0


async def test_it_keeps_at_least_one_active_admin(as_user, users):
    alice = await as_user("alice")
    response = await post_form(alice, f"/admin/users/{users['alice']['id']}", {"action": "deactivate"})
    assert response.status_code == 409 and "At least one active admin must remain" in response.text
    response = await post_form(
        alice, f"/admin/users/{users['alice']['id']}", {"action": "save", "name": "Alice", "role": "manager"}
    )
    assert response.status_code == 409
    row = await User.select().where(User.id == users["alice"]["id"]).first().run()
    assert row["role"] == "admin" and row["is_active"]


async def test_admin_resets_a_password_which_ends_the_users_sessions(as_user, users, app):
    alice, bob = await as_user("alice"), await as_user("bob")
    response = await post_form(alice, f"/admin/users/{users['bob']['id']}", {"action": "reset_password"})
    new_password = re.search(r'id="new-password">([^<]+)<', response.text).group(1)
    assert (await bob.get("/")).status_code == 303
    async with make_client(app) as fresh:
        assert (await login(fresh, "bob@example.com", PASSWORD)).status_code == 422
        assert (await login(fresh, "bob@example.com", new_password)).status_code == 303


async def test_changing_ones_own_password_ends_other_sessions_but_keeps_this_one(as_user, app):
    laptop, phone = await as_user("carol"), await as_user("carol")
    response = await post_form(
        laptop,
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": "orchid-Vessel-quarry-72",
            "confirm_password": "orchid-Vessel-quarry-72",
        },
    )
    assert response.status_code == 303
    assert (await laptop.get("/")).status_code == 200
    assert (await phone.get("/")).status_code == 303


@pytest.mark.parametrize(
    "form, field",
    [
        (
            {
                "current_password": "wrong-password-000",
                "new_password": "orchid-Vessel-quarry-72",
                "confirm_password": "orchid-Vessel-quarry-72",
            },
            "current_password",
        ),
        (
            {
                "current_password": PASSWORD,
                "new_password": "orchid-Vessel-quarry-72",
                "confirm_password": "something-else-entirely",
            },
            "confirm_password",
        ),
        (
            {"current_password": PASSWORD, "new_password": "password1234", "confirm_password": "password1234"},
            "new_password",
        ),
    ],
)
async def test_it_refuses_a_bad_password_change_and_keeps_the_old_password(as_user, app, form, field):
    carol = await as_user("carol")
    response = await post_form(carol, "/account/password", form)
    assert response.status_code == 422
    assert f'id="e-{field}"' in response.text
    assert (await carol.get("/")).status_code == 200
    async with make_client(app) as fresh:
        assert (await login(fresh, "carol@example.com", PASSWORD)).status_code == 303


async def test_guessing_the_current_password_is_throttled_like_signing_in(as_user, app):
    """A stolen session must not become a way to guess the password: wrong current passwords count as failed
    sign-ins, and once the account is throttled even the right one is refused and nothing changes."""
    carol = await as_user("carol")
    change = {"new_password": "orchid-Vessel-quarry-72", "confirm_password": "orchid-Vessel-quarry-72"}
    for _ in range(5):
        response = await post_form(carol, "/account/password", {**change, "current_password": "wrong-password-000"})
        assert response.status_code == 422
    response = await post_form(carol, "/account/password", {**change, "current_password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed" in response.text
    async with make_client(app) as fresh:
        assert (await login(fresh, "carol@example.com", PASSWORD)).status_code == 429
    assert (await carol.get("/")).status_code == 200  # the session was not ended: nothing changed


async def test_a_right_current_password_does_not_count_as_a_failure(as_user, app):
    carol = await as_user("carol")
    for n in range(6):
        password, new = (PASSWORD, "orchid-Vessel-quarry-72") if n % 2 == 0 else ("orchid-Vessel-quarry-72", PASSWORD)
        response = await post_form(
            carol, "/account/password", {"current_password": password, "new_password": new, "confirm_password": new}
        )
        assert response.status_code == 303, n


@pytest.mark.parametrize("name", ["bob", "carol", "dave"])
async def test_only_admins_manage_users(as_user, users, name):
    client = await as_user(name)
    for path in (
        "/admin/users",
        "/admin/users/new",
        f"/admin/users/{users['dave']['id']}",
        "/admin/tokens",
        "/admin/audit",
    ):
        response = await client.get(path)
        assert response.status_code == 403, path
        assert "Not allowed" in response.text and "cannot" in response.text
    response = await post_form(
        client,
        "/admin/users/",
        {"email": "x@example.com", "name": "X", "role": "admin", "password": "tidal-Kestrel-meadow-41"},
    )
    assert response.status_code == 403
    response = await post_form(client, f"/admin/users/{users['alice']['id']}", {"action": "deactivate"})
    assert response.status_code == 403
    assert await User.count().run() == 4
    assert await User.count().where(User.is_active == False).run() == 0  # noqa: E712


async def test_admin_gets_404_for_an_unknown_user(as_user):
    alice = await as_user("alice")
    assert (await alice.get("/admin/users/999999")).status_code == 404
    assert (await post_form(alice, "/admin/users/999999", {"action": "deactivate"})).status_code == 404


async def test_the_cookie_session_is_not_usable_after_deactivation_by_api(as_user, users):
    alice, dave = await as_user("alice"), await as_user("dave")
    csrf_token = alice.cookies["crm_csrf"]
    response = await alice.patch(
        f"/api/v1/users/{users['dave']['id']}", json={"is_active": False}, headers={"x-csrftoken": csrf_token}
    )
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert (await dave.get("/api/v1/me")).status_code == 401
    assert SESSION_COOKIE in dave.cookies
