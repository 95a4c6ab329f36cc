"""The job record a page or an API shows while an import runs: counts committed with each batch, progress by
bytes read, the rate and the time left."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm.imports import queries
from tests.imports.conftest import import_file, tweets_subset


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
