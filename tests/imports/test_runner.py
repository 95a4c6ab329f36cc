"""The server's import runner: it runs queued jobs in the background, two at once without corrupting each other,
puts a running job back in the queue when the server stops, and a restarted runner resumes a job whose process
died, after its last batch, ending where an uninterrupted import ends. No sleeping: the tests wait on
``Runner.drain`` (the runner's own tasks) and move an injected clock."""

from __future__ import annotations

import asyncio
import os
import socket

from crm.audit.service import Actor
from crm.imports import queries, service, uploads
from crm.imports.jobs import STALE_SECONDS
from crm.imports.runner import INTERRUPTED, Runner
from crm.imports.tables import ImportJob
from crm.members.bulk import rebuild_all
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
from tests.imports.test_api import TWEETS_PRESET, poll_until_done

ACTOR = Actor.system("test")


class Crash(Exception):
    pass


async def queued(path, clock, *, batch_size: int = 300) -> dict:
    return await service.queue_import(
        kind="interactions",
        source_path=path,
        preset="twitter-airline",
        actor=ACTOR,
        now=clock(),
        batch_size=batch_size,
    )


async def test_a_restarted_runner_resumes_a_job_whose_process_died_and_ends_like_an_uninterrupted_import(
    engine, clock, tmp_path, settings
):
    path = tweets_subset(tmp_path / "tweets.csv", 1_500)
    job = await queued(path, clock)

    def killed_in_the_third_batch(number: int) -> None:
        if number == 3:
            raise Crash("killed")

    first = Runner(clock=clock, var_dir=settings.var_dir, fault=killed_in_the_third_batch)
    first.kick()
    await first.drain()
    # A killed process leaves its job marked running, by a runner that no longer answers.
    await (
        ImportJob.update(
            {
                ImportJob.status: "running",
                ImportJob.error: "",
                ImportJob.host: "gone-host",
                ImportJob.heartbeat_at: clock(),
            }
        )
        .where(ImportJob.id == job["id"])
        .run()
    )
    stopped = await queries.get_job(job["id"])
    assert stopped["rows_read"] == 600 and stopped["status"] == "running"

    restarted = Runner(clock=clock, var_dir=settings.var_dir)
    assert await restarted.step() == []  # another host's job, heard from just now: it may still be running
    clock.advance(seconds=STALE_SECONDS + 1)
    restarted.kick()
    await restarted.drain()

    done = await queries.get_job(job["id"])
    assert (done["status"], done["resumed"], done["rows_read"], done["error"]) == ("done", 1, 1_500, "")
    resumed_state, resumed_counts = await fingerprint(), {k: done[k] for k in ("interactions_added", "conflicts")}
    assert await Interaction.count().run() == len({r["tweet_id"] for r in tweet_rows()[:1_500]})
    imported = await rollups()
    await rebuild_all()
    assert_same_rollups(imported, await rollups())

    await empty_all_tables()
    whole = await import_file(path, clock, preset="twitter-airline", batch_size=300)
    assert await fingerprint() == resumed_state
    assert {"interactions_added": whole.interactions_added, "conflicts": whole.conflicts} == resumed_counts


async def test_a_job_running_in_a_live_process_is_left_alone(engine, clock, tmp_path, settings):
    job = await queued(tweets_subset(tmp_path / "t.csv", 10), clock)
    await (
        ImportJob.update(
            {ImportJob.status: "running", ImportJob.host: socket.gethostname(), ImportJob.pid: os.getpid()}
        )
        .where(ImportJob.id == job["id"])
        .run()
    )
    clock.advance(days=1)  # silence does not matter on the same host: the process is there

    assert await Runner(clock=clock, var_dir=settings.var_dir).step() == []


async def test_stopping_the_server_puts_the_running_job_back_in_the_queue_and_it_resumes(
    engine, clock, tmp_path, settings
):
    path = tweets_subset(tmp_path / "tweets.csv", 900)
    job = await queued(path, clock)

    stopping = []

    def server_stops_in_the_second_batch(number: int) -> None:
        if number == 2:  # the server is told to stop while the batch is being written
            stopping.append(asyncio.get_running_loop().create_task(runner.stop()))

    runner = Runner(clock=clock, var_dir=settings.var_dir, fault=server_stops_in_the_second_batch)
    runner.kick()
    await runner.drain()
    await stopping[0]

    waiting = await queries.get_job(job["id"])
    # The batch being written when the stop came is finished, then the job goes back to the queue.
    assert (waiting["status"], waiting["rows_read"], waiting["error"]) == ("queued", 600, INTERRUPTED)
    assert await Interaction.count().run() == waiting["interactions_added"]

    again = Runner(clock=clock, var_dir=settings.var_dir)
    again.kick()
    await again.drain()

    done = await queries.get_job(job["id"])
    assert (done["status"], done["rows_read"], done["resumed"]) == ("done", 900, 1)
    assert await Interaction.count().run() == len({r["tweet_id"] for r in tweet_rows()[:900]})


