"""Engine construction and transactions for SQLite and PostgreSQL.

Piccolo's SQLite engine opens a connection per query and sets no PRAGMAs, so a
connection factory applies them to every connection it opens.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from typing import TYPE_CHECKING

from piccolo.apps.migrations.tables import Migration
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

if TYPE_CHECKING:
    from crm.settings import DatabaseURL

BUSY_TIMEOUT_MS = 10_000

_engine: Engine | None = None


class TunedConnection(sqlite3.Connection):
    """A sqlite3 connection with the PRAGMAs every connection needs."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.execute("PRAGMA foreign_keys = ON")
        self.execute("PRAGMA synchronous = NORMAL")
        self.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


class TunedSQLiteEngine(SQLiteEngine):
    """Piccolo re-sends "PRAGMA foreign_keys = 1" before every statement in a transaction,
    a second round trip to aiosqlite's thread each time; TunedConnection already set it."""

    async def _run_in_existing_connection(
        self, connection, query: str, args=None, query_type: str = "generic", table=None
    ):
        async with connection.execute(query, args or []) as cursor:
            return await cursor.fetchall()


def make_engine(database: DatabaseURL) -> Engine:
    if database.engine == "sqlite":
        assert database.sqlite_path is not None
        database.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        return TunedSQLiteEngine(
            path=str(database.sqlite_path),
            factory=TunedConnection,
            timeout=BUSY_TIMEOUT_MS / 1000,
        )
    return PostgresEngine(config={"dsn": database.url})


def table_classes() -> list:
    """Every table of the app, found the way Piccolo finds them: through piccolo_conf's APP_REGISTRY (which names
    crm.piccolo_app), so this engine module does not import the domains that sit above it."""
    return [*_piccolo_conf().APP_REGISTRY.get_app_config("crm").table_classes, Migration]


def bind(engine: Engine) -> None:
    """Point every table (and Piccolo's migration table) at ``engine``."""
    global _engine
    _engine = engine
    for table in table_classes():
        table._meta.db = engine
    _piccolo_conf().DB = engine


def engine() -> Engine:
    if _engine is None:
        bind(_piccolo_conf().DB)
    assert _engine is not None
    return _engine


def _piccolo_conf():
    """Piccolo's migration machinery finds the engine in piccolo_conf.DB, so it must be importable from wherever
    `crm` runs, and follow bind(). piccolo_conf imports this module for make_engine, and this module imports
    piccolo_conf here, when first called: the one tie Piccolo's configuration-by-module needs."""
    from crm import ROOT

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import piccolo_conf

    return piccolo_conf


def is_sqlite() -> bool:
    return isinstance(engine(), SQLiteEngine)


def transaction():
    """A write transaction. On SQLite it takes the write lock up front
    (BEGIN IMMEDIATE) so concurrent writers queue on busy_timeout instead of
    failing with "database is locked" when upgrading a read lock."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        return db.transaction(transaction_type=TransactionType.immediate)
    return db.transaction()


def icontains(column, text: str):
    """Case-insensitive partial match on both engines: SQLite's LIKE already ignores (ASCII) case and has
    no ILIKE; PostgreSQL needs ILIKE."""
    pattern = f"%{text}%"
    return column.like(pattern) if is_sqlite() else column.ilike(pattern)


def in_transaction() -> bool:
    return engine().current_transaction.get() is not None


async def prepare(db: Engine) -> None:
    """Once per process: WAL is a property of the database file."""
    if isinstance(db, SQLiteEngine):
        await db.run_ddl("PRAGMA journal_mode = WAL")


async def start(db: Engine, *, pool: bool = True) -> None:
    await prepare(db)
    if pool and isinstance(db, PostgresEngine):
        await db.start_connection_pool(min_size=1, max_size=10)


async def stop(db: Engine) -> None:
    if isinstance(db, PostgresEngine) and db.pool is not None:
        await db.close_connection_pool()


async def ping(timeout: float = 3.0) -> bool:
    try:
        await asyncio.wait_for(engine().run_ddl("SELECT 1"), timeout)
    except Exception:  # any failure to reach the database means "down"
        return False
    return True


def is_unique_violation(exc: BaseException) -> bool:
    """True when a write failed on a UNIQUE constraint (both engines)."""
    import asyncpg

    if isinstance(exc, asyncpg.UniqueViolationError):
        return True
    return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)
