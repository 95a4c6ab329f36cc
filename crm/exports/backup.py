"""Backup and restore of the whole database, for `crm backup FILE` and `crm restore FILE`.

A backup is a consistent copy taken while the app runs: on SQLite ``VACUUM INTO`` (one read transaction in WAL
mode, so writers carry on, and a compact file), on PostgreSQL ``pg_dump --format=custom`` (one snapshot). A
restore goes only into an empty database (no CRM table holds a row; a migrated but unused one is empty), so it can
never mix two histories or overwrite data: SQLite through the online backup API, PostgreSQL through
``pg_restore`` in a single transaction. Both write to a ``.part`` file first or run in one transaction, so a failure
leaves nothing half done.

These talk to the database files and tools directly (sqlite3, asyncpg, the PostgreSQL client programs), not
through Piccolo: they copy the database, whatever its tables hold."""

from __future__ import annotations

import glob
import os
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg

from crm import db
from crm.errors import Conflict, DomainError
from crm.settings import DatabaseURL

SQLITE_HEADER = b"SQLite format 3\x00"
PGDUMP_HEADER = b"PGDMP"
BUSY_SECONDS = 30  # how long the copy waits for a writer's lock; VACUUM INTO itself never blocks writers in WAL


class BackupFailed(DomainError):
    code = "backup_failed"


# ---- finding the PostgreSQL tools --------------------------------------------------------------------------


def default_tool_dirs() -> list[str]:
    """PATH first (the administrator's choice), then Debian's versioned directories, newest first (pg_dump must
    be at least as new as the server)."""
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True)
    return [*os.environ.get("PATH", "").split(os.pathsep), *versions]


def _version(directory: str) -> tuple[int, ...]:
    number = Path(directory).parent.name
    return tuple(int(p) for p in number.split(".") if p.isdigit())


def find_tool(name: str, tool_dirs: list[str] | None = None) -> Path:
    """The program ``name`` (pg_dump, pg_restore), or BackupFailed saying what to install."""
    for directory in default_tool_dirs() if tool_dirs is None else tool_dirs:
        candidate = Path(directory) / name
        if directory and candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise BackupFailed(
        f"{name} was not found (looked in PATH and /usr/lib/postgresql/*/bin). Install the PostgreSQL client "
        f"programs of your server's version or newer (Debian/Ubuntu: apt install postgresql-client) and try again."
    )


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password, and the environment that carries it (never on the command line, where
    other users of the machine could read it)."""
    parts = urlsplit(url)
    environ = dict(os.environ)
    if parts.password is not None:
        environ["PGPASSWORD"] = unquote(parts.password)
        host = parts.hostname or ""
        netloc = (parts.username or "") + "@" + (f"[{host}]" if ":" in host else host)
        netloc += f":{parts.port}" if parts.port else ""
        url = urlunsplit(parts._replace(netloc=netloc))
    return url.replace("postgres://", "postgresql://", 1), environ


def _run(command: list[str], environ: dict[str, str], what: str) -> None:
    result = subprocess.run(command, env=environ, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BackupFailed(f"{what} failed: " + (detail[-1] if detail else f"exit status {result.returncode}"))


# ---- backup ------------------------------------------------------------------------------------------------


def backup(database: DatabaseURL, target: Path, *, tool_dirs: list[str] | None = None) -> None:
    """Write a consistent copy of the database to ``target`` (replaced if it exists)."""
    part = target.with_name(target.name + ".part")
    part.unlink(missing_ok=True)
    try:
        if database.engine == "sqlite":
            _backup_sqlite(_sqlite_path(database), part)
        else:
            url, environ = _libpq(database.url)
            pg_dump = find_tool("pg_dump", tool_dirs)
            _run([str(pg_dump), "--format=custom", f"--file={part}", f"--dbname={url}"], environ, "pg_dump")
        part.replace(target)
    finally:
        part.unlink(missing_ok=True)


def _sqlite_path(database: DatabaseURL) -> Path:
    assert database.sqlite_path is not None
    return database.sqlite_path


def _backup_sqlite(source: Path, part: Path) -> None:
    if not source.is_file():
        raise BackupFailed(f"There is no database at {source}.")
    connection = sqlite3.connect(source, timeout=BUSY_SECONDS)
    try:
        connection.execute("VACUUM INTO ?", (str(part),))
    finally:
        connection.close()
    problems = integrity_problems(part)
    if problems:
        raise BackupFailed(f"The copy failed its integrity check: {problems[0]}")


def _read_only(path: Path) -> str:
    return path.resolve().as_uri() + "?mode=ro"


def integrity_problems(path: Path) -> list[str]:
    """What SQLite's integrity and foreign-key checks find wrong with the database file (empty when sound)."""
    connection = sqlite3.connect(_read_only(path), uri=True)
    try:
        found = [row[0] for row in connection.execute("PRAGMA integrity_check") if row[0] != "ok"]
        found += [
            f"{row[0]} row {row[1]} points to a missing {row[2]}"
            for row in connection.execute("PRAGMA foreign_key_check")
        ]
        return found
    finally:
        connection.close()


