from tests.conftest import make_client


async def test_api_smoke(client, users, clock):
    from crm.accounts import tokens
    from crm.audit.service import Actor
    _, token = await tokens.create_token(email="bob@example.com", label="", actor=Actor.system("t"), now=clock())
    h = {"Authorization": f"Bearer {token}"}
    r = await client.post("/api/v1/members", json={"name": "Jane", "email": "Jane@X.com", "tier": "advocate",
        "topics": ["Travel", "travel", "food"], "handles": [{"platform": "x", "handle": "@Jane", "followers": 120}]}, headers=h)
    assert r.status_code == 201, r.text
    mid = r.json()["id"]
    assert r.json()["topics"] == ["food", "travel"]
    r = await client.post("/api/v1/interactions", json={"platform": "x", "handle": "jane", "kind": "reply",
        "occurred_at": "2026-03-01T10:00:00+01:00", "sentiment": "positive", "external_id": "t1"}, headers=h)
    assert r.status_code == 201, r.text
    r = await client.post("/api/v1/interactions", json={"platform": "x", "handle": "jane", "kind": "reply",
        "occurred_at": "2026-03-01T10:00:00+01:00", "sentiment": "positive", "external_id": "t1"}, headers=h)
    assert r.status_code == 200, r.text
    r = await client.post("/api/v1/interactions", json={"platform": "instagram", "handle": "newbie", "kind": "comment",
        "occurred_at": "2026-02-01T10:00:00Z"}, headers=h)
    assert r.status_code == 201, r.text
    r = await client.get(f"/api/v1/members/{mid}", headers=h)
    assert r.status_code == 200, r.text
    print(r.json())
    r = await client.get("/api/v1/members?sort=score", headers=h)
    print(r.json())
    assert r.status_code == 200
    for sort in ("name", "reach", "last_interaction"):
        r = await client.get(f"/api/v1/members?sort={sort}&limit=1", headers=h)
        assert r.status_code == 200, r.text
        r2 = await client.get(f"/api/v1/members?sort={sort}&limit=1&cursor={r.json()['next']}", headers=h)
        assert r2.status_code == 200, r2.text
        assert r2.json()["items"][0]["id"] != r.json()["items"][0]["id"]
    for state in ("new", "active", "going_quiet", "inactive"):
        r = await client.get(f"/api/v1/members?state={state}", headers=h)
        assert r.status_code == 200, r.text
        print(state, [i["name"] for i in r.json()["items"]])
    r = await client.post("/api/v1/interactions", json={"platform": "x", "handle": "jane", "kind": "reply",
        "occurred_at": "2026-03-01T10:00:00"}, headers=h)
    assert r.status_code == 422, r.text
    print(r.json())
    r = await client.get(f"/api/v1/members/{mid}/interactions", headers=h)
    assert r.status_code == 200 and len(r.json()["items"]) == 1
