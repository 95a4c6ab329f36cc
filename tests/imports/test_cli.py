"""`crm import`, run for real as a subprocess against SQLite and PostgreSQL (a database of its own per test, as
in tests/test_cli.py): the report, refusals with one line and a non-zero exit, dry runs, the rejected rows, saved
mappings, and an import killed with SIGKILL then resumed."""

from __future__ import annotations

import csv
import os
import queue
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from crm import db
from crm.imports.tables import ImportJob
from crm.members.tables import Interaction, Member
from crm.settings import DatabaseURL
from tests.conftest import empty_all_tables, postgres_url_or_skip
from tests.imports.conftest import fingerprint, tweet_rows, tweets_subset, write_csv

CRM = Path(sys.executable).with_name("crm")
TIMEOUT = 180  # seconds: a hung command fails the test instead of the run


@dataclass
class Cli:
    database_url: str
    cwd: Path

    def environ(self) -> dict[str, str]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
        environ.update(CRM_DATABASE_URL=self.database_url, CRM_SECRET_KEY="import-cli-" + "z" * 40)
        return environ

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CRM), *args],
            env=self.environ(),
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )

    def ok(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = self.run(*args)
        assert result.returncode == 0, f"crm {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return result

    def bind(self) -> None:
        db.bind(db.make_engine(DatabaseURL.parse(self.database_url, base=Path("/"))))


@pytest.fixture(autouse=True)
async def _pool():
    """Not the shared test database: each test here has a database of its own (``cli``)."""
    yield


@pytest.fixture(params=["sqlite", "postgres"])
async def cli(request, tmp_path):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    if request.param == "sqlite":
        made = Cli(f"sqlite:///{tmp_path / 'db' / 'crm.sqlite'}", cwd)
        made.ok("migrate")
        made.bind()
        yield made
        return
    server = postgres_url_or_skip()
    name = f"crm_import_cli_{secrets.token_hex(6)}"
    connection = await asyncpg.connect(server)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    made = Cli(urlunsplit(urlsplit(server)._replace(path=f"/{name}")), cwd)
    try:
        made.ok("migrate")
        made.bind()
        yield made
    finally:
        connection = await asyncpg.connect(server)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


def test_it_prints_usage_for_help():
    result = subprocess.run([str(CRM), "import", "--help"], capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 0 and result.stdout.startswith("usage: crm import")
    assert "--preset {twitter-airline,crm}" in result.stdout and "--dry-run" in result.stdout


async def test_it_imports_and_prints_the_report(cli, tmp_path):
    path = tweets_subset(tmp_path / "tweets.csv", 1_200)
    rows = tweet_rows()[:1_200]

    result = cli.ok("import", "interactions", str(path), "--preset", "twitter-airline")

    out = result.stdout
    assert out.startswith("Imported interactions from tweets.csv (job 1, twitter-airline) in ")
    ids, names = len({r["tweet_id"] for r in rows}), len({r["name"] for r in rows})
    assert count(out, "rows read") == 1_200 and count(out, "interactions added") == ids
    assert count(out, "members created") == names and count(out, "rejected") == 0
    assert "crm import: batch 2: 1,200 rows (100%" in result.stderr  # progress off a terminal: a line per batch
    assert (await Interaction.count().run(), await Member.count().run()) == (ids, names)


async def test_it_refuses_a_bad_file_with_one_line_and_a_non_zero_exit(cli, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("handle,date,text\njane,2026-01-01T10:00:00Z,Caf\u00e9\n".encode("cp1252"))
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")

    for args, message in (
        ([str(path), "--platform", "x"], "crm: error: The file is not UTF-8 text (line 2 has the byte 0xE9)."),
        ([str(empty), "--rejected", str(tmp_path / "rejected.csv")], "crm: error: The file is empty."),
        ([str(tmp_path / "missing.csv")], "crm: error: no such file:"),
        ([str(path), "--preset", "twitter-airline", "--encoding", "cp1252"], "crm: error: The file has no column"),
    ):
        result = cli.run("import", "interactions", *args)
        assert result.returncode == 1, result
        assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""
    assert await ImportJob.count().run() == 0 and await Member.count().run() == 0
    assert not (tmp_path / "rejected.csv").exists()

    fixed = cli.ok("import", "interactions", str(path), "--platform", "x", "--encoding", "cp1252")
    assert count(fixed.stdout, "interactions added") == 1


async def test_a_dry_run_prints_what_would_happen_and_writes_nothing(cli, tmp_path):
    path = tweets_subset(tmp_path / "tweets.csv", 600)

    result = cli.ok("import", "interactions", str(path), "--preset", "twitter-airline", "--dry-run")

    assert result.stdout.startswith("Dry run of interactions from tweets.csv, twitter-airline: nothing was written.")
    assert count(result.stdout, "interactions added") == len({r["tweet_id"] for r in tweet_rows()[:600]})
    assert await ImportJob.count().run() == 0 and await Interaction.count().run() == 0


async def test_it_writes_the_rejected_rows_and_saves_a_guessed_mapping(cli, tmp_path):
    path = write_csv(
        tmp_path / "mentions.csv",
        ["Author", "Date", "Message", "Sentiment"],
        [["jane", "2026-01-01 10:00", "great", "pos"], ["bob", "someday", "hmm", "neutral"]],
    )
    rejected = tmp_path / "rejected.csv"

    result = cli.ok(
        "import", "interactions", str(path), "--platform", "forum", "--zone", "Europe/Paris",
        "--rejected", str(rejected), "--save-mapping", "mentions",
    )  # fmt: skip

    assert "Mapping guessed from the header: Author -> handle, Date -> occurred_at, Message -> text" in result.stdout
    assert "line 3, Date: Cannot read 'someday' as a date and time" in result.stdout
    with rejected.open(newline="") as handle:
        assert list(csv.reader(handle)) == [
            ["Author", "Date", "Message", "Sentiment", "_line", "_column", "_problem", "_reason"],
            [
                "bob",
                "someday",
                "hmm",
                "neutral",
                "3",
                "Date",
                "rejected",
                "Cannot read 'someday' as a date and time (expected ISO 8601, like 2026-03-01T14:00:00+01:00).",
            ],
        ]
    again = cli.ok("import", "interactions", str(path), "--mapping", "mentions")
    assert count(again.stdout, "interactions added") == 0 and count(again.stdout, "duplicates") == 1


def count(report: str, label: str) -> int:
    """A count in the printed report."""
    match = re.search(rf"^  {re.escape(label)} +([\d,]+)", report, re.MULTILINE)
    assert match, report
    return int(match.group(1).replace(",", ""))


def without_ids(report: str) -> str:
    """Interaction ids differ between databases (and PostgreSQL does not take back a rolled-back batch's ids)."""
    return re.sub(r"interaction \d+", "interaction N", report)


def _stderr_lines(process: subprocess.Popen) -> queue.Queue:
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in process.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


async def test_an_import_killed_with_sigkill_resumes_and_ends_like_an_uninterrupted_one(cli, tmp_path):
    path = tweets_subset(tmp_path / "tweets.csv", 3_000)
    args = ["import", "interactions", str(path), "--preset", "twitter-airline", "--batch-size", "200"]
    process = subprocess.Popen(
        [str(CRM), *args], env=cli.environ(), cwd=cli.cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        lines, deadline = _stderr_lines(process), time.monotonic() + TIMEOUT
        while True:  # kill it once its third batch is committed: it is busy with the fourth by then
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            assert line is not None, "the import ended before it could be killed"
            if line.startswith("crm import: batch 3:"):
                break
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=TIMEOUT) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()
        process.stderr.close()

    job = (await ImportJob.select().run())[0]
    assert job["status"] == "running" and job["rows_read"] % 200 == 0 and 600 <= job["rows_read"] < 3_000
    done = tweet_rows()[: job["rows_read"]]  # whole batches: exactly what those rows give
    assert await Interaction.count().run() == job["interactions_added"] == len({r["tweet_id"] for r in done})
    assert await Member.count().run() == job["members_created"] == len({r["name"] for r in done})

    resumed = cli.ok(*args)

    assert f"(job {job['id']}, twitter-airline, resumed after row {job['rows_read']:,})" in resumed.stdout
    after = await ImportJob.select().where(ImportJob.id == job["id"]).first().run()
    assert after["status"] == "done" and after["resumed"] == 1 and after["rows_read"] == 3_000
    state = await fingerprint()
    report = without_ids(resumed.stdout.split("\n", 1)[1])

    await empty_all_tables()
    whole = cli.ok(*args)

    assert without_ids(whole.stdout.split("\n", 1)[1]) == report  # the same counts and issues
    assert await fingerprint() == state


async def test_the_demo_loads_its_tweets_as_an_import_job(cli):
    result = cli.ok("demo")

    assert "Tweets to @VirginAmerica: 504 interactions added from 504 rows (import job 1;" in result.stdout
    job = await ImportJob.select().first().run()
    assert (job["status"], job["kind"], job["preset"], job["interactions_added"]) == (
        "done",
        "interactions",
        "twitter-airline",
        504,
    )
    assert job["file_name"] == "Tweets.csv (Virgin America, times shifted)" and job["actor_label"] == "demo"
