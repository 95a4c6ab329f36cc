"""A crash mid-import leaves whole batches only; importing the file again picks the job up after its last batch
and ends where an uninterrupted import ends. Two imports at once do not corrupt each other."""

from __future__ import annotations

import asyncio

import pytest

from crm.imports.tables import ImportIssue, ImportJob
from crm.members import bulk
from crm.members.tables import Interaction, Member
from tests.conftest import empty_all_tables
from tests.imports.conftest import (
    TWEETS_HEADER,
    assert_same_rollups,
    fingerprint,
    import_file,
    rollups,
    tweet_rows,
    tweets_subset,
    write_csv,
)


class Crash(Exception):
    pass


def crash_at(batch: int):
    def fault(number: int) -> None:
        if number == batch:
            raise Crash(f"crashed in batch {number}")

    return fault


async def test_a_crash_leaves_whole_batches_and_a_rerun_ends_like_an_uninterrupted_import(engine, clock, tmp_path):
    path = tweets_subset(tmp_path / "tweets.csv", 2_500)

    with pytest.raises(Crash):
        await import_file(path, clock, preset="twitter-airline", batch_size=300, fault=crash_at(4))

    job = (await ImportJob.select().run())[0]
    assert job["status"] == "failed" and "crashed in batch 4" in job["error"]
    assert job["rows_read"] == 900 and job["last_line"] >= 901
    # Exactly the first three batches, nothing of the fourth.
    first_900 = tweet_rows()[:900]
    assert await Interaction.count().run() == job["interactions_added"] == len({r["tweet_id"] for r in first_900})
    assert await Member.count().run() == job["members_created"] == len({r["name"] for r in first_900})
    assert await ImportIssue.count().run() == job["conflicts"]

    resumed = await import_file(path, clock, preset="twitter-airline", batch_size=300)

    assert resumed.job_id == job["id"] and resumed.resumed_from_row == 900
    after = await ImportJob.select().where(ImportJob.id == job["id"]).first().run()
    assert after["status"] == "done" and after["error"] == "" and after["resumed"] == 1
    resumed_state, resumed_issues = await fingerprint(), await ImportIssue.count().run()
    assert resumed_issues == resumed.conflicts

    await empty_all_tables()
    whole = await import_file(path, clock, preset="twitter-airline", batch_size=300)

    assert whole.counts() == resumed.counts()
    assert await fingerprint() == resumed_state
    assert await ImportIssue.count().run() == resumed_issues


async def test_a_rerun_with_another_mapping_starts_a_new_job_and_adds_only_what_is_missing(engine, clock, tmp_path):
    path = tweets_subset(tmp_path / "tweets.csv", 1_000)
    with pytest.raises(Crash):
        await import_file(path, clock, preset="twitter-airline", batch_size=200, fault=crash_at(2))
    added_before = await Interaction.count().run()

    other = await import_file(path, clock, preset="twitter-airline", batch_size=200, options={"default_zone": "+01:00"})

    assert await ImportJob.count().run() == 2 and other.resumed_from_row == 0
    assert other.interactions_added == len({r["tweet_id"] for r in tweet_rows()[:1_000]}) - added_before
    assert other.duplicates == 1_000 - other.interactions_added


async def test_the_same_file_imported_twice_at_once_runs_as_two_jobs_and_writes_nothing_twice(engine, clock, tmp_path):
    path = tweets_subset(tmp_path / "tweets.csv", 600)

    # The second run finds the first's job running in a live process: it does not take it over.
    a, b = await asyncio.gather(
        import_file(path, clock, preset="twitter-airline", batch_size=300),
        import_file(path, clock, preset="twitter-airline", batch_size=300),
    )

    assert a.job_id != b.job_id
    assert a.interactions_added + b.interactions_added == len({r["tweet_id"] for r in tweet_rows()[:600]})
    assert await Interaction.count().run() == a.interactions_added + b.interactions_added
    assert a.members_created + b.members_created == await Member.count().run()


async def test_two_imports_at_once_give_what_one_after_the_other_gives(engine, clock, tmp_path):
    rows = tweet_rows()[:3_000]
    a = write_csv(tmp_path / "a.csv", TWEETS_HEADER, rows[:2_000])
    b = write_csv(tmp_path / "b.csv", TWEETS_HEADER, rows[1_000:])

    ra, rb = await asyncio.gather(
        import_file(a, clock, preset="twitter-airline", batch_size=250),
        import_file(b, clock, preset="twitter-airline", batch_size=250),
    )

    assert ra.interactions_added + rb.interactions_added == len({r["tweet_id"] for r in rows})
    assert ra.members_created + rb.members_created == len({r["name"] for r in rows})
    assert ra.rejected == rb.rejected == 0
    together = await fingerprint()
    imported = await rollups()
    await bulk.rebuild_all()
    assert_same_rollups(imported, await rollups())

    await empty_all_tables()
    await import_file(a, clock, preset="twitter-airline", batch_size=250)
    await import_file(b, clock, preset="twitter-airline", batch_size=250)

    assert await fingerprint() == together
