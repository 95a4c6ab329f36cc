"""Security headers on every response."""

from __future__ import annotations

import pytest

from tests.conftest import make_client

PATHS = ["/login", "/healthz", "/static/app.css", "/no-such-page", "/api/v1/me", "/"]


@pytest.mark.parametrize("path", PATHS)
async def test_every_response_carries_the_security_headers(client, path):
    response = await client.get(path)
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in response.headers


@pytest.mark.parametrize("path", PATHS)
async def test_production_adds_hsts(production_app, path):
    async with make_client(production_app, https=True) as client:
        response = await client.get(path)
    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_pages_need_no_inline_script(as_user):
    alice = await as_user("alice")
    for path in ("/", "/login", "/admin/users", "/admin/audit", "/account"):
        body = (await alice.get(path)).text
        assert "<script>" not in body and " on" + "click=" not in body and "style=" not in body, path
