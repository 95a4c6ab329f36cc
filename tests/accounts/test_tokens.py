"""API tokens: created by admins, shown once, stored hashed, revocable."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from contextlib import asynccontextmanager
from datetime import timedelta

import asyncpg

from crm.accounts import tokens
from crm.accounts.tables import ApiToken
from crm.audit.service import Actor
from crm.audit.tables import AuditEntry
from tests.conftest import post_form


async def new_token(users, clock, email="bob@example.com") -> tuple[dict, str]:
    return await tokens.create_token(email=email, label="listening tool", actor=Actor.system("test"), now=clock())


async def test_a_bearer_token_authenticates_api_calls(client, users, clock):
    _, token = await new_token(users, clock)
    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json()["email"] == "bob@example.com"


async def test_it_stores_only_a_hash_of_the_token(users, clock):
    summary, token = await new_token(users, clock)
    row = await ApiToken.select().where(ApiToken.id == summary["id"]).first().run()
    assert token not in str(row)
    assert row["prefix"] == token[:10]


async def test_it_refuses_missing_wrong_and_revoked_tokens_with_401(client, users, clock):
    summary, token = await new_token(users, clock)
    assert (await client.get("/api/v1/me")).status_code == 401
    assert (await client.get("/api/v1/me", headers={"Authorization": "Bearer crm_wrong"})).status_code == 401
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Basic {token}"})).status_code == 401
    await tokens.revoke_token(token_id=summary["id"], actor=Actor.system("test"), now=clock())
    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


async def test_a_token_of_a_deactivated_user_stops_working(client, users, clock):
    from crm.accounts import service

    _, token = await new_token(users, clock)
    await service.update_user(user_id=users["bob"]["id"], is_active=False, actor=Actor.system("t"), now=clock())
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).status_code == 401


async def last_used(token_id: int):
    return (await ApiToken.select(ApiToken.last_used_at).where(ApiToken.id == token_id).first().run())["last_used_at"]


async def test_it_records_when_a_token_was_last_used_by_a_write(client, users, clock):
    summary, token = await new_token(users, clock)
    headers = {"Authorization": f"Bearer {token}"}
    response = await client.post("/api/v1/members", json={"name": "Ann"}, headers=headers)
    assert response.status_code == 201, response.text
    assert await last_used(summary["id"]) == clock()
    clock.advance(seconds=30)  # within the minute's precision: no second write
    await client.post("/api/v1/members", json={"name": "Ben"}, headers=headers)
    assert await last_used(summary["id"]) == clock() - timedelta(seconds=30)
    clock.advance(seconds=30)
    refused = await client.post("/api/v1/members", json={"name": ""}, headers=headers)
    assert refused.status_code == 422  # a refused write is still a use of the token
    assert await last_used(summary["id"]) == clock()


async def test_a_read_with_a_token_records_nothing(client, users, clock):
    summary, token = await new_token(users, clock)
    for _ in range(2):
        assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).status_code == 200
        assert (await client.head("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).status_code < 500
        clock.advance(minutes=5)
    assert await last_used(summary["id"]) is None


@asynccontextmanager
async def another_writer(settings):
    """Another connection in the middle of a write: SQLite's write lock (BEGIN IMMEDIATE), on PostgreSQL a lock
    on api_token that lets reads through and makes every write to it wait."""
    if settings.database.engine == "sqlite":
        other = sqlite3.connect(settings.database.sqlite_path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
    else:
        other = await asyncpg.connect(settings.database.url)
        try:
            async with other.transaction():
                await other.execute("LOCK TABLE api_token IN EXCLUSIVE MODE")
                yield
        finally:
            await other.close()


async def test_a_read_with_a_token_succeeds_while_another_connection_writes(client, users, clock, settings):
    """A read that wrote would wait for the writer (busy_timeout on SQLite, the lock on PostgreSQL) and then fail:
    the guard's timeout only bounds a regression, the test passes at once."""
    _, token = await new_token(users, clock)
    clock.advance(minutes=5)  # the last use (none) is stale: a read that records uses would write now
    async with another_writer(settings):
        response = await asyncio.wait_for(
            client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}), timeout=3
        )
    assert response.status_code == 200, response.text
    assert response.json()["email"] == "bob@example.com"


async def test_admin_creates_lists_and_revokes_tokens_in_the_ui(as_user, client, users):
    alice = await as_user("alice")
    response = await post_form(alice, "/admin/tokens/", {"email": "bob@example.com", "label": "Brandwatch"})
    assert response.status_code == 200
    token = re.search(r'id="new-token">([^<]+)<', response.text).group(1)
    listing = await alice.get("/admin/tokens")
    assert token[:10] in listing.text and token not in listing.text and "Brandwatch" in listing.text
    token_id = (await ApiToken.select(ApiToken.id).first().run())["id"]
    response = await post_form(alice, f"/admin/tokens/{token_id}/revoke")
    assert response.status_code == 303
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).status_code == 401
    actions = {r["action"] for r in await AuditEntry.select(AuditEntry.action).run()}
    assert {"token.create", "token.revoke"} <= actions


async def test_revoking_twice_or_an_unknown_token_is_refused(as_user, users, clock):
    alice = await as_user("alice")
    summary, _ = await new_token(users, clock)
    assert (await post_form(alice, f"/admin/tokens/{summary['id']}/revoke")).status_code == 303
    assert (await post_form(alice, f"/admin/tokens/{summary['id']}/revoke")).status_code == 409
    assert (await post_form(alice, "/admin/tokens/999999/revoke")).status_code == 404


async def test_a_token_for_an_unknown_user_is_refused_next_to_the_field(as_user):
    alice = await as_user("alice")
    response = await post_form(alice, "/admin/tokens/", {"email": "ghost@example.com", "label": "x"})
    assert response.status_code == 422 and "No user with email ghost@example.com" in response.text
    assert await ApiToken.count().run() == 0


async def test_non_admins_cannot_create_or_revoke_tokens(as_user, users, clock):
    summary, token = await new_token(users, clock)
    bob = await as_user("bob")
    assert (await post_form(bob, "/admin/tokens/", {"email": "bob@example.com"})).status_code == 403
    assert (await post_form(bob, f"/admin/tokens/{summary['id']}/revoke")).status_code == 403
    assert await ApiToken.count().run() == 1
    assert (await ApiToken.select().first().run())["revoked_at"] is None
