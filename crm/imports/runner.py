"""The server's import runner: jobs queued by the upload page and the API run in the server process, in the
background, while requests go on being answered (each batch awaits the database, so other requests run between
batches). A job does not depend on the request that queued it: closing the browser changes nothing.

    runner = Runner(clock=clock, var_dir=settings.var_dir)
    await runner.start()   # at start-up: stale uploads removed, jobs a stopped server left picked up
    runner.kick()          # after queueing a job
    await runner.drain()   # tests: until nothing is left to run
    await runner.stop()    # shutdown: running jobs go back to the queue and resume after their last batch

It takes queued jobs and jobs marked running by a process that is gone (``jobs.abandoned``: same host and no
such pid, or another host silent for long), oldest first, up to ``concurrency`` at once. Taking a job is a
compare-and-set on its runner token (``jobs.claim``), so two server processes never run the same job. A failed
job (an error, not a crash) is left for a person to look at.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from crm.clock import Clock
from crm.errors import Conflict
from crm.imports import jobs, queries, service, uploads
from crm.imports.vocab import JobStatus

log = logging.getLogger("crm.imports")

INTERRUPTED = "Interrupted when the server stopped: it resumes after its last saved batch when the server is back."
GRACE_SECONDS = 30  # on shutdown, how long a running job has to finish the batch it is writing


class Stopping(Exception):
    """Raised between two batches of a job when the server is stopping: the job goes back to the queue."""


class Runner:
    def __init__(self, *, clock: Clock, var_dir: Path, concurrency: int = 2, fault=None) -> None:
        self.clock = clock
        self.var_dir = var_dir
        self.concurrency = concurrency
        self.fault = fault  # tests: called in each batch's transaction (service.run_import's ``fault``)
        self._tasks: dict[int, asyncio.Task] = {}
        self._pump: asyncio.Task | None = None
        self._wake = asyncio.Event()
        self._stopping = False

    @property
    def running(self) -> list[int]:
        return sorted(self._tasks)

    async def start(self) -> None:
        """At server start: remove uploads nobody will run, then resume what a stopped server left."""
        try:
            keep = await queries.unfinished_sources()
            removed = uploads.sweep(self.var_dir, keep=keep, now=self.clock().timestamp())
        except Exception:  # the app still serves pages; the next upload kicks the runner again
            log.exception("the import runner could not look at the jobs at start-up")
            return
        if removed:
            log.info("removed %s stale uploads", removed)
        self.kick()

    def kick(self) -> None:
        """Look for work now: start the pump, or wake the one running."""
        self._wake.set()
        if self._pump is None or self._pump.done():
            self._pump = asyncio.get_running_loop().create_task(self._pump_jobs(), name="import-runner")

    async def drain(self) -> None:
        """Wait until the runner has nothing left to run (what tests wait on instead of sleeping)."""
        while self._pump is not None and not self._pump.done():
            await asyncio.wait([self._pump])  # never cancels the pump, nor raises what ended it

    async def stop(self) -> None:
        """Stop taking jobs; each running job stops after the batch it is writing (so no batch is cut short)
        and goes back to the queue, to resume after it when the server is back. A job still writing after
        GRACE_SECONDS is cancelled: its transaction rolls back, and it is queued again all the same."""
        self._stopping = True
        self._wake.set()
        running = [t for t in self._tasks.values() if not t.done()]
        if running:
            _, late = await asyncio.wait(running, timeout=GRACE_SECONDS)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self._pump is not None and not self._pump.done():
            self._pump.cancel()
            await asyncio.gather(self._pump, return_exceptions=True)

    async def step(self) -> list[int]:
        """Start the jobs that may run now (up to ``concurrency`` in all); their ids."""
        if self._stopping:
            return []
        now = self.clock()
        started = []
        for job in await queries.waiting_jobs():
            if len(self._tasks) >= self.concurrency:
                break
            if job["id"] in self._tasks:
                continue
            if job["status"] == JobStatus.running.value and not jobs.abandoned(job, now):
                continue  # another process is running it
            task = asyncio.get_running_loop().create_task(self._run(job["id"]), name=f"import-{job['id']}")
            self._tasks[job["id"]] = task
            started.append(job["id"])
        return started

    async def _pump_jobs(self) -> None:
        while True:
            self._wake.clear()
            await self.step()
            if not self._tasks:
                if self._wake.is_set() and not self._stopping:
                    continue
                return
            woken = asyncio.get_running_loop().create_task(self._wake.wait())
            try:
                await asyncio.wait([*self._tasks.values(), woken], return_when=asyncio.FIRST_COMPLETED)
            finally:
                woken.cancel()
            for job_id, task in list(self._tasks.items()):
                if task.done():
                    del self._tasks[job_id]

    def _between_batches(self, _progress) -> None:
        if self._stopping:
            raise Stopping("The server is stopping.")

    async def _run(self, job_id: int) -> None:
        try:
            await service.run_job(job_id=job_id, clock=self.clock, fault=self.fault, on_progress=self._between_batches)
        except Stopping:
            await jobs.requeue(job_id, now=self.clock(), note=INTERRUPTED)
            return
        except asyncio.CancelledError:
            await asyncio.shield(jobs.requeue(job_id, now=self.clock(), note=INTERRUPTED))
            raise
        except Conflict:
            return  # done, or another runner took it first
        except Exception as exc:  # the job's own record says what went wrong; the runner goes on
            log.warning("import job %s failed: %s", job_id, exc)
            await jobs.fail_queued(job_id, now=self.clock(), error=getattr(exc, "message", None) or str(exc))
        job = await queries.get_job(job_id)
        if job is not None and job["status"] == JobStatus.done.value:
            uploads.discard(job["source_path"], self.var_dir)
