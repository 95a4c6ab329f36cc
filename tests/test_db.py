"""Engine behaviour on SQLite and PostgreSQL: PRAGMAs, concurrency, UTC, migrations, pool."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from piccolo.apps.migrations.commands.new import AutoMigrationManager
from piccolo.engine.postgres import PostgresEngine

from crm import db
from crm.accounts.tables import LoginFailure
from crm.audit.service import Actor, log_change
from crm.audit.tables import AuditEntry
from crm.piccolo_app import APP_CONFIG
from tests.conftest import make_client


async def test_it_tunes_every_sqlite_connection(engine):
    if not db.is_sqlite():
        pytest.skip("SQLite PRAGMAs")
    connection = await engine.get_connection()
    try:

        async def pragma(name):
            async with connection.execute(f"PRAGMA {name}") as cursor:
                return list((await cursor.fetchone()).values())[0]

        assert await pragma("journal_mode") == "wal"
        assert await pragma("foreign_keys") == 1
        assert await pragma("synchronous") == 1  # NORMAL
        assert await pragma("busy_timeout") == db.BUSY_TIMEOUT_MS
    finally:
        await connection.close()


async def test_it_enforces_foreign_keys(engine):
    from crm.accounts.tables import AuthSession

    with pytest.raises(Exception) as caught:
        await AuthSession.insert(AuthSession(token_hash="x" * 64, user=999_999, expires_at=datetime.now(UTC))).run()
    assert "foreign key" in str(caught.value).lower()


async def test_it_begins_sqlite_write_transactions_immediately(engine):
    if not db.is_sqlite():
        pytest.skip("SQLite transaction type")
    async with db.transaction() as transaction:
        assert transaction.transaction_type.value == "IMMEDIATE"


async def test_it_survives_32_concurrent_writers_without_locking_errors(engine):
    """Each writer reads then writes in one transaction: the pattern that fails with
    "database is locked" on SQLite unless write transactions begin immediately."""
    now = datetime(2026, 1, 1, tzinfo=UTC)

    async def writer(n: int) -> None:
        async with db.transaction():
            count = await LoginFailure.count().run()
            await LoginFailure.insert(LoginFailure(key=f"writer:{n}:{count}", at=now)).run()
            await log_change(actor=Actor.system(f"writer {n}"), action="test.write", entity="test", at=now)

    results = await asyncio.gather(*(writer(n) for n in range(32)), return_exceptions=True)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert await LoginFailure.count().run() == 32
    assert await AuditEntry.count().where(AuditEntry.action == "test.write").run() == 32


async def test_it_stores_and_returns_timestamps_in_utc(engine):
    paris = timezone(timedelta(hours=2))
    at = datetime(2026, 6, 1, 14, 0, tzinfo=paris)
    await LoginFailure.insert(LoginFailure(key="tz", at=at)).run()
    row = await LoginFailure.select().where(LoginFailure.key == "tz").first().run()
    assert row["at"].tzinfo is not None
    assert row["at"].utcoffset() == timedelta(0)
    assert row["at"] == at  # the same instant, now expressed in UTC
    assert row["at"].hour == 12


async def test_it_rolls_back_the_change_and_its_audit_entry_together(engine):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(RuntimeError, match="boom"):
        async with db.transaction():
            await LoginFailure.insert(LoginFailure(key="half", at=now)).run()
            await log_change(actor=Actor.system(), action="test.half", entity="test", at=now)
            raise RuntimeError("boom")
    assert await LoginFailure.count().where(LoginFailure.key == "half").run() == 0
    assert await AuditEntry.count().where(AuditEntry.action == "test.half").run() == 0


async def test_it_refuses_an_audit_entry_outside_a_transaction(engine):
    with pytest.raises(RuntimeError, match="inside db.transaction"):
        await log_change(actor=Actor.system(), action="test.loose", entity="test", at=datetime.now(UTC))
    assert await AuditEntry.count().run() == 0


async def test_it_has_a_migration_for_every_table_change(engine):
    """No model change without a migration: Piccolo's auto-migration sees nothing to do."""
    statements = await AutoMigrationManager(auto_input="y").get_alter_statements(app_config=APP_CONFIG)
    pending = [s for alter in statements for s in alter.statements]
    assert pending == [], f"tables.py changed without a migration: {pending}"


async def test_it_starts_the_postgres_pool_at_startup_and_closes_it_at_shutdown(database, settings):
    if database.engine != "postgres":
        pytest.skip("connection pool is PostgreSQL only")
    from litestar.testing import AsyncTestClient

    from crm.app import create_app

    engine = db.make_engine(database)
    assert isinstance(engine, PostgresEngine)
    app = create_app(settings, engine=engine)
    assert engine.pool is None
    async with AsyncTestClient(app) as client:
        assert engine.pool is not None
        response = await client.get("/healthz")
        assert response.status_code == 200
    assert engine.pool is None or engine.pool._closed
    db.bind(db.make_engine(database))


async def test_healthz_reports_the_database(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_healthz_is_503_when_the_database_is_unreachable(settings, clock):
    from crm.app import create_app
    from crm.settings import DatabaseURL

    unreachable = DatabaseURL.parse("postgresql://nobody@127.0.0.1:1/none", base=settings.var_dir)
    app = create_app(settings, engine=db.make_engine(unreachable), clock=clock, manage_pool=False)
    try:
        async with make_client(app) as client:
            response = await client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["database"] == "unreachable"
    finally:
        db.bind(db.make_engine(settings.database))
