"""Reads of imports: jobs with their live progress, their issues, saved mappings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from crm.errors import NotFound
from crm.imports.schemas import ImportRead, IssueRead, JobRead
from crm.imports.tables import ImportIssue, ImportJob, ImportMapping

PAGE = 1000


async def get_job(job_id: int) -> dict | None:
    return await ImportJob.select().where(ImportJob.id == job_id).output(load_json=True).first().run()


async def job_or_404(job_id: int) -> dict:
    job = await get_job(job_id) if 0 < job_id < 2**31 else None
    if job is None:
        raise NotFound(f"No import with id {job_id}.")
    return job


async def list_jobs(*, limit: int = 50) -> list[dict]:
    return await ImportJob.select().order_by(ImportJob.id, ascending=False).limit(limit).output(load_json=True).run()


async def unfinished_jobs(*, kind: str, file_digest: str, mapping_digest: str) -> list[dict]:
    """Jobs of the same file read the same way that stopped before the end (failed, or still marked running)."""
    return (
        await ImportJob.select()
        .where(
            (ImportJob.kind == kind)
            & (ImportJob.file_digest == file_digest)
            & (ImportJob.mapping_digest == mapping_digest)
            & ImportJob.status.is_in(["running", "failed"])
        )
        .order_by(ImportJob.id, ascending=False)
        .output(load_json=True)
        .run()
    )


async def waiting_jobs(*, limit: int = 20) -> list[dict]:
    """Jobs a runner may take, oldest first: queued ones, and running ones (taken only when their runner is
    gone: ``jobs.abandoned``)."""
    return (
        await ImportJob.select()
        .where(ImportJob.status.is_in(["queued", "running"]))
        .order_by(ImportJob.id)
        .limit(limit)
        .output(load_json=True)
        .run()
    )


async def unfinished_sources() -> set[str]:
    """The uploaded files of jobs not done yet (queued, running, or failed and waiting to be tried again)."""
    rows = await (
        ImportJob.select(ImportJob.source_path)
        .where(ImportJob.status.is_in(["queued", "running", "failed"]) & ImportJob.source_path.is_not_null())
        .run()
    )
    return {r["source_path"] for r in rows}


def job_read(job: dict, now: datetime) -> JobRead:
    """The job with its progress: the share of the file's bytes read, rows per second since it started, and the
    time left at that pace (None until it can be told)."""
    size, done = job["file_size"], job["bytes_read"]
    progress = 1.0 if job["status"] == "done" else (min(done / size, 1.0) if size else None)
    rate = seconds_left = None
    if job["started_at"] is not None:
        end = job["finished_at"] or (now if job["status"] == "running" else job["heartbeat_at"]) or now
        elapsed = (end - job["started_at"]).total_seconds()
        if elapsed > 0 and job["rows_read"]:
            rate = job["rows_read"] / elapsed
            if job["status"] == "running" and progress:
                seconds_left = elapsed * (1 - progress) / progress
    fields = {name: job[name] for name in JobRead.__struct_fields__ if name in job}
    return JobRead(**fields, progress=progress, rows_per_second=rate, seconds_left=seconds_left)


async def import_read(job: dict, now: datetime, *, shown: int = 100) -> ImportRead:
    """The job with its first ``shown`` issues, as the API and the job page show it."""
    first = await issues(job["id"], limit=shown)
    read = job_read(job, now)
    return ImportRead(
        **{name: getattr(read, name) for name in JobRead.__struct_fields__},
        issues=[
            IssueRead(line=i["line"], problem=i["problem"], column=i["column_name"], reason=i["reason"]) for i in first
        ],
        issues_total=job["conflicts"] + job["rejected"] + job["erased"],
    )


async def issues(job_id: int, *, problems: list[str] | None = None, after_id: int = 0, limit: int = PAGE) -> list[dict]:
    """A page of a job's issues in file order (then by id), after ``after_id``."""
    query = ImportIssue.select().where((ImportIssue.job == job_id) & (ImportIssue.id > after_id))
    if problems:
        query = query.where(ImportIssue.problem.is_in(problems))
    return await query.order_by(ImportIssue.id).limit(limit).output(load_json=True).run()


async def each_issue(job_id: int, *, problems: list[str] | None = None) -> AsyncIterator[dict]:
    """Every issue of a job, a page at a time (constant memory)."""
    after = 0
    while page := await issues(job_id, problems=problems, after_id=after):
        for row in page:
            yield row
        after = page[-1]["id"]


async def get_mapping(name: str) -> dict | None:
    return await ImportMapping.select().where(ImportMapping.name == name).first().run()


async def list_mappings(*, kind: str | None = None) -> list[dict]:
    query = ImportMapping.select().order_by(ImportMapping.name)
    if kind:
        query = query.where(ImportMapping.kind == kind)
    return await query.run()
