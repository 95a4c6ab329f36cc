"""`crm serve --forwarded-allow-ips`: the client address behind a named proxy, and X-Forwarded-For ignored
otherwise. The address is what login throttling counts, so a real server is asked and its failures read back."""

from __future__ import annotations

import sqlite3

import httpx

from tests.e2e.conftest import _run_cli, _server_env, serving

CLIENT = "203.0.113.9"  # a documentation address: the "real" client behind the proxy


def failed_login_keys(home, *extra_args: str) -> list[str]:
    database = home / "crm.sqlite"
    env = _server_env(database)
    _run_cli(["migrate"], env=env, cwd=home)
    with serving(home, env, *extra_args) as url, httpx.Client(base_url=url) as client:
        client.get("/login")
        response = client.post(
            "/login",
            headers={"X-Forwarded-For": CLIENT},
            data={
                "email": "nobody@example.com",
                "password": "wrong password here",
                "_csrf_token": client.cookies["crm_csrf"],
            },
        )
        assert response.status_code == 422, response.text  # the sign-in form again: not signed in
    with sqlite3.connect(database) as db:
        return sorted(key for (key,) in db.execute("SELECT key FROM login_failure"))


def test_behind_a_named_proxy_the_forwarded_client_is_counted(tmp_path):
    keys = failed_login_keys(tmp_path, "--forwarded-allow-ips", "127.0.0.1")
    assert keys == ["account:nobody@example.com", f"ip:{CLIENT}"]


def test_without_the_option_a_forwarded_header_is_ignored(tmp_path):
    keys = failed_login_keys(tmp_path)
    assert keys == ["account:nobody@example.com", "ip:127.0.0.1"]


def test_a_proxy_not_named_is_not_believed(tmp_path):
    keys = failed_login_keys(tmp_path, "--forwarded-allow-ips", "10.0.0.5")
    assert keys == ["account:nobody@example.com", "ip:127.0.0.1"]