async def test_a_job_that_cannot_start_fails_once_and_is_not_retried(engine, clock, tmp_path, settings):
    path = tweets_subset(tmp_path / "t.csv", 10)
    job = await queued(path, clock)
    tweets_subset(path, 11)  # the file changed after it was queued

    runner = Runner(clock=clock, var_dir=settings.var_dir)
    runner.kick()
    await runner.drain()

    failed = await queries.get_job(job["id"])
    assert failed["status"] == "failed" and "changed" in failed["error"]
    assert await runner.step() == [] and await Interaction.count().run() == 0


async def test_two_uploads_at_once_through_the_api_do_not_corrupt_each_other(api, auth, app, tmp_path):
    rows = tweet_rows()[:4_000]
    a = write_csv(tmp_path / "a.csv", TWEETS_HEADER, rows[:3_000])
    b = write_csv(tmp_path / "b.csv", TWEETS_HEADER, rows[1_000:])
    runner = app.state.imports
    at_once = []
    runner.fault = lambda number: at_once.append(len(runner.running))

    first, second = [
        (
            await api.post(
                "/api/v1/imports", files={"file": (p.name, p.read_bytes())}, data=TWEETS_PRESET, headers=auth["bob"]
            )
        ).json()
        for p in (a, b)
    ]
    ja = await poll_until_done(api, first["id"], auth["bob"])
    jb = await poll_until_done(api, second["id"], auth["bob"])

    assert max(at_once) == 2  # both jobs ran at the same time
    assert ja["status"] == jb["status"] == "done"
    assert ja["interactions_added"] + jb["interactions_added"] == len({r["tweet_id"] for r in rows})
    assert ja["members_created"] + jb["members_created"] == len({r["name"] for r in rows})
    assert await Interaction.count().run() == len({r["tweet_id"] for r in rows})
    assert await Member.count().run() == len({r["name"] for r in rows})
    imported = await rollups()
    await rebuild_all()
    assert_same_rollups(imported, await rollups())


async def test_an_upload_is_stored_on_disk_a_chunk_at_a_time(tmp_path):
    class Chunks:
        def __init__(self) -> None:
            self.parts = [b"a,b\n", b"1,2\n", b""]
            self.sizes = []

        async def read(self, size: int) -> bytes:
            self.sizes.append(size)
            return self.parts.pop(0)

    upload = Chunks()
    path = await uploads.store(upload, tmp_path)

    assert path.read_bytes() == b"a,b\n1,2\n" and path.parent == tmp_path / "imports"
    assert upload.sizes == [1 << 20] * 3  # never "read it all"
    assert uploads.stored(tmp_path, uploads.token_of(path)) == path
    uploads.discard(path, tmp_path)
    assert not path.exists()
    outside = tmp_path / "keep.csv"
    outside.write_text("x")
    uploads.discard(outside, tmp_path)
    assert outside.exists()


async def test_at_start_the_runner_removes_stale_uploads_but_not_the_files_of_unfinished_jobs(engine, clock, settings):
    class Body:
        def __init__(self, data: bytes) -> None:
            self.data = [data, b""]

        async def read(self, size: int) -> bytes:
            return self.data.pop(0)

    content = tweets_subset(settings.var_dir.parent / "t.csv", 5).read_bytes()
    waiting = await uploads.store(Body(content), settings.var_dir)
    previewed = await uploads.store(Body(content), settings.var_dir)
    fresh = await uploads.store(Body(content), settings.var_dir)
    await queued(waiting, clock)
    day_ago = clock().timestamp() - uploads.STALE_UPLOAD_SECONDS - 1
    for path in (waiting, previewed):
        os.utime(path, (day_ago, day_ago))

    runner = Runner(clock=clock, var_dir=settings.var_dir, concurrency=0)
    await runner.start()

    assert waiting.exists() and fresh.exists() and not previewed.exists()
