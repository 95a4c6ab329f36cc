async def test_incident_api_smoke(as_user, users, clock):
    bob = await as_user("bob")
    alice = await as_user("alice")
    hb = {"x-csrftoken": bob.cookies["crm_csrf"]}
    ha = {"x-csrftoken": alice.cookies["crm_csrf"]}
    r = await bob.post("/api/v1/incidents", json={"title": "Tone-deaf ad", "severity": "critical",
                                                  "topics": ["Ads"], "platforms": ["x"]}, headers=hb)
    assert r.status_code == 201, r.text
    iid = r.json()["id"]
    assert r.json()["freeze_promotion"] is True and r.json()["clock"]["ack_target_seconds"] == 900
    r = await bob.get("/api/v1/status")
    assert r.json()["promotion_freeze"] is False  # detected does not freeze yet
    r = await bob.post(f"/api/v1/incidents/{iid}/transitions", json={"to": "reviewed"}, headers=hb)
    assert r.status_code == 409, r.text
    print(r.json())
    clock.advance(minutes=20)
    r = await bob.post(f"/api/v1/incidents/{iid}/transitions", json={"to": "acknowledged"}, headers=hb)
    assert r.status_code == 200 and r.json()["clock"]["ack_target_missed"] is True, r.text
    r = await bob.get("/api/v1/status")
    assert r.json()["promotion_freeze"] is True
    page = await bob.get("/")
    assert "Promotion is paused" in page.text
    r = await bob.post(f"/api/v1/incidents/{iid}/talking-points", json={"points": ["We are sorry"]}, headers=hb)
    assert r.status_code == 201 and r.json()["version"] == 1, r.text
    r = await bob.post(f"/api/v1/incidents/{iid}/talking-points/1/approve", headers=hb)
    assert r.status_code == 403, r.text
    r = await alice.post(f"/api/v1/incidents/{iid}/talking-points/1/approve", headers=ha)
    assert r.status_code == 200, r.text
    r = await bob.get(f"/api/v1/incidents/{iid}/talking-points/current")
    assert r.json()["version"] == 1
    r = await bob.post(f"/api/v1/incidents/{iid}/freeze/lift", headers=hb)
    assert r.status_code == 200
    assert (await bob.get("/api/v1/status")).json()["promotion_freeze"] is False
    r = await bob.get("/api/v1/incidents?open=true")
    assert r.status_code == 200 and len(r.json()) == 1
