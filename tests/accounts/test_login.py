"""Signing in and out: sessions, fixation, throttling, lifetimes, audit."""

from __future__ import annotations

from crm.accounts.sessions import MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_IP, hash_token
from crm.accounts.tables import AuthSession
from crm.audit.tables import AuditEntry
from crm.security import SESSION_COOKIE
from tests.conftest import PASSWORD, csrf, login, make_client, post_form

REFUSED = "Email or password is incorrect."


def set_cookie_header(response, name: str) -> str:
    return next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith(name + "="))


async def test_it_signs_in_with_the_right_password_and_opens_a_session(client, users):
    response = await login(client, "alice@example.com")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    token = client.cookies[SESSION_COOKIE]
    assert await AuthSession.count().where(AuthSession.token_hash == hash_token(token)).run() == 1
    assert (await client.get("/")).status_code == 200


async def test_it_never_stores_the_session_token_itself(client, users):
    await login(client, "alice@example.com")
    token = client.cookies[SESSION_COOKIE]
    assert await AuthSession.count().where(AuthSession.token_hash == token).run() == 0


async def test_it_sets_a_httponly_samesite_lax_cookie_not_secure_in_development(client, users):
    header = set_cookie_header(await login(client, "alice@example.com"), SESSION_COOKIE).lower()
    assert "httponly" in header
    assert "samesite=lax" in header
    assert "secure" not in header


async def test_it_sets_a_secure_cookie_in_production(production_app, users):
    async with make_client(production_app, https=True) as client:
        header = set_cookie_header(await login(client, "alice@example.com"), SESSION_COOKIE).lower()
    assert "secure" in header and "httponly" in header


async def test_it_issues_a_new_session_id_at_every_login(client, users):
    await login(client, "alice@example.com")
    first = client.cookies[SESSION_COOKIE]
    await login(client, "alice@example.com")
    assert client.cookies[SESSION_COOKIE] != first


async def test_it_ignores_a_session_id_the_client_made_up(client, users):
    client.cookies.set(SESSION_COOKIE, "attacker-chosen-session-id")
    response = await client.get("/")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    issued = set_cookie_header(await login(client, "alice@example.com"), SESSION_COOKIE)
    assert not issued.startswith(f"{SESSION_COOKIE}=attacker-chosen-session-id;")
    assert (
        await AuthSession.count().where(AuthSession.token_hash == hash_token("attacker-chosen-session-id")).run() == 0
    )


async def test_it_refuses_a_wrong_password_without_revealing_whether_the_email_exists(client, users):
    wrong_password = await login(client, "alice@example.com", "not-the-right-password-1")
    unknown_email = await login(client, "nobody@example.com", "not-the-right-password-1")
    assert wrong_password.status_code == unknown_email.status_code == 422
    assert REFUSED in wrong_password.text and REFUSED in unknown_email.text
    assert SESSION_COOKIE not in client.cookies
    assert await AuthSession.count().run() == 0


async def test_it_refuses_a_deactivated_user_with_the_same_message(client, users, clock):
    from crm.accounts import service
    from crm.audit.service import Actor

    await service.update_user(user_id=users["bob"]["id"], is_active=False, actor=Actor.system("test"), now=clock())
    response = await login(client, "bob@example.com")
    assert response.status_code == 422 and REFUSED in response.text


async def test_it_matches_emails_case_insensitively(client, users):
    response = await login(client, "  Alice@Example.COM ")
    assert response.status_code == 303


async def test_it_audits_failed_and_successful_logins(client, users):
    await login(client, "alice@example.com", "not-the-right-password-1")
    await login(client, "alice@example.com")
    actions = [
        r["action"]
        for r in await AuditEntry.select(AuditEntry.action)
        .where(AuditEntry.entity == "session")
        .order_by(AuditEntry.id)
        .run()
    ]
    assert actions == ["login.failed", "login.succeeded"]
    failed = await AuditEntry.select().where(AuditEntry.action == "login.failed").first().run()
    assert failed["actor_label"] == "alice@example.com" and failed["record_id"] == str(users["alice"]["id"])


