"""The JSON API's errors: one shape, the right 4xx, the field named, nothing written."""

from __future__ import annotations

import pytest

from crm.accounts import tokens
from crm.accounts.tables import User
from crm.app import MAX_BODY_BYTES
from crm.audit.service import Actor

VALID = {"email": "erin@example.com", "name": "Erin", "role": "agent", "password": "tidal-Kestrel-meadow-41"}


@pytest.fixture
async def api(client, users, clock):
    _, token = await tokens.create_token(email="alice@example.com", label="", actor=Actor.system("t"), now=clock())
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def error(response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


async def test_it_creates_a_user_through_the_api(api):
    response = await api.post("/api/v1/users", json=VALID)
    assert response.status_code == 201
    assert response.json() == {
        "id": response.json()["id"],
        "email": "erin@example.com",
        "name": "Erin",
        "role": "agent",
        "is_active": True,
    }


async def test_malformed_json_is_a_400(api):
    response = await api.post("/api/v1/users", content=b'{"email": ', headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert error(response)["code"] == "bad_request"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"email": 42}, "email"),
        ({"role": "superuser"}, "role"),
        ({"is_admin": True}, "is_admin"),
    ],
)
async def test_wrong_types_unknown_values_and_unknown_fields_are_422_naming_the_field(api, change, field):
    response = await api.post("/api/v1/users", json={**VALID, **change})
    assert response.status_code == 422
    assert field in error(response)["fields"]
    assert await User.count().where(User.email == "erin@example.com").run() == 0


async def test_a_missing_field_is_named(api):
    body = {k: v for k, v in VALID.items() if k != "name"}
    response = await api.post("/api/v1/users", json=body)
    assert response.status_code in (400, 422)
    assert "name" in error(response)["fields"] or "name" in error(response)["message"]


async def test_domain_validation_is_422_with_fields(api):
    response = await api.post("/api/v1/users", json={**VALID, "password": "password1234", "email": "nope"})
    assert response.status_code == 422
    assert set(error(response)["fields"]) == {"password", "email"}


async def test_a_duplicate_is_409(api):
    response = await api.post("/api/v1/users", json={**VALID, "email": "BOB@example.com"})
    assert response.status_code == 409
    assert error(response)["code"] == "conflict" and "email" in error(response)["fields"]


async def test_an_oversized_body_is_413(api):
    response = await api.post(
        "/api/v1/users",
        content=b'{"name": "' + b"x" * MAX_BODY_BYTES + b'"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert error(response)["code"] == "too_large"


async def test_unknown_api_paths_and_records_are_json_404s(api):
    assert error(await api.get("/api/v1/nothing-here"))["code"] == "not_found"
    response = await api.patch("/api/v1/users/999999", json={"name": "X"})
    assert response.status_code == 404 and error(response)["code"] == "not_found"


async def test_a_bad_path_parameter_is_a_4xx_not_a_500(api):
    response = await api.patch("/api/v1/users/not-a-number", json={"name": "X"})
    assert 400 <= response.status_code < 500


async def test_wrong_method_is_405(api):
    response = await api.delete("/api/v1/me")
    assert response.status_code == 405 and error(response)["code"] == "method_not_allowed"


async def test_a_nul_character_is_refused_not_a_500(api):
    response = await api.post("/api/v1/members", json={"name": "Ja\u0000ne"})
    assert response.status_code == 422 and "name" in error(response)["fields"]
    response = await api.get("/api/v1/members", params={"q": "a\u0000b"})
    assert 400 <= response.status_code < 500
    response = await api.post("/api/v1/users", json={**VALID, "email": "x\u0000@example.com"})
    assert 400 <= response.status_code < 500
    assert await User.count().where(User.name == "Erin").run() == 0
