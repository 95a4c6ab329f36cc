from tests.conftest import login, post_form


async def test_login_dashboard(client, users):
    r = await login(client, "alice@example.com")
    assert r.status_code == 303, r.text
    r = await client.get("/")
    assert r.status_code == 200 and "Welcome, Alice" in r.text
    r = await client.get("/admin/users/")
    assert r.status_code == 200, r.text
    r = await client.get("/admin/audit/")
    assert r.status_code == 200, r.text
    r = await client.get("/admin/tokens/")
    assert r.status_code == 200, r.text
    r = await post_form(client, "/logout")
    assert r.status_code == 303
    r = await client.get("/")
    assert r.status_code == 303
