"""Statements for bulk writes: placeholders per engine, array lookups, chunked multi-row inserts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from crm import db
from crm.members import erasure
from crm.preferences.queries import kept_value

MAX_PARAMS = 30_000  # per statement: under SQLite's 32,766 and asyncpg's 32,767
BULK_LOCK = 0x63726D_696D70  # pg_advisory_xact_lock key shared by bulk writers
ROLLUP_TYPES = (
    "integer",
    "integer",
    "timestamptz",
    "timestamptz",
    "double precision",
    "double precision",
    "timestamptz",
)
TOPIC_TYPES = ("integer", "text", "text")
PROFILE = (  # the member fields a row of members may set
    "name",
    "email",
    "tier",
    "location",
    "language",
    "time_zone",
    "notes",
    "consent_private_briefing",
    "do_not_contact",
)
LABELS = ("kind", "occurred_at", "sentiment", "sentiment_reason", "troll", "text")  # compared on a duplicate

# The columns the interactions writer inserts, with their PostgreSQL types.
MEMBER_COLUMNS = ("name", "email", "time_zone", "created_at", "updated_at")
MEMBER_TYPES = ("text", "text", "text", "timestamptz", "timestamptz")
INTERACTION_COLUMNS = (
    "member",
    "platform",
    "kind",
    "occurred_at",
    "sentiment",
    "sentiment_reason",
    "text",
    "url",
    "external_id",
    "external_key",
    "troll",
    "incident_id",
    "logged_by",
    "created_at",
)
INTERACTION_TYPES = (
    "integer",
    *["text"] * 2,
    "timestamptz",
    *["text"] * 6,
    "boolean",
    "integer",
    "integer",
    "timestamptz",
)


# ---- statements --------------------------------------------------------------------------------------------


def _pg() -> bool:
    return not db.is_sqlite()


def _connection():
    transaction = db.engine().current_transaction.get()
    if transaction is None:
        raise RuntimeError("bulk statements must run inside db.transaction()")
    return transaction.connection


def _sql_value(value: Any) -> Any:
    """A value as the engine's driver takes it in a JSON array (SQLite): what Piccolo's adapters store."""
    if isinstance(value, datetime):
        return str(value.astimezone(UTC))
    return value


def _any(column: str, values: Sequence[Any], pg_type: str) -> tuple[str, Any]:
    """``column`` is one of ``values``, with one bound parameter: an array on PostgreSQL, JSON on SQLite."""
    if _pg():
        return f"{column} = ANY({{}}::{pg_type}[])", list(values)
    return f"{column} IN (SELECT value FROM json_each({{}}))", json.dumps([_sql_value(v) for v in values])


def _placeholders(sql: str) -> str:
    if not _pg():
        return sql.replace("{}", "?")
    parts = sql.split("{}")
    return "".join(f"{part}${n}" if n < len(parts) else part for n, part in enumerate(parts, start=1))


async def _fetch(sql: str, *args: Any) -> list[dict]:
    """A statement with a few ``{}`` parameters on the transaction's connection."""
    connection = _connection()
    if _pg():
        return [dict(r) for r in await connection.fetch(_placeholders(sql), *args)]
    async with connection.execute(_placeholders(sql), args) as cursor:
        return list(await cursor.fetchall())


async def _rows(head: str, rows: Sequence[Sequence[Any]], types: Sequence[str], tail: str = "") -> list[dict]:
    """``head <rows> tail``, where <rows> is a row source of ``rows`` typed ``types`` (PostgreSQL type names):
    multi-row VALUES on SQLite, in as few statements as its parameter limit allows; one
    ``SELECT * FROM unnest($1::type[], ...)`` on PostgreSQL (one array per column: no limit, and asyncpg binds
    arrays far faster than thousands of scalars). Returns what RETURNING gave."""
    if not rows:
        return []
    width = len(types)
    connection = _connection()
    if _pg():
        arrays = [[row[n] for row in rows] for n in range(width)]
        source = "SELECT * FROM unnest(" + ", ".join(f"${n + 1}::{t}[]" for n, t in enumerate(types)) + ")"
        return [dict(r) for r in await connection.fetch(f"{head} {source} {tail}", *arrays)]
    out: list[dict] = []
    per_statement = max(1, MAX_PARAMS // width)
    group = "(" + ", ".join("?" * width) + ")"
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        sql = f"{head} VALUES {', '.join([group] * len(chunk))} {tail}"
        async with connection.execute(sql, [value for row in chunk for value in row]) as cursor:
            out.extend(await cursor.fetchall())
    return out


async def _insert_returning_ids(
    table: str, columns: Sequence[str], types: Sequence[str], rows: Sequence[Sequence[Any]]
) -> list[int]:
    """Insert rows, returning their new ids in the order given. Ids are assigned as the rows are inserted, in
    order, within one statement, and RETURNING's own order is not promised: sorting the ids restores the order."""
    ids: list[int] = []
    per_statement = max(1, MAX_PARAMS // len(columns))
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        returned = await _rows(f"INSERT INTO {table} ({', '.join(columns)})", chunk, types, "RETURNING id")
        assert len(returned) == len(chunk)
        ids.extend(sorted(r["id"] for r in returned))
    return ids


async def erased_among(identifiers: list[str]) -> set[str]:
    """Which of ``identifiers`` (handle keys, "email:...") belong to erased people: ``erasure.is_erased`` for many
    at once, in one query (same salt, same digests)."""
    salt = await kept_value(erasure.SALT_KEY)
    if salt is None or not identifiers:  # nobody was ever erased
        return set()
    by_digest = {erasure.digest(salt, identifier): identifier for identifier in identifiers}
    where, param = _any("digest", list(by_digest), "text")
    return {by_digest[r["digest"]] for r in await _fetch(f"SELECT digest FROM erased_identity WHERE {where}", param)}


async def take_turn() -> None:
    """Bulk writers take turns per batch (see the module's docstring). Call first in the batch's transaction."""
    if _pg():
        await _fetch("SELECT pg_advisory_xact_lock({})", BULK_LOCK)
