"""Shared fixtures: one database per engine per test run, a fresh (emptied)
database for every test, the app on the test's own event loop, and a fixed
cast of users (alice admin, bob manager, carol agent, dave viewer)."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from piccolo.engine.postgres import PostgresEngine

from crm import db, wiring
from crm.accounts import passwords
from crm.app import create_app
from crm.clock import FrozenClock
from crm.migrate import migrate
from crm.settings import DatabaseURL, Settings

# Still argon2id, with small costs: the real costs are checked in test_passwords.py.
passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))

START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SECRET = "test-secret-" + "x" * 40


def postgres_url_or_skip() -> str:
    url = os.environ.get("CRM_TEST_POSTGRES_URL", "").strip()
    if url:
        return url
    if os.environ.get("CRM_REQUIRE_POSTGRES") == "1":
        pytest.fail("CRM_REQUIRE_POSTGRES=1 but CRM_TEST_POSTGRES_URL is not set")
    pytest.skip("PostgreSQL not configured: set CRM_TEST_POSTGRES_URL to run these tests on PostgreSQL too")


@pytest.fixture(scope="session", autouse=True)
def wired() -> None:
    """The start-up registrations (crm/wiring.py), as create_app and the crm command make them, also for tests that
    call services without an app."""
    wiring.connect()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
async def database(request, tmp_path_factory) -> DatabaseURL:
    """A migrated database for one engine, shared by the whole run."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "crm.sqlite"
        url = DatabaseURL.parse(f"sqlite:///{path}", base=Path("/"))
    else:
        url = DatabaseURL.parse(postgres_url_or_skip(), base=Path("/"))
    engine = db.make_engine(url)
    db.bind(engine)
    if url.engine == "postgres":
        await engine.run_ddl("DROP SCHEMA IF EXISTS public CASCADE")
        await engine.run_ddl("CREATE SCHEMA public")
    await db.prepare(engine)
    await migrate()
    return url


async def empty_all_tables() -> None:
    tables = [t for t in db.table_classes() if t._meta.tablename != "migration"]
    names = ", ".join(t._meta.tablename for t in tables)
    if db.is_sqlite():
        async with db.transaction():
            # Checked at COMMIT, when every table is empty, so the order does not matter.
            await db.engine().run_ddl("PRAGMA defer_foreign_keys = ON")
            for table in tables:
                await table.delete(force=True).run()
            # The FAQ's FTS5 indexes are not Piccolo tables (on PostgreSQL they are columns of faq_entry).
            for index in ("faq_fts", "faq_words"):
                await db.engine().run_ddl(f"DELETE FROM {index}")
    else:
        # faq_word is kept by a trigger on faq_entry (crm/faq/search.py), which TRUNCATE does not fire.
        await db.engine().run_ddl(f"TRUNCATE {names}, faq_word RESTART IDENTITY CASCADE")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
async def settings(database, tmp_path) -> Settings:
    return Settings(database=database, secret_key=SECRET, env="development", timezone="UTC", var_dir=tmp_path / "var")


@pytest.fixture
async def engine(database, settings):
    """The bound engine, with every table emptied before the test."""
    engine = db.make_engine(database)
    db.bind(engine)
    await empty_all_tables()
    yield engine
    await db.stop(engine)  # SQLite's idle connections end with the test's engine


@pytest.fixture
async def app(settings, engine, clock):
    return create_app(settings, engine=engine, clock=clock, manage_pool=False)


def make_client(app, *, https: bool = False) -> httpx.AsyncClient:
    """A client on the test's own event loop (production cookies are Secure: use https)."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="https://testserver" if https else "http://testserver",
        follow_redirects=False,
    )


@pytest.fixture
async def client(app):
    async with make_client(app) as c:
        yield c


@pytest.fixture
async def production_app(settings, engine, clock):
    return create_app(replace(settings, env="production"), engine=engine, clock=clock, manage_pool=False)


PASSWORD = "quiet-harbour-lantern-1987"


@pytest.fixture
async def users(engine, clock) -> dict[str, dict]:
    """The cast: alice (admin), bob (manager), carol (agent), dave (viewer), all with PASSWORD."""
    from crm.accounts import service
    from crm.audit.service import Actor

    cast = {"alice": "admin", "bob": "manager", "carol": "agent", "dave": "viewer"}
    made = {}
    for name, role in cast.items():
        made[name] = await service.create_user(
            email=f"{name}@example.com",
            name=name.title(),
            role=role,
            password=PASSWORD,
            actor=Actor.system("test"),
            now=clock(),
        )
    return made


@pytest.fixture
async def pooled(engine):
    """On PostgreSQL, a small connection pool as in production (crm.db.start) instead of a new
    connection per query: the same behaviour, several times faster. The members and incidents
    suites use it for every test (their conftest.py)."""
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=4)
        yield engine
        await engine.close_connection_pool()
    else:
        yield engine


@pytest.fixture
async def auth(users, clock) -> dict[str, dict[str, str]]:
    """Bearer headers per member of the cast: auth["dave"] is the viewer's."""
    from crm.accounts import tokens
    from crm.audit.service import Actor

    headers = {}
    for name in users:
        _, token = await tokens.create_token(
            email=f"{name}@example.com", label="", actor=Actor.system("t"), now=clock()
        )
        headers[name] = {"Authorization": f"Bearer {token}"}
    return headers


def error(response) -> dict:
    """The JSON API's error body, checked for its shape."""
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}, body
    return body["error"]


async def csrf(client: httpx.AsyncClient) -> str:
    """The double-submit CSRF token: what a page's form would carry."""
    if "crm_csrf" not in client.cookies:
        await client.get("/login")
    return client.cookies["crm_csrf"]


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    token = await csrf(client)
    return await client.post("/login", data={"email": email, "password": password, "_csrf_token": token})


async def post_form(client: httpx.AsyncClient, url: str, data: dict | None = None) -> httpx.Response:
    return await client.post(url, data={**(data or {}), "_csrf_token": await csrf(client)})


@pytest.fixture
async def as_user(app, users):
    """Factory: a client signed in as one of the cast."""
    clients = []

    async def sign_in(name: str) -> httpx.AsyncClient:
        c = make_client(app)
        clients.append(c)
        response = await login(c, f"{name}@example.com")
        assert response.status_code == 303, response.text
        return c

    yield sign_in
    for c in clients:
        await c.aclose()
