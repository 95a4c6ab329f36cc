"""Engine construction and transactions for SQLite and PostgreSQL.

Piccolo's SQLite engine opens a new connection (and a thread) for every statement outside a transaction and for
every transaction, about 1.5 ms each, and sets no PRAGMAs. The tuned engine keeps a few idle connections to reuse,
each opened through a factory that applies the PRAGMAs once.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import aiosqlite
from piccolo.apps.migrations.tables import Migration
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory

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


class PooledTransaction(SQLiteTransaction):
    """Piccolo's SQLite transaction on a connection borrowed from the engine's idle list and handed back after
    COMMIT or ROLLBACK, instead of a connection opened and closed for each transaction."""

    async def get_connection(self):
        return await self.engine.acquire()

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()
        try:
            await self.begin()
        except BaseException:
            await self.engine.release(self.connection, reuse=False)
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        if self._parent:
            return exception is None
        ended = False
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
            ended = True
        finally:
            # A connection whose COMMIT or ROLLBACK failed may still hold the transaction: never reuse it.
            await self.engine.release(self.connection, reuse=ended and not self.connection.in_transaction)
            self.engine.current_transaction.reset(self.context)
        return exception is None


class TunedSQLiteEngine(SQLiteEngine):
    """Reuses up to ``IDLE_CONNECTIONS`` connections (WAL lets readers and the one writer share the file), and
    does not re-send "PRAGMA foreign_keys = 1" before every statement: TunedConnection set it once."""

    IDLE_CONNECTIONS = 4

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._idle: list[aiosqlite.Connection] = []

    async def acquire(self) -> aiosqlite.Connection:
        while self._idle:
            connection = self._idle.pop()
            if connection._connection is not None:  # closed connections are dropped
                return connection
        connection = aiosqlite.connect(**self.connection_kwargs)
        # Idle connections must not keep a finished process alive (aiosqlite's worker thread is not a daemon).
        worker = getattr(connection, "_thread", None)
        if worker is not None:
            worker.daemon = True
        await connection
        connection.row_factory = dict_factory
        return connection

    async def release(self, connection: aiosqlite.Connection, *, reuse: bool = True) -> None:
        if reuse and len(self._idle) < self.IDLE_CONNECTIONS:
            self._idle.append(connection)
        else:
            await connection.close()

    async def close_idle(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()

    def transaction(
        self, transaction_type: TransactionType = TransactionType.deferred, allow_nested: bool = True
    ) -> SQLiteTransaction:
        return PooledTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)

    async def _run_in_new_connection(self, query: str, args=None, query_type: str = "generic", table=None):
        connection = await self.acquire()
        done = False
        try:
            async with connection.execute(query, args or []) as cursor:
                rows = await cursor.fetchall()
            await connection.commit()
            done = True
            return rows
        finally:
            await self.release(connection, reuse=done)

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
    # JIT off: the server compiles any statement its planner costs high, and whom to brief's (many cheap
    # per-candidate subqueries) spent 3.5 s of 3.9 s compiling; OLTP reads like ours never win it back.
    return PostgresEngine(config={"dsn": database.url, "server_settings": {"jit": "off"}})


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
    if isinstance(db, TunedSQLiteEngine):
        await db.close_idle()


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


class QueryLog:
    """The statements an engine ran while ``counting_queries`` was active: (sql, args) as the driver got them."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, list[Any]]] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@contextlib.contextmanager
def counting_queries(db: Engine | None = None) -> Iterator[QueryLog]:
    """Record every statement the engine runs through Piccolo (queries, raw SQL, DDL) until the block ends: for
    the query-count tests and the benchmark's floors. BEGIN/COMMIT are not statements of the request's own, and
    the bulk writers' multi-row statements (imports) bypass Piccolo, so neither is counted."""
    db = db or engine()
    log = QueryLog()
    cls = type(db)  # the engines have __slots__: the methods are wrapped on the class, for this engine only
    run_querystring, run_ddl = cls.run_querystring, cls.run_ddl

    async def counted_querystring(self, querystring, *args: Any, **kwargs: Any):
        if self is db:
            log.statements.append(querystring.compile_string(engine_type=self.engine_type))
        return await run_querystring(self, querystring, *args, **kwargs)

    async def counted_ddl(self, ddl: str, *args: Any, **kwargs: Any):
        if self is db:
            log.statements.append((ddl, []))
        return await run_ddl(self, ddl, *args, **kwargs)

    cls.run_querystring, cls.run_ddl = counted_querystring, counted_ddl  # type: ignore[method-assign]
    try:
        yield log
    finally:
        cls.run_querystring, cls.run_ddl = run_querystring, run_ddl  # type: ignore[method-assign]
