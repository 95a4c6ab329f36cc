"""Backup and restore (crm/exports/backup.py) on both engines: a backup taken while writes go on restores, into a
new empty database, to one that passes the integrity checks and holds every write acknowledged before the backup
began; a restore into a database that holds data is refused and changes nothing; a file that is not a backup, and
PostgreSQL without pg_dump, are refused with a message that says what to do."""

from __future__ import annotations

import asyncio
import os
import secrets
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from crm.audit.service import Actor
from crm.errors import Conflict
from crm.exports import backup
from crm.members import interactions
from crm.members.tables import Interaction, Member
from crm.settings import DatabaseURL
from tests.imports.conftest import generated_interactions, import_file

ACTOR = Actor.system("test")
# A member whose rollup disagrees with their interactions: what a copy torn between two transactions would show.
TORN = (
    "SELECT count(*) FROM member m WHERE m.interactions_total <> "
    "(SELECT count(*) FROM interaction i WHERE i.member = m.id)"
)


def require_pg_tools() -> None:
    """pg_dump and pg_restore, or a failure when PostgreSQL is required (CI), a skip otherwise: never a pass."""
    try:
        backup.find_tool("pg_dump"), backup.find_tool("pg_restore")
    except backup.BackupFailed as exc:
        if os.environ.get("CRM_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"CRM_REQUIRE_POSTGRES=1 but {exc.message}")
        pytest.skip(exc.message)


@asynccontextmanager
async def scratch_database(database: DatabaseURL, tmp_path: Path) -> AsyncIterator[DatabaseURL]:
    """A new, empty database on the same engine (on PostgreSQL, created for the test and dropped after)."""
    if database.engine == "sqlite":
        yield DatabaseURL.parse(f"sqlite:///{tmp_path / 'restored' / 'crm.sqlite'}", base=Path("/"))
        return
    name = f"crm_restore_{secrets.token_hex(6)}"
    server = await asyncpg.connect(database.url)
    try:
        await server.execute(f'CREATE DATABASE "{name}"')
        yield DatabaseURL.parse(urlunsplit(urlsplit(database.url)._replace(path=f"/{name}")), base=Path("/"))
    finally:
        await server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await server.close()


async def fetch(database: DatabaseURL, sql: str) -> list[tuple]:
    if database.engine == "sqlite":
        connection = sqlite3.connect(database.sqlite_path)
        try:
            return [tuple(row) for row in connection.execute(sql)]
        finally:
            connection.close()
    connection = await asyncpg.connect(database.url)
    try:
        return [tuple(row) for row in await connection.fetch(sql)]
    finally:
        await connection.close()


async def test_a_backup_taken_during_writes_restores_every_acknowledged_write(engine, database, clock, tmp_path):
    if database.engine == "postgres":
        require_pg_tools()
    await import_file(generated_interactions(tmp_path / "seed.csv", 3_000, people=300), clock, batch_size=1_000)
    members = [m["id"] for m in await Member.select(Member.id).order_by(Member.id).limit(20).run()]
    acknowledged: list[str] = []
    stop = asyncio.Event()

    async def writer() -> None:
        n = 0
        while not stop.is_set():
            await interactions.log_interaction(
                values={
                    "member_id": members[n % len(members)],
                    "platform": "x",
                    "kind": "comment",
                    "occurred_at": clock(),
                    "external_id": f"w{n}",
                },
                actor=ACTOR,
                now=clock(),
            )
            acknowledged.append(f"w{n}")  # committed: log_interaction has returned
            n += 1

    task = asyncio.create_task(writer())
    while len(acknowledged) < 5:  # the writer is under way
        await asyncio.sleep(0)
    before = list(acknowledged)
    target = tmp_path / "crm.backup"
    await asyncio.to_thread(backup.backup, database, target)  # the writer keeps writing meanwhile
    during = len(acknowledged) - len(before)
    stop.set()
    await task
    assert during > 0, "no write landed while the backup ran: the test did not test concurrency"

    async with scratch_database(database, tmp_path) as restored:
        await backup.restore(restored, target)

        if restored.engine == "sqlite":
            assert backup.integrity_problems(restored.sqlite_path) == []
        assert await fetch(restored, TORN) == [(0,)]
        written = {row[0] for row in await fetch(restored, "SELECT external_id FROM interaction")}
        assert set(before) <= written  # every write acknowledged before the backup began
        assert written & {f"w{n}" for n in range(len(acknowledged))} <= set(acknowledged)
        assert len(written) >= 3_000 + len(before)
        # The restored database is a working CRM database: its migrations recorded, its tables there.
        assert await fetch(restored, "SELECT count(*) FROM migration") == await fetch(
            database, "SELECT count(*) FROM migration"
        )


async def test_a_restore_into_a_database_that_holds_data_is_refused_and_changes_nothing(
    engine, database, clock, tmp_path
):
    if database.engine == "postgres":
        require_pg_tools()
    await import_file(generated_interactions(tmp_path / "seed.csv", 50, people=10), clock)
    target = tmp_path / "crm.backup"
    backup.backup(database, target)
    before = await Interaction.count().run()

    with pytest.raises(Conflict) as refused:
        await backup.restore(database, target)

    assert "not empty" in refused.value.message and "interaction" in refused.value.message
    assert "new database" in refused.value.message
    assert await Interaction.count().run() == before


async def test_a_migrated_database_with_nothing_in_it_counts_as_empty(engine, database, tmp_path):
    assert await backup.tables_with_rows(database) == []  # the test database: migrated, every table emptied
    await Member.insert(Member(name="Ann")).run()
    assert await backup.tables_with_rows(database) == ["member"]


async def test_a_file_that_is_not_a_backup_is_refused_with_a_message(engine, database, tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup\n")

    with pytest.raises(backup.BackupFailed) as refused:
        await backup.restore(database, junk)
    assert "is not" in refused.value.message and "crm backup" in refused.value.message
    with pytest.raises(backup.BackupFailed, match="no backup file"):
        await backup.restore(database, tmp_path / "missing.backup")


def test_without_pg_dump_the_backup_says_what_to_install(tmp_path):
    database = DatabaseURL.parse("postgresql://crm:secret@127.0.0.1:1/crm", base=Path("/"))

    with pytest.raises(backup.BackupFailed) as refused:
        backup.backup(database, tmp_path / "crm.backup", tool_dirs=[str(tmp_path)])

    assert refused.value.message.startswith("pg_dump was not found")
    assert "apt install postgresql-client" in refused.value.message
    assert not list(tmp_path.iterdir())  # nothing written, not even a part file
    with pytest.raises(backup.BackupFailed, match="pg_restore was not found"):
        backup.find_tool("pg_restore", [str(tmp_path)])


def test_the_password_goes_to_the_environment_not_the_command_line():
    url, environ = backup._libpq("postgres://crm:s%3Dcret@db.example:5433/crm?sslmode=require")
    assert url == "postgresql://crm@db.example:5433/crm?sslmode=require"
    assert environ["PGPASSWORD"] == "s=cret"


async def test_a_restore_into_a_postgresql_database_that_does_not_exist_says_so(tmp_path):
    server = urlsplit(os.environ.get("CRM_TEST_POSTGRES_URL") or "postgresql://crm@127.0.0.1:1/crm")
    missing = DatabaseURL.parse(urlunsplit(server._replace(path="/crm_no_such_database")), base=Path("/"))
    dump = tmp_path / "crm.backup"
    dump.write_bytes(backup.PGDUMP_HEADER + b"\0" * 16)

    with pytest.raises(backup.BackupFailed, match="Cannot connect to the database to restore into"):
        await backup.restore(missing, dump)
