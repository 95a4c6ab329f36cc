"""The whole Twitter US Airline Sentiment file through its preset: exact counts, the data where it belongs, the
repeated tweet ids (first row wins, conflicts reported), rollups equal to a rebuild, and a second import that
adds nothing."""

from __future__ import annotations

import csv
import html
import json
from datetime import UTC, datetime

from crm.audit.tables import AuditEntry
from crm.imports import queries
from crm.imports.tables import ImportIssue, ImportJob
from crm.members import bulk
from crm.members.demo import TWEETS
from crm.members.tables import Handle, Interaction, Member, MemberTopic
from tests.imports.conftest import assert_same_rollups, import_file, rollups, tweet_rows

EXPECTED = {
    "rows_read": 14_640,
    "members_created": 7_701,
    "interactions_added": 14_485,
    "duplicates": 155,
    "conflicts": 47,
    "rejected": 0,
    "erased": 0,
}


def first_and_conflicting() -> tuple[dict[str, dict], list[int]]:
    """Straight from the file: the first row of each tweet id, and the positions of the later rows whose
    sentiment or reason differ from it."""
    first: dict[str, dict] = {}
    conflicting = []
    for n, row in enumerate(tweet_rows()):
        kept = first.setdefault(row["tweet_id"], row)
        if kept is not row and (
            kept["airline_sentiment"] != row["airline_sentiment"] or kept["negativereason"] != row["negativereason"]
        ):
            conflicting.append(n)
    return first, conflicting


async def test_it_imports_the_whole_file_with_the_exact_counts(engine, tweets, clock):
    report = await import_file(tweets, clock, preset="twitter-airline")

    assert {k: v for k, v in report.counts().items() if k in EXPECTED} == EXPECTED
    assert await Member.count().run() == 7_701
    assert await Interaction.count().run() == 14_485
    assert await Handle.count().where(Handle.platform == "x").run() == 7_701
    job = await queries.get_job(report.job_id)
    assert job["status"] == "done" and job["rows_read"] == 14_640 and job["interactions_added"] == 14_485
    assert job["members_created"] == 7_701 and job["bytes_read"] == job["file_size"] == tweets.stat().st_size

    # One audit summary per batch of 1,000 rows, naming the job and the lines.
    entries = await AuditEntry.select().where(AuditEntry.action == "interaction.bulk_create").run()
    assert len(entries) == 15
    assert sum(len(e["after"]["ids"]) for e in map(_loaded, entries)) == 14_485
    assert {_loaded(e)["after"]["import_job"] for e in entries} == {report.job_id}

    # The first tweet of the file, field by field.
    row = tweet_rows()[0]
    stored = await Interaction.select().where(Interaction.external_key == f"x:{row['tweet_id']}").first().run()
    assert stored["platform"] == "x" and stored["kind"] == "mention" and stored["sentiment"] == "neutral"
    assert stored["occurred_at"] == datetime(2015, 2, 24, 19, 35, 52, tzinfo=UTC)  # 11:35:52 -0800
    assert stored["text"] == "@VirginAmerica What @dhepburn said."
    assert stored["url"] == f"https://twitter.com/cairdin/status/{row['tweet_id']}"
    member = await Member.select().where(Member.id == stored["member"]).first().run()
    assert member["name"] == "cairdin" and member["time_zone"] == "America/New_York"
    assert await MemberTopic.select(MemberTopic.topic).where(MemberTopic.member == member["id"]).run() == [
        {"topic": "virgin america"}
    ]

    # negativereason kept with the interaction; HTML entities decoded; odd zones left empty.
    reasons = {r["sentiment_reason"] for r in await Interaction.select(Interaction.sentiment_reason).run()}
    assert {"Late Flight", "Customer Service Issue", "longlines", ""} <= reasons
    amp = next(r for r in tweet_rows() if "&amp;" in r["text"])
    text = await Interaction.select(Interaction.text).where(Interaction.external_id == amp["tweet_id"]).first().run()
    assert text["text"] == html.unescape(amp["text"]).strip() and "&amp;" not in text["text"]
    zones = {r["time_zone"] for r in await Member.select(Member.time_zone).run()}
    assert {"America/New_York", "America/Chicago", "America/Los_Angeles", "America/Guayaquil", ""} <= zones
    assert all("(" not in z for z in zones)  # every friendly name was placed or left empty


