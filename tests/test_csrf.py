"""CSRF: every form and cookie-authenticated API write needs the token; bearer calls do not."""

from __future__ import annotations

from crm.accounts import tokens
from crm.accounts.tables import AuthSession, User
from crm.audit.service import Actor
from tests.conftest import PASSWORD

NEW_USER = {"email": "erin@example.com", "name": "Erin", "role": "agent", "password": "tidal-Kestrel-meadow-41"}


async def test_login_without_a_csrf_token_is_refused(client, users):
    await client.get("/login")
    response = await client.post("/login", data={"email": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 403
    assert "did not come from this site" in response.text
    assert await AuthSession.count().run() == 0


async def test_a_form_with_a_forged_token_is_refused(as_user):
    alice = await as_user("alice")
    forged = "0" * 128
    response = await alice.post("/admin/users/", data={**NEW_USER, "_csrf_token": forged})
    assert response.status_code == 403
    assert await User.count().where(User.email == "erin@example.com").run() == 0


async def test_a_form_with_the_right_token_is_accepted(as_user):
    alice = await as_user("alice")
    response = await alice.post("/admin/users/", data={**NEW_USER, "_csrf_token": alice.cookies["crm_csrf"]})
    assert response.status_code == 200
    assert await User.count().where(User.email == "erin@example.com").run() == 1


async def test_a_cookie_session_api_write_needs_the_csrf_header(as_user):
    alice = await as_user("alice")
    response = await alice.post("/api/v1/users", json=NEW_USER)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert await User.count().where(User.email == "erin@example.com").run() == 0
    response = await alice.post("/api/v1/users", json=NEW_USER, headers={"x-csrftoken": alice.cookies["crm_csrf"]})
    assert response.status_code == 201


async def test_a_bearer_api_write_needs_no_csrf_token(client, users, clock):
    _, token = await tokens.create_token(email="alice@example.com", label="", actor=Actor.system("t"), now=clock())
    response = await client.post("/api/v1/users", json=NEW_USER, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201


async def test_a_bearer_header_does_not_excuse_a_cookie_request_from_csrf(as_user):
    """A forged cross-site request carries the victim's cookie; adding a junk bearer header must not help."""
    alice = await as_user("alice")
    response = await alice.post("/api/v1/users", json=NEW_USER, headers={"Authorization": "Bearer junk"})
    assert response.status_code == 403
    assert await User.count().where(User.email == "erin@example.com").run() == 0
