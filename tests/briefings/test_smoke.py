from datetime import timedelta


async def test_briefing_smoke(client, auth, users, clock):
    h = auth["bob"]
    api = client
    r = await api.post("/api/v1/incidents", json={"title": "Bad ad", "severity": "high", "topics": ["ads"],
                                                  "platforms": ["x"]}, headers=h)
    iid = r.json()["id"]
    a = (await api.post("/api/v1/members", json={"name": "Ann", "tier": "advocate", "consent_private_briefing": True,
         "topics": ["ads"], "handles": [{"platform": "x", "handle": "ann", "followers": 1000}]}, headers=h)).json()["id"]
    b = (await api.post("/api/v1/members", json={"name": "Big", "tier": "champion", "consent_private_briefing": True,
         "handles": [{"platform": "instagram", "handle": "big", "followers": 900000}]}, headers=h)).json()["id"]
    c = (await api.post("/api/v1/members", json={"name": "Dnc", "do_not_contact": True, "consent_private_briefing": True,
         "handles": [{"platform": "x", "handle": "dnc"}]}, headers=h)).json()["id"]
    for member, sentiment in ((a, "positive"), (a, "positive"), (c, "positive")):
        r = await api.post("/api/v1/interactions", json={"member_id": member, "platform": "x", "kind": "reply",
            "sentiment": sentiment, "occurred_at": (clock() + timedelta(minutes=5)).isoformat()}, headers=h)
        assert r.status_code == 201, r.text
    await api.post("/api/v1/interactions", json={"member_id": b, "kind": "post", "occurred_at": (clock() - timedelta(days=3)).isoformat()}, headers=h)
    r = await api.get(f"/api/v1/incidents/{iid}/suggestions?include_excluded=true", headers=h)
    assert r.status_code == 200, r.text
    print(r.json())
    assert r.json()["items"][0]["member_id"] == a
    assert {"member_id": c, "reason": "do_not_contact"} in r.json()["excluded"]
    r = await api.post(f"/api/v1/incidents/{iid}/briefings", json={"member_id": a, "channel": "dm"}, headers=h)
    assert r.status_code == 409, r.text
    tp = await api.post(f"/api/v1/incidents/{iid}/talking-points", json={"points": ["We are sorry"]}, headers=h)
    r = await api.post(f"/api/v1/incidents/{iid}/talking-points/1/approve", headers=auth["alice"])
    assert r.status_code == 200, r.text
    r = await api.post(f"/api/v1/incidents/{iid}/briefings", json={"member_id": a, "channel": "dm"}, headers=h)
    assert r.status_code == 201, r.text
    print(r.json()["message"])
    r = await api.post(f"/api/v1/incidents/{iid}/briefings", json={"member_id": c, "channel": "dm"}, headers=h)
    assert r.status_code == 409
    await api.post(f"/api/v1/incidents/{iid}/talking-points", json={"points": ["We are sorry", "Refunds"]}, headers=h)
    await api.post(f"/api/v1/incidents/{iid}/talking-points/2/approve", headers=auth["alice"])
    r = await api.get(f"/api/v1/incidents/{iid}/rebrief", headers=h)
    assert r.status_code == 200 and r.json()[0]["member_id"] == a, r.text
    print(r.json())