# ---- restore -----------------------------------------------------------------------------------------------


async def restore(database: DatabaseURL, source: Path, *, tool_dirs: list[str] | None = None) -> None:
    """Restore the backup ``source`` into the database, which must be empty (Conflict otherwise)."""
    if not source.is_file():
        raise BackupFailed(f"There is no backup file at {source}.")
    with source.open("rb") as handle:
        start = handle.read(len(SQLITE_HEADER))
    expected = SQLITE_HEADER if database.engine == "sqlite" else PGDUMP_HEADER
    if not start.startswith(expected):
        kind = "an SQLite database (crm backup on SQLite)" if database.engine == "sqlite" else "a pg_dump custom file"
        raise BackupFailed(f"{source} is not {kind}: restore a file crm backup wrote for this database engine.")
    full = await tables_with_rows(database)
    if full:
        raise Conflict(
            f"The database is not empty ({', '.join(full[:5])}{' ...' if len(full) > 5 else ''} hold rows): a backup "
            "is restored only into an empty database. Point CRM_DATABASE_URL at a new database and run crm restore "
            "again."
        )
    if database.engine == "sqlite":
        _restore_sqlite(source, _sqlite_path(database))
    else:
        url, environ = _libpq(database.url)
        pg_restore = find_tool("pg_restore", tool_dirs)
        command = [str(pg_restore), "--clean", "--if-exists", "--no-owner", "--no-privileges"]
        _run(
            [*command, "--single-transaction", "--exit-on-error", f"--dbname={url}", str(source)], environ, "pg_restore"
        )


def _restore_sqlite(source: Path, target: Path) -> None:
    problems = integrity_problems(source)
    if problems:
        raise BackupFailed(f"{source} fails SQLite's integrity check ({problems[0]}): it cannot be restored.")
    target.parent.mkdir(parents=True, exist_ok=True)
    reader = sqlite3.connect(_read_only(source), uri=True)
    writer = sqlite3.connect(target, timeout=BUSY_SECONDS)
    try:
        reader.backup(writer)  # replaces every page of the target, in one step
        writer.execute("PRAGMA journal_mode=WAL")  # the app's mode (crm.db); VACUUM INTO's copy is not in WAL
    finally:
        writer.close()
        reader.close()


async def tables_with_rows(database: DatabaseURL) -> list[str]:
    """The CRM tables of the database that hold at least one row (Piccolo's migration table aside: a migrated
    database with nothing in it is empty). A database that does not exist yet is empty too."""
    names = sorted(t._meta.tablename for t in db.table_classes() if t._meta.tablename != "migration")
    if database.engine == "sqlite":
        path = _sqlite_path(database)
        if not path.exists():
            return []
        connection = sqlite3.connect(_read_only(path), uri=True, timeout=BUSY_SECONDS)
        try:
            existing = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            return [n for n in names if n in existing and connection.execute(f'SELECT 1 FROM "{n}" LIMIT 1').fetchone()]
        finally:
            connection.close()
    try:
        connection = await asyncpg.connect(database.url)
    except (OSError, asyncpg.PostgresError) as exc:  # no server, no such database, wrong password
        raise BackupFailed(f"Cannot connect to the database to restore into: {exc}") from None
    try:
        existing = {
            row["tablename"]
            for row in await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        }
        return [n for n in names if n in existing and await connection.fetchval(f'SELECT 1 FROM "{n}" LIMIT 1')]
    finally:
        await connection.close()
