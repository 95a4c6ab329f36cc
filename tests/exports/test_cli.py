"""`crm export`, `crm backup` and `crm restore`, run for real as subprocesses against SQLite and PostgreSQL (a
database of their own per test, as in tests/imports/test_cli.py)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from crm.audit.tables import AuditEntry
from crm.members.tables import Interaction, Member
from crm.settings import DatabaseURL
from tests.exports.test_backup import fetch, require_pg_tools, scratch_database
from tests.imports import test_cli as import_cli
from tests.imports.conftest import tweets_subset

cli = import_cli.cli  # the fixture: a migrated database of the test's own, and the command pointed at it


@pytest.fixture(autouse=True)
async def _pool():
    """Not the shared test database: each test here has a database of its own (``cli``)."""
    yield


def test_the_commands_are_listed_with_their_options():
    result = import_cli.Cli("sqlite:///unused.sqlite", Path.cwd()).run("--help")
    assert "export" in result.stdout and "backup" in result.stdout and "restore" in result.stdout
    result = import_cli.Cli("sqlite:///unused.sqlite", Path.cwd()).run("export", "--help")
    assert result.stdout.startswith("usage: crm export") and "--bom" in result.stdout


async def test_it_exports_members_and_interactions_to_files(cli, tmp_path):
    cli.ok("import", "interactions", str(tweets_subset(tmp_path / "tweets.csv", 300)), "--preset", "twitter-airline")
    members, interactions = tmp_path / "members.csv", tmp_path / "interactions.csv"

    out = cli.ok("export", "members", str(members), "--bom").stdout
    cli.ok("export", "interactions", str(interactions))

    assert out.startswith(f"Exported every member to {members} (")
    assert members.read_bytes().startswith(b"\xef\xbb\xbfid,name,")
    assert not interactions.read_bytes().startswith(b"\xef\xbb\xbf")
    member_rows = list(csv.DictReader(io.StringIO(members.read_text(encoding="utf-8-sig"))))
    interaction_rows = list(csv.DictReader(io.StringIO(interactions.read_text(encoding="utf-8"))))
    assert len(member_rows) == await Member.count().run()
    assert len(interaction_rows) == await Interaction.count().run()
    texts = {r["external_id"]: r["text"] for r in interaction_rows}
    assert texts["570306133677760513"] == "'@VirginAmerica What @dhepburn said."  # made plain text for spreadsheets
    assert not any(t.startswith("@") for t in texts.values())
    audit = await AuditEntry.select().where(AuditEntry.action.like("export.%")).order_by(AuditEntry.id).run()
    assert [(a["action"], a["actor_label"]) for a in audit] == [
        ("export.members", "cli"),
        ("export.interactions", "cli"),
    ]
    assert not list(tmp_path.glob("*.part"))


async def test_it_backs_up_and_restores_into_a_new_database_only(cli, tmp_path):
    database = DatabaseURL.parse(cli.database_url, base=Path("/"))
    if database.engine == "postgres":
        require_pg_tools()
    cli.ok("import", "interactions", str(tweets_subset(tmp_path / "tweets.csv", 300)), "--preset", "twitter-airline")
    target = tmp_path / "crm.backup"

    out = cli.ok("backup", str(target)).stdout
    assert out.startswith(f"Backed up the {database.engine} database to {target} (")

    refused = cli.run("restore", str(target))
    assert refused.returncode == 1 and "crm: error: The database is not empty" in refused.stderr
    assert "Traceback" not in refused.stderr

    async with scratch_database(database, tmp_path) as new:
        restored = import_cli.Cli(new.url, cli.cwd).ok("restore", str(target))
        assert f"Restored {target} into the {database.engine} database." in restored.stdout
        assert "already up to date" in import_cli.Cli(new.url, cli.cwd).ok("migrate").stdout
        for table in ("member", "member_handle", "interaction", "member_day", "import_job", "audit_log"):
            sql = f"SELECT count(*) FROM {table}"
            assert await fetch(new, sql) == await fetch(database, sql), table

    missing = cli.run("restore", str(tmp_path / "nope.backup"))
    assert missing.returncode == 1 and "no backup file" in missing.stderr
