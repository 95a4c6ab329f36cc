"""The web shell: friendly error pages, escaping, navigation, OpenAPI."""

from __future__ import annotations

import re

from litestar import get

from crm.app import create_app
from crm.audit.tables import AuditEntry
from tests.conftest import login, make_client, post_form


async def test_unknown_pages_get_a_friendly_404(as_user):
    alice = await as_user("alice")
    response = await alice.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.text and "Back to the dashboard" in response.text


async def test_an_unexpected_error_gets_a_friendly_500_page_and_json(settings, engine, clock, users):
    @get("/boom", opt={"public": True})
    async def boom() -> str:
        raise ZeroDivisionError("secret internals")

    @get("/api/v1/boom", opt={"public": True})
    async def api_boom() -> str:
        raise ZeroDivisionError("secret internals")

    app = create_app(settings, engine=engine, clock=clock, manage_pool=False)
    app.register(boom)
    app.register(api_boom)
    async with make_client(app) as client:
        page = await client.get("/boom")
        api = await client.get("/api/v1/boom")
    assert page.status_code == 500 and "Something went wrong" in page.text
    assert "secret internals" not in page.text and "Traceback" not in page.text
    assert api.status_code == 500 and api.json()["error"]["code"] == "internal_error"
    assert "secret internals" not in api.text


async def test_it_escapes_user_supplied_text(as_user):
    alice = await as_user("alice")
    await post_form(
        alice,
        "/admin/users/",
        {
            "email": "x@example.com",
            "name": "<script>alert(1)</script>",
            "role": "agent",
            "password": "tidal-Kestrel-meadow-41",
        },
    )
    body = (await alice.get("/admin/users")).text
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


async def test_the_shell_has_every_section_in_its_navigation(as_user):
    body = (await (await as_user("bob")).get("/")).text
    for label in ("Dashboard", "Members", "Incidents", "Thank-yous", "FAQ"):
        assert f">{label}</a>" in body
    assert 'name="viewport"' in body


async def test_a_flash_message_shows_once_after_a_redirect(client, users):
    await login(client, "alice@example.com")
    await post_form(client, "/logout")
    first = await client.get("/login")
    assert "You are signed out." in first.text
    second = await client.get("/login")
    assert "You are signed out." not in second.text


async def test_a_forged_flash_cookie_is_ignored(client):
    client.cookies.set("crm_flash", "SGFja2Vk.0000")
    assert "Hacked" not in (await client.get("/login")).text


async def test_the_openapi_schema_documents_every_api_route(app, as_user):
    alice = await as_user("alice")
    schema = (await alice.get("/schema")).json()
    api_paths = {
        re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path) for route in app.routes if route.path.startswith("/api/")
    }
    documented = set(schema["paths"])
    assert api_paths <= documented, api_paths - documented
    assert "BearerToken" in schema["components"]["securitySchemes"]
    assert all("/admin" not in p and p != "/login" for p in schema["paths"])


async def test_admin_filters_the_audit_log(as_user, users):
    alice = await as_user("alice")
    await login(await as_user("bob"), "bob@example.com", "wrong-password-000")
    response = await alice.get("/admin/audit", params={"action": "login.failed"})
    assert response.status_code == 200
    assert response.text.count("<code>login.failed</code>") == 1
    assert "<code>user.create</code>" not in response.text
    response = await alice.get("/admin/audit", params={"actor": "bob@"})
    assert "<code>login.succeeded</code>" in response.text and "alice@example.com</td>" not in response.text


async def test_the_audit_log_pages_older_entries(as_user, users):
    from crm.audit.queries import PAGE_SIZE, AuditFilter, list_entries

    await as_user("alice")
    total = await AuditEntry.count().run()
    first, cursor = await list_entries(AuditFilter(), limit=3)
    second, _ = await list_entries(AuditFilter(before_id=cursor), limit=3)
    assert total == 5 and cursor is not None  # four users created, one login
    assert [e["id"] for e in first] == sorted([e["id"] for e in first], reverse=True)
    assert max(e["id"] for e in second) < min(e["id"] for e in first)
    assert PAGE_SIZE == 50