async def test_it_throttles_an_account_after_repeated_failures_even_with_the_right_password(client, users):
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        assert (await login(client, "alice@example.com", "wrong-password-again-9")).status_code == 422
    response = await login(client, "alice@example.com")
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.text
    assert await AuthSession.count().run() == 0
    assert await AuditEntry.count().where(AuditEntry.action == "login.throttled").run() == 1


async def test_it_throttles_unknown_emails_the_same_way(client, users):
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        await login(client, "ghost@example.com", "wrong-password-again-9")
    assert (await login(client, "ghost@example.com", "wrong-password-again-9")).status_code == 429


async def test_it_lets_the_account_in_again_after_the_window(client, users, clock):
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        await login(client, "alice@example.com", "wrong-password-again-9")
    clock.advance(minutes=16)
    assert (await login(client, "alice@example.com")).status_code == 303


async def test_it_throttles_an_ip_that_tries_many_accounts(client, users):
    for n in range(MAX_FAILURES_PER_IP):
        await login(client, f"user{n}@example.com", "wrong-password-again-9")
    response = await login(client, "alice@example.com")
    assert response.status_code == 429


async def test_throttling_is_shared_across_app_instances(app, settings, engine, clock, users):
    """State lives in the database, so several workers see the same count."""
    from crm.app import create_app

    other_worker = create_app(settings, engine=engine, clock=clock, manage_pool=False)
    async with make_client(app) as first, make_client(other_worker) as second:
        for _ in range(MAX_FAILURES_PER_ACCOUNT):
            await login(first, "alice@example.com", "wrong-password-again-9")
        assert (await login(second, "alice@example.com")).status_code == 429


async def test_a_session_works_in_another_app_instance(app, settings, engine, clock, users):
    from crm.app import create_app

    async with make_client(app) as client:
        await login(client, "alice@example.com")
        token = client.cookies[SESSION_COOKIE]
    restarted = create_app(settings, engine=engine, clock=clock, manage_pool=False)
    async with make_client(restarted) as client:
        client.cookies.set(SESSION_COOKIE, token)
        assert (await client.get("/")).status_code == 200


async def test_it_ends_the_session_at_logout(client, users):
    await login(client, "alice@example.com")
    token = client.cookies[SESSION_COOKIE]
    response = await post_form(client, "/logout")
    assert response.status_code == 303
    client.cookies.set(SESSION_COOKIE, token)  # replaying the old cookie
    assert (await client.get("/")).status_code == 303
    assert await AuthSession.count().run() == 0
    assert await AuditEntry.count().where(AuditEntry.action == "logout").run() == 1


async def test_it_refuses_logout_by_get(client, users):
    await login(client, "alice@example.com")
    assert (await client.get("/logout")).status_code == 405
    assert (await client.get("/")).status_code == 200


async def test_it_expires_sessions_after_their_absolute_lifetime(client, users, clock, settings):
    await login(client, "alice@example.com")
    clock.advance(seconds=settings.session_lifetime.total_seconds() - 60)
    assert (await client.get("/")).status_code == 200  # activity does not extend it...
    clock.advance(seconds=61)
    response = await client.get("/")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


async def test_it_sends_an_unauthenticated_visitor_to_login_and_back(client, users):
    response = await client.get("/admin/users?x=1")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fadmin%2Fusers%3Fx%3D1"
    token = await csrf(client)
    response = await client.post(
        "/login",
        data={"email": "alice@example.com", "password": PASSWORD, "next": "/admin/users?x=1", "_csrf_token": token},
    )
    assert response.headers["location"] == "/admin/users?x=1"


async def test_it_never_redirects_off_site_after_login(client, users):
    token = await csrf(client)
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = await client.post(
            "/login", data={"email": "alice@example.com", "password": PASSWORD, "next": target, "_csrf_token": token}
        )
        assert response.headers["location"] == "/", target
