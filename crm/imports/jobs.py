"""The import job's row: claimed by one runner at a time, its counts and issues saved with each batch."""

from __future__ import annotations

import json
import os
import secrets
import socket

import msgspec

from crm import db
from crm.errors import Conflict
from crm.imports import csvfile, queries
from crm.imports.mapping import Compiled
from crm.imports.mappings import mapping_digest
from crm.imports.schemas import Issue
from crm.imports.tables import ImportIssue, ImportJob
from crm.imports.vocab import JobStatus

STALE_SECONDS = 600  # a running job on another host silent this long is taken as dead


# ---- the job record ----------------------------------------------------------------------------------------


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def abandoned(job: dict, now) -> bool:
    """Failed, or marked running by a process that is gone (this host) or silent for long (another host)."""
    if job["status"] == JobStatus.failed.value:
        return True
    if job["host"] == socket.gethostname():
        return job["pid"] != os.getpid() and not alive(job["pid"])
    beat = job["heartbeat_at"] or job["started_at"]
    return beat is None or (now - beat).total_seconds() > STALE_SECONDS


def claim_values(now) -> dict:
    """What a run writes on the job it takes: itself (host, pid, a fresh runner token) and status running."""
    return {
        ImportJob.status: JobStatus.running.value,
        ImportJob.host: socket.gethostname(),
        ImportJob.pid: os.getpid(),
        ImportJob.runner: secrets.token_hex(16),
        ImportJob.heartbeat_at: now,
        ImportJob.finished_at: None,
        ImportJob.error: "",
    }


async def claim(job: dict, now) -> dict | None:
    """Take ``job`` for this run, unless another run took it first (compare-and-set on its runner token)."""
    values = claim_values(now)
    if job["started_at"] is None:
        values[ImportJob.started_at] = now
    if job["rows_read"] or job["status"] != JobStatus.queued.value:
        values[ImportJob.resumed] = job["resumed"] + 1
    async with db.transaction():
        await ImportJob.update(values).where((ImportJob.id == job["id"]) & (ImportJob.runner == job["runner"])).run()
        claimed = await queries.get_job(job["id"])
    return claimed if claimed["runner"] == values[ImportJob.runner] else None


def new_job(*, kind, facts, compiled: Compiled, preset, mapping_name, actor, now, batch_size, status) -> ImportJob:
    running = status == JobStatus.running
    claim = {column._meta.name: value for column, value in claim_values(now).items()} if running else {}
    claim["status"] = status.value
    return ImportJob(
        kind=kind,
        file_name=facts.name,
        file_size=facts.size,
        file_digest=facts.digest,
        header=json.dumps(facts.header),
        preset=preset,
        mapping_name=mapping_name,
        mapping=msgspec.json.encode(compiled.mapping).decode(),
        mapping_digest=mapping_digest(compiled.mapping),
        batch_size=batch_size,
        created_by=actor.user_id,
        actor_label=actor.label[:300],
        created_at=now,
        started_at=now if running else None,
        **claim,
    )


async def start_job(*, kind, facts, compiled: Compiled, preset, mapping_name, actor, now, batch_size, resume) -> dict:
    """The job this run writes to: an unfinished one of the same file read the same way (picked up after its
    last batch), or a new one."""
    if resume:
        digest = mapping_digest(compiled.mapping)
        for job in await queries.unfinished_jobs(kind=kind, file_digest=facts.digest, mapping_digest=digest):
            if abandoned(job, now) and (claimed := await claim(job, now)) is not None:
                return claimed
    row = new_job(
        kind=kind,
        facts=facts,
        compiled=compiled,
        preset=preset,
        mapping_name=mapping_name,
        actor=actor,
        now=now,
        batch_size=batch_size,
        status=JobStatus.running,
    )
    async with db.transaction():
        await row.save().run()
    return await queries.get_job(row.id)


async def save_batch(job: dict, counts: dict[str, int], issues: list[Issue], rows: list[csvfile.Row], now) -> None:
    """The batch's issues and the job's counts, in the batch's transaction."""
    if issues:
        for start in range(0, len(issues), 1000):  # stay under the engines' bound-parameter limits
            await ImportIssue.insert(
                *[
                    ImportIssue(
                        job=job["id"],
                        line=i.line,
                        problem=i.problem,
                        column_name=i.column[:300],
                        reason=i.reason,
                        cells=json.dumps(i.cells),
                    )
                    for i in issues[start : start + 1000]
                ]
            ).run()
    await (
        ImportJob.update(
            {
                **{getattr(ImportJob, name): value for name, value in counts.items()},
                ImportJob.last_line: rows[-1].line,
                ImportJob.bytes_read: rows[-1].bytes_read,
                ImportJob.heartbeat_at: now,
            }
        )
        .where(ImportJob.id == job["id"])
        .run()
    )


async def finish_job(job: dict, *, status: JobStatus, now, error: str = "", bytes_read: int | None = None) -> None:
    values: dict = {ImportJob.status: status.value, ImportJob.heartbeat_at: now, ImportJob.error: error}
    if status == JobStatus.done:
        values[ImportJob.finished_at] = now
        values[ImportJob.bytes_read] = bytes_read
    async with db.transaction():
        await ImportJob.update(values).where(ImportJob.id == job["id"]).run()


async def requeue(job_id: int, *, now, note: str) -> None:
    """Put a job this process was running back in the queue (the server is stopping): the next runner picks it
    up after its last committed batch."""
    async with db.transaction():
        await (
            ImportJob.update(
                {ImportJob.status: JobStatus.queued.value, ImportJob.heartbeat_at: now, ImportJob.error: note}
            )
            .where((ImportJob.id == job_id) & ImportJob.status.is_in([JobStatus.running.value, JobStatus.failed.value]))
            .run()
        )


async def fail_queued(job_id: int, *, now, error: str) -> None:
    """A queued job that could not even start (its file changed, say) is failed, so no runner tries it again."""
    async with db.transaction():
        await (
            ImportJob.update(
                {ImportJob.status: JobStatus.failed.value, ImportJob.heartbeat_at: now, ImportJob.error: error[:2000]}
            )
            .where((ImportJob.id == job_id) & (ImportJob.status == JobStatus.queued.value))
            .run()
        )


async def retry(job: dict, *, now) -> None:
    """Queue a failed job again (a person asked to): it resumes after its last committed batch."""
    if job["status"] != JobStatus.failed.value:
        raise Conflict(f"Import job {job['id']} is {job['status']}: only a failed import can be tried again.")
    if not job["source_path"] or not os.path.isfile(job["source_path"]):
        raise Conflict("The uploaded file of this import is gone: upload it again (nothing is imported twice).")
    await requeue(job["id"], now=now, note="")
