"""The `crm` console script, run for real as a subprocess against SQLite and PostgreSQL.

Each test gets a database of its own: a temporary SQLite file, or a PostgreSQL
database created for it (crm_cli_<random>) on the server in CRM_TEST_POSTGRES_URL
and dropped afterwards, so the main suite's database is never touched.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from crm import db
from crm.accounts import queries
from crm.accounts.sessions import hash_token
from crm.accounts.tables import ApiToken
from crm.app import create_app
from crm.settings import DatabaseURL, Settings
from tests.conftest import login, postgres_url_or_skip

CRM = Path(sys.executable).with_name("crm")
SECRET = "cli-test-secret-" + "y" * 40
PASSWORD = "quiet-harbour-lantern-1987"
TIMEOUT = 120  # seconds; a hung command fails the test instead of the run


@dataclass
class Cli:
    """The `crm` command with CRM_DATABASE_URL pointing at this test's database."""

    database_url: str
    cwd: Path

    def run(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = TIMEOUT
    ) -> subprocess.CompletedProcess[str]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
        environ.update(CRM_DATABASE_URL=self.database_url, CRM_SECRET_KEY=SECRET)
        environ.update(env or {})
        return subprocess.run(
            [str(CRM), *args],
            env=environ,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def ok(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        result = self.run(*args, env=env)
        assert result.returncode == 0, f"crm {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return result

    def add_user(self, email: str, role: str = "manager", password: str = PASSWORD, *extra: str):
        return self.run("user", "add", email, "--role", role, *extra, env={"CRM_PASSWORD": password})

    def settings(self) -> Settings:
        return Settings(
            database=DatabaseURL.parse(self.database_url, base=Path("/")),
            secret_key=SECRET,
            env="development",
            timezone="UTC",
            var_dir=self.cwd / "var",
        )

    def bind(self) -> None:
        """Point this process's tables at the same database the subprocess uses."""
        db.bind(db.make_engine(self.settings().database))

    @asynccontextmanager
    async def api(self):
        """The app, in this process, on the same database."""
        app = create_app(self.settings(), manage_pool=False)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver", follow_redirects=False
        ) as client:
            yield client


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'crm.sqlite'}"
        return
    server_url = postgres_url_or_skip()
    name = f"crm_cli_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield _with_database(server_url, name)
    finally:
        conn = await asyncpg.connect(server_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture
def cli(database_url, tmp_path) -> Cli:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    return Cli(database_url, cwd)


@pytest.fixture
def migrated(cli) -> Cli:
    cli.ok("migrate")
    cli.bind()
    return cli


@pytest.fixture
def offline(tmp_path) -> Cli:
    """For commands that must stop before touching any database."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    return Cli(f"sqlite:///{tmp_path / 'never' / 'crm.sqlite'}", cwd)


async def token_row(token: str) -> dict:
    rows = await ApiToken.select().where(ApiToken.token_hash == hash_token(token)).run()
    assert len(rows) == 1, rows
    return rows[0]


def stdout_token(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    return lines[0]


# --- help ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["migrate"],
        ["serve"],
        ["user"],
        ["user", "add"],
        ["token"],
        ["token", "create"],
        ["token", "revoke"],
        ["rollups"],
        ["rollups", "rebuild"],
        ["demo"],
    ],
)
def test_it_prints_usage_for_help_on_every_command(offline, command):
    result = offline.run(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: {' '.join(['crm', *command])}")
    assert result.stderr == ""


def test_it_prints_usage_and_fails_without_a_command(offline):
    result = offline.run()
    assert result.returncode == 2
    assert result.stderr.startswith("usage: crm")
    assert "required" in result.stderr


# --- migrate ------------------------------------------------------------------------------


async def test_it_applies_migrations_then_reports_up_to_date(cli):
    first = cli.ok("migrate")
    assert re.fullmatch(r"Migrations applied: [1-9]\d* \(.+\)\n", first.stdout), first.stdout
    assert "already up to date" not in first.stdout

    cli.bind()
    assert await queries.count_users() == 0  # the tables exist

    second = cli.ok("migrate")
    assert second.stdout == "Migrations applied: 0 (already up to date)\n"


# --- user add -----------------------------------------------------------------------------


async def test_it_adds_a_user_with_the_password_from_the_environment(migrated):
    result = migrated.add_user("Morgan@Example.com", "manager", PASSWORD, "--name", "Morgan Manager")
    assert result.returncode == 0, result.stderr
    assert "morgan@example.com" in result.stdout and "manager" in result.stdout

    user = await queries.user_by_email("morgan@example.com")
    assert user is not None
    assert (user["name"], user["role"], user["is_active"]) == ("Morgan Manager", "manager", True)
    assert PASSWORD not in user["password_hash"]

    async with migrated.api() as client:
        response = await login(client, "morgan@example.com", PASSWORD)
    assert response.status_code == 303, response.text


async def test_it_refuses_an_email_that_is_already_taken(migrated):
    assert migrated.add_user("morgan@example.com").returncode == 0
    for email in ("morgan@example.com", "MORGAN@example.com"):
        again = migrated.add_user(email)
        assert again.returncode != 0
        assert again.stderr.strip() == "crm: error: A user with this email already exists. (email: Already in use.)"
        assert "Traceback" not in again.stderr
    assert await queries.count_users() == 1


async def test_it_refuses_a_weak_password_and_says_why(migrated):
    result = migrated.add_user("weak@example.com", "agent", "password1234")
    assert result.returncode != 0
    assert "password:" in result.stderr and "too common or easy to guess" in result.stderr
    assert "Traceback" not in result.stderr
    assert await queries.user_by_email("weak@example.com") is None
    assert await queries.count_users() == 0


async def test_it_refuses_to_add_a_user_without_a_password_when_not_in_a_terminal(migrated):
    result = migrated.run("user", "add", "nopw@example.com", "--role", "agent")
    assert result.returncode != 0
    assert "set CRM_PASSWORD" in result.stderr
    assert await queries.count_users() == 0


async def test_it_rejects_an_unknown_role_before_touching_the_database(migrated):
    result = migrated.add_user("owner@example.com", "owner")
    assert result.returncode == 2
    assert "invalid choice: 'owner'" in result.stderr
    assert await queries.count_users() == 0


# --- token create / revoke ----------------------------------------------------------------


async def test_it_creates_a_token_that_authenticates_as_that_user(migrated):
    migrated.add_user("morgan@example.com")
    result = migrated.ok("token", "create", "morgan@example.com", "--label", "x")
    token = stdout_token(result)
    assert token.startswith("crm_")

    async with migrated.api() as client:
        response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        assert response.json()["email"] == "morgan@example.com"
        assert response.json()["role"] == "manager"

        forged = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}x"})
        assert forged.status_code == 401


async def test_it_stores_only_a_hash_of_the_token(migrated):
    migrated.add_user("morgan@example.com")
    token = stdout_token(migrated.ok("token", "create", "morgan@example.com", "--label", "x"))
    secret_part = token[len("crm_") + 6 :]  # what follows the displayed prefix

    row = await token_row(token)
    assert row["token_hash"] == hash_token(token)
    assert row["label"] == "x"
    for table in db.table_classes():
        for stored in await table.select().run():
            for column, value in stored.items():
                assert secret_part not in str(value), f"{table._meta.tablename}.{column} holds the token"


async def test_it_refuses_a_token_for_an_unknown_email(migrated):
    result = migrated.run("token", "create", "nobody@example.com", "--label", "x")
    assert result.returncode != 0
    assert result.stdout == ""
    assert "No user with email nobody@example.com" in result.stderr
    assert await ApiToken.count().run() == 0


async def test_it_revokes_a_token_so_it_no_longer_authenticates(migrated):
    migrated.add_user("morgan@example.com")
    token = stdout_token(migrated.ok("token", "create", "morgan@example.com", "--label", "x"))
    token_id = (await token_row(token))["id"]

    revoked = migrated.ok("token", "revoke", str(token_id))
    assert f"Revoked token {token_id}" in revoked.stdout
    assert (await token_row(token))["revoked_at"] is not None

    async with migrated.api() as client:
        response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


async def test_it_refuses_to_revoke_a_token_twice(migrated):
    migrated.add_user("morgan@example.com")
    token = stdout_token(migrated.ok("token", "create", "morgan@example.com"))
    token_id = (await token_row(token))["id"]
    migrated.ok("token", "revoke", str(token_id))

    again = migrated.run("token", "revoke", str(token_id))
    assert again.returncode != 0
    assert "already revoked" in again.stderr


async def test_it_refuses_to_revoke_an_unknown_token(migrated):
    result = migrated.run("token", "revoke", "424242")
    assert result.returncode != 0
    assert "No API token with id 424242" in result.stderr


# --- demo ---------------------------------------------------------------------------------


async def test_it_loads_demo_accounts_once_with_a_working_admin_password(migrated):
    first = migrated.ok("demo")
    assert "admin@example.com" in first.stdout
    match = re.search(r"^\s*password: (\S+)$", first.stdout, re.MULTILINE)
    assert match, first.stdout
    assert await queries.count_users() == 4
    admin = await queries.user_by_email("admin@example.com")
    assert admin is not None and admin["role"] == "admin"

    async with migrated.api() as client:
        response = await login(client, "admin@example.com", match.group(1))
    assert response.status_code == 303, response.text

    second = migrated.ok("demo")
    assert "none created" in second.stdout
    assert "password:" not in second.stdout
    assert await queries.count_users() == 4


async def test_it_creates_no_demo_accounts_when_a_user_exists(migrated):
    migrated.add_user("morgan@example.com")
    result = migrated.ok("demo")
    assert "none created" in result.stdout
    assert await queries.count_users() == 1


async def test_it_loads_demo_members_and_tweets_once(migrated):
    from crm.members.demo import TWEETS
    from crm.members.tables import Interaction, Member

    first = migrated.ok("demo")
    assert "Demo members: 5 added" in first.stdout
    members, interactions = await Member.count().run(), await Interaction.count().run()
    if TWEETS.exists():  # the shared data set sits beside the repository in CI and in the workplace
        assert members > 300 and interactions > 500  # five hand-made people plus the tweets' authors
    else:
        assert "Tweets not found" in first.stdout and members == 5
    second = migrated.ok("demo")
    assert "Demo members: 0 added" in second.stdout and ": 0 interactions added" in second.stdout
    assert (await Member.count().run(), await Interaction.count().run()) == (members, interactions)


ROLLUP = (
    "id",
    "interactions_total",
    "first_interaction_at",
    "last_interaction_at",
    "usual_gap_seconds",
    "quiet_after",
    "reach",
)


async def test_rollups_rebuild_repairs_a_damaged_rollup_and_changes_nothing_else(migrated):
    from crm.incidents import conversation
    from crm.incidents.tables import IncidentConversation
    from crm.members.tables import Member, MemberDay

    migrated.ok("demo")
    columns = [getattr(Member, name) for name in ROLLUP] + [Member.score_log2]
    before = await Member.select(*columns).order_by(Member.id).run()
    days_before = (
        await MemberDay.select(MemberDay.key, MemberDay.total, MemberDay.positive).order_by(MemberDay.key).run()
    )
    damaged = before[0]["id"]
    await Member.update({Member.interactions_total: 0, Member.score_log2: -1e9}).where(Member.id == damaged).run()
    await MemberDay.delete().where(MemberDay.member == damaged).run()

    kept_conversation = await conversation.rows()
    await IncidentConversation.delete(force=True).run()

    result = migrated.ok("rollups", "rebuild")
    assert f"of {len(before)} members" in result.stdout
    assert await conversation.rows() == kept_conversation and kept_conversation  # the demo has a conversation
    assert f"conversation rollup ({len(kept_conversation)} member and incident pairs)" in result.stdout
    after = await Member.select(*columns).order_by(Member.id).run()
    for old, new in zip(before, after, strict=False):
        assert {k: old[k] for k in ROLLUP} == {k: new[k] for k in ROLLUP}
        assert abs(old["score_log2"] - new["score_log2"]) < 1e-9
    assert (
        await MemberDay.select(MemberDay.key, MemberDay.total, MemberDay.positive).order_by(MemberDay.key).run()
        == days_before
    )


# --- bad configuration --------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["migrate"],
        ["demo"],
        ["serve", "--port", "0"],
        ["token", "create", "a@example.com"],
        ["token", "revoke", "1"],
        ["user", "add", "a@example.com", "--role", "agent"],
    ],
)
def test_it_stops_with_one_line_naming_crm_env_when_it_is_unknown(offline, command):
    result = offline.run(*command, env={"CRM_ENV": "staging", "CRM_PASSWORD": PASSWORD})
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "CRM_ENV" in lines[0] and "staging" in lines[0]
    assert result.stdout == ""
    assert not (offline.cwd.parent / "never").exists()  # no database was opened


@pytest.mark.parametrize(
    "url",
    [
        "mysql://crm@localhost/crm",
        "sqlite:///",
        "postgresql:///crm",
        "postgresql://crm@localhost:port/crm",
        "postgresql://crm@localhost:5432",
    ],
)
def test_it_stops_with_one_line_naming_crm_database_url_when_it_is_malformed(offline, url):
    result = offline.run("migrate", env={"CRM_DATABASE_URL": url})
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "CRM_DATABASE_URL" in lines[0]
    assert result.stdout == ""


def test_it_refuses_production_without_a_secret_key(offline):
    environ = {"CRM_ENV": "production", "CRM_SECRET_KEY": ""}
    result = offline.run("migrate", env=environ)
    assert result.returncode != 0
    assert result.stderr.splitlines() == [
        "crm: configuration error: CRM_SECRET_KEY: is required when CRM_ENV=production"
    ]


# --- serve --------------------------------------------------------------------------------


@pytest.mark.parametrize("workers", ["0", "-3"])
def test_it_refuses_to_serve_with_fewer_than_one_worker(offline, workers):
    # Port 0 and a short timeout: were the check gone, a server would start and the test time out.
    result = offline.run("serve", "--workers", workers, "--port", "0", timeout=20)
    assert result.returncode != 0
    assert result.stderr.strip() == "crm: error: --workers must be at least 1"
    assert result.stdout == ""