def _loaded(entry: dict) -> dict:
    return {**entry, "after": json.loads(entry["after"]) if isinstance(entry["after"], str) else entry["after"]}


async def test_it_keeps_the_first_row_of_a_repeated_tweet_and_reports_the_conflicting_ones(engine, tweets, clock):
    report = await import_file(tweets, clock, preset="twitter-airline")

    first, conflicting = first_and_conflicting()
    assert report.conflicts == len(conflicting) == 47 and report.duplicates == 155
    # Every stored tweet has its first row's labels.
    stored = {
        r["external_id"]: (r["sentiment"], r["sentiment_reason"])
        for r in await Interaction.select(Interaction.external_id, Interaction.sentiment, Interaction.sentiment_reason)
        .where(Interaction.external_id.is_in(list({tweet_rows()[n]["tweet_id"] for n in conflicting})))
        .run()
    }
    assert len(stored) == len({tweet_rows()[n]["tweet_id"] for n in conflicting})
    for tweet_id, labels in stored.items():
        assert labels == (first[tweet_id]["airline_sentiment"], first[tweet_id]["negativereason"])
    # The job lists each conflicting row with its line, the id column and what differs.
    issues = await ImportIssue.select().where(ImportIssue.problem == "conflict").order_by(ImportIssue.line).run()
    assert len(issues) == 47
    assert {i["column_name"] for i in issues} == {"tweet_id"}
    assert all(
        "wins" in i["reason"] and ("airline_sentiment" in i["reason"] or "negativereason" in i["reason"])
        for i in issues
    )
    # The line is where the row starts in the file: check it against the file itself.
    lines = _lines_of_rows()[1:]
    assert [i["line"] for i in issues] == [lines[n] for n in conflicting]


def _lines_of_rows() -> list[int]:
    """The line each record of Tweets.csv starts on (header first), counted independently of the importer."""
    starts = []
    with TWEETS.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        previous = 0
        for _ in reader:
            starts.append(previous + 1)
            previous = reader.line_num
    return starts


async def test_it_gives_the_same_rollups_as_a_rebuild_from_the_log(engine, tweets, clock):
    await import_file(tweets, clock, preset="twitter-airline")
    imported = await rollups()
    assert sum(r["interactions_total"] for r in imported.values()) == 14_485

    await bulk.rebuild_all()

    rebuilt = await rollups()
    assert_same_rollups(imported, rebuilt)


async def test_a_second_import_of_the_same_file_adds_nothing(engine, tweets, clock):
    first = await import_file(tweets, clock, preset="twitter-airline")
    before = (await Member.count().run(), await Interaction.count().run(), await rollups())
    audit_before = await AuditEntry.count().run()
    clock.advance(days=3)

    second = await import_file(tweets, clock, preset="twitter-airline")

    assert second.job_id != first.job_id
    assert (second.members_created, second.members_updated, second.interactions_added) == (0, 0, 0)
    assert second.duplicates == 14_640 and second.conflicts == 47 and second.rejected == 0
    assert (await Member.count().run(), await Interaction.count().run(), await rollups()) == before
    assert await AuditEntry.count().run() == audit_before  # nothing changed, so nothing to audit
    assert await ImportJob.count().run() == 2


async def test_a_dry_run_of_the_whole_file_reports_the_same_counts_and_writes_nothing(engine, tweets, clock):
    report = await import_file(tweets, clock, preset="twitter-airline", dry_run=True)

    assert report.dry_run and report.job_id is None
    assert {k: v for k, v in report.counts().items() if k in EXPECTED} == EXPECTED
    assert report.members_updated == 217  # what the real import reports (members meeting a second airline later)
    for table in (Member, Interaction, Handle, MemberTopic, ImportJob, ImportIssue, AuditEntry):
        assert await table.count().run() == 0, table

    real = await import_file(tweets, clock, preset="twitter-airline")
    assert real.counts() == report.counts()
