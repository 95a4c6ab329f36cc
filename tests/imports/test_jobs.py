"""The job record a page or an API shows while an import runs: counts committed with each batch, progress by
bytes read, the rate and the time left."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm.audit.service import Actor
from crm.errors import Conflict, InvalidInput, NotFound
from crm.imports import queries, service
from crm.imports.tables import ImportJob
from crm.members.tables import Interaction
from tests.imports.conftest import ACTOR, import_file, tweet_rows, tweets_subset


async def test_the_job_shows_live_progress_after_every_batch(engine, clock, tmp_path):
    path = tweets_subset(tmp_path / "tweets.csv", 1_000)
    seen = []

    def on_progress(progress) -> None:
        clock.advance(seconds=2)  # each batch takes two seconds on the injected clock
        seen.append((progress.batches, progress.rows_read, progress.bytes_read))

    report = await import_file(path, clock, preset="twitter-airline", batch_size=250, on_progress=on_progress)

    assert [s[:2] for s in seen] == [(1, 250), (2, 500), (3, 750), (4, 1_000)]
    assert [s[2] for s in seen] == sorted(s[2] for s in seen) and seen[-1][2] == path.stat().st_size
    job = await queries.get_job(report.job_id)
    shown = queries.job_read(job, clock())
    assert shown.status == "done" and shown.progress == 1.0 and shown.seconds_left is None
    assert shown.rows_read == 1_000 and shown.rows_per_second == pytest.approx(1_000 / 8)  # done after 4 batches


async def test_a_running_job_estimates_the_time_left_from_the_bytes_read(engine, clock, tmp_path):
    path = tweets_subset(tmp_path / "tweets.csv", 400)
    report = await import_file(path, clock, preset="twitter-airline")
    job = await queries.get_job(report.job_id)
    running = {
        **job,
        "status": "running",
        "finished_at": None,
        "rows_read": 100,
        "bytes_read": job["file_size"] // 4,
    }

    shown = queries.job_read(running, job["started_at"] + timedelta(seconds=10))

    assert shown.progress == pytest.approx(0.25, abs=0.01)
    assert shown.rows_per_second == pytest.approx(10.0)
    assert shown.seconds_left == pytest.approx(30.0, rel=0.05)


async def test_a_queued_job_is_checked_at_once_then_run_by_id_as_the_person_who_queued_it(
    engine, clock, tmp_path, users
):
    path = tweets_subset(tmp_path / "upload.csv", 500)
    bob = Actor(user_id=users["bob"]["id"], label="bob@example.com")

    job = await service.queue_import(
        kind="interactions", source_path=path, preset="twitter-airline", actor=bob, now=clock()
    )

    assert (job["status"], job["rows_read"], job["started_at"], job["source_path"]) == ("queued", 0, None, str(path))
    assert await Interaction.count().run() == 0
    clock.advance(minutes=1)

    report = await service.run_job(job_id=job["id"], clock=clock)

    assert report.job_id == job["id"] and report.interactions_added == len({r["tweet_id"] for r in tweet_rows()[:500]})
    done = await queries.get_job(job["id"])
    assert (done["status"], done["started_at"], done["resumed"]) == ("done", clock(), 0)
    logged_by = {r["logged_by"] for r in await Interaction.select(Interaction.logged_by).run()}
    assert logged_by == {users["bob"]["id"]}
    with pytest.raises(Conflict, match="is done"):
        await service.run_job(job_id=job["id"], clock=clock)


async def test_queueing_refuses_a_bad_file_at_once_and_records_nothing(engine, clock, tmp_path):
    path = tmp_path / "upload.csv"
    path.write_bytes(b"")

    with pytest.raises(InvalidInput, match="The file is empty."):
        await service.queue_import(
            kind="interactions", source_path=path, preset="twitter-airline", actor=ACTOR, now=clock()
        )
    assert await ImportJob.count().run() == 0


async def test_a_queued_job_that_stopped_is_picked_up_after_its_last_batch(engine, clock, tmp_path):
    path = tweets_subset(tmp_path / "upload.csv", 900)
    job = await service.queue_import(
        kind="interactions", source_path=path, preset="twitter-airline", actor=ACTOR, now=clock(), batch_size=300
    )

    def crash_in_the_second_batch(number: int) -> None:
        if number == 2:
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        await service.run_job(job_id=job["id"], clock=clock, fault=crash_in_the_second_batch)
    assert (await queries.get_job(job["id"]))["rows_read"] == 300

    report = await service.run_job(job_id=job["id"], clock=clock)

    assert report.resumed_from_row == 300 and report.rows_read == 900
    assert (await queries.get_job(job["id"]))["resumed"] == 1
    assert await Interaction.count().run() == len({r["tweet_id"] for r in tweet_rows()[:900]})


async def test_a_job_whose_file_is_gone_or_changed_fails_clearly(engine, clock, tmp_path):
    path = tweets_subset(tmp_path / "upload.csv", 100)
    job = await service.queue_import(
        kind="interactions", source_path=path, preset="twitter-airline", actor=ACTOR, now=clock()
    )
    tweets_subset(path, 101)

    with pytest.raises(InvalidInput, match="The file changed since the import was queued."):
        await service.run_job(job_id=job["id"], clock=clock)

    path.unlink()
    with pytest.raises(NotFound, match="is gone"):
        await service.run_job(job_id=job["id"], clock=clock)
    assert (await queries.get_job(job["id"]))["status"] == "failed"
    with pytest.raises(NotFound):
        await service.run_job(job_id=job["id"] + 1, clock=clock)
