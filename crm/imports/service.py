"""Importing a CSV of members or of interactions: one service for the CLI, the upload page and the API.

    report = await run_import(kind="interactions", source=path, preset="twitter-airline", actor=..., clock=...)

The file is checked whole before anything is written (``csvfile.inspect``: not CSV, not UTF-8, empty, no
header -> InvalidInput on ``file``), the mapping is fitted to its header (``mapping.compile_mapping``), then rows
are read as a stream, in batches. Each batch is one transaction: the members services' bulk path writes its
members, handles, topics, interactions and rollups (``crm.members.bulk``) with one audit summary entry, and the
batch's issues and the job's counts are written with it. A crash leaves whole batches only: the job stays
"running" (killed) or turns "failed", and importing the same file with the same mapping again picks the job up
after its last batch (a new job otherwise; either way nothing already imported is written twice, since every
row is matched against what is stored). A dry run reads and plans every batch the same way, writes nothing, and
creates no job.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from crm import db
from crm.audit.service import Actor
from crm.clock import Clock
from crm.errors import Conflict, NotFound
from crm.imports import csvfile, queries
from crm.imports.csvfile import invalid, refuse
from crm.imports.jobs import abandoned, claim, finish_job, new_job, save_batch, start_job
from crm.imports.mapping import BUILT_URL, Compiled, compile_mapping
from crm.imports.mappings import inspect, mapping_for, to_mapping
from crm.imports.schemas import COUNTS, Issue, Mapping, Report
from crm.imports.vocab import FIELDS, JobStatus, Problem
from crm.members import bulk

BATCH = 1000
REPORT_ISSUES = 200  # issues kept in the returned report; the job keeps them all
RETRIES = 3  # a batch that lost a race on a unique key (a one-at-a-time write) is planned again


@dataclass(frozen=True)
class Progress:
    """Sent after each batch: what a progress bar needs."""

    job_id: int | None
    batches: int
    rows_read: int
    bytes_read: int
    bytes_total: int
    seconds: float
    report: Report


# ---- running an import -------------------------------------------------------------------------------------


async def run_import(
    *,
    kind: str,
    source: Path | BinaryIO,
    actor: Actor,
    clock: Clock,
    file_name: str = "",
    preset: str = "",
    mapping_name: str = "",
    mapping: Mapping | None = None,
    options: dict[str, Any] | None = None,
    dry_run: bool = False,
    batch_size: int = BATCH,
    resume: bool = True,
    on_progress: Callable[[Progress], Any] | None = None,
    on_issue: Callable[[Issue], Any] | None = None,
    fault: Callable[[int], Any] | None = None,
) -> Report:
    """Import ``source`` (a path, or a seekable binary file) as ``kind``, read by ``mapping``, or by the preset
    or saved mapping named, or by a mapping guessed from the header; ``options`` override the mapping's
    settings (platform, encoding, date_format, default_zone, delimiter).

    ``on_progress`` is called after each committed batch, ``on_issue`` with each issue (a CLI writes the
    rejected rows' CSV with it, also for a dry run). ``fault(batch_number)`` is called inside each batch's
    transaction before it commits: tests raise there to simulate a crash.
    """
    if db.in_transaction():
        raise RuntimeError("run_import commits batch by batch: call it outside a transaction")
    file_name, facts, compiled = await _checked(
        kind, source, file_name, preset, mapping_name, mapping, options or {}, batch_size
    )
    job = None
    if not dry_run:
        job = await start_job(
            kind=kind,
            facts=facts,
            compiled=compiled,
            preset=preset,
            mapping_name=mapping_name,
            actor=actor,
            now=clock(),
            batch_size=batch_size,
            resume=resume,
        )
    return await _run(
        source,
        facts,
        compiled,
        job,
        actor=actor,
        clock=clock,
        batch_size=batch_size,
        on_progress=on_progress,
        on_issue=on_issue,
        fault=fault,
    )


async def queue_import(
    *,
    kind: str,
    source_path: Path,
    actor: Actor,
    now,
    file_name: str = "",
    preset: str = "",
    mapping_name: str = "",
    mapping: Mapping | None = None,
    options: dict[str, Any] | None = None,
    batch_size: int = BATCH,
) -> dict:
    """Check a stored file and its mapping now (a refused file is refused at once, and nothing is written), then
    record a queued job for ``run_job`` to take: what the upload page and the API do before they answer. The
    file must stay at ``source_path`` until the job is done."""
    file_name, facts, compiled = await _checked(
        kind, source_path, file_name, preset, mapping_name, mapping, options or {}, batch_size
    )
    row = new_job(
        kind=kind,
        facts=facts,
        compiled=compiled,
        preset=preset,
        mapping_name=mapping_name,
        actor=actor,
        now=now,
        batch_size=batch_size,
        status=JobStatus.queued,
    )
    row.source_path = str(source_path)
    async with db.transaction():
        await row.save().run()
    return await queries.get_job(row.id)


async def run_job(
    *,
    job_id: int,
    clock: Clock,
    actor: Actor | None = None,
    on_progress: Callable[[Progress], Any] | None = None,
    on_issue: Callable[[Issue], Any] | None = None,
    fault: Callable[[int], Any] | None = None,
) -> Report:
    """Run a queued job (``queue_import``), or pick up one that stopped (failed, or its process is gone) after
    its last batch, reading its file again with the mapping it was queued with. Audited as the person who
    queued it unless ``actor`` says otherwise."""
    if db.in_transaction():
        raise RuntimeError("run_job commits batch by batch: call it outside a transaction")
    job = await queries.get_job(job_id)
    if job is None:
        raise NotFound(f"No import job with id {job_id}.")
    now = clock()
    if job["status"] == JobStatus.done.value:
        raise Conflict(f"Import job {job_id} is done.")
    if job["status"] == JobStatus.running.value and not abandoned(job, now):
        raise Conflict(f"Import job {job_id} is running.")
    source = Path(job["source_path"] or "")
    if not job["source_path"] or not source.is_file():
        await finish_job(job, status=JobStatus.failed, now=now, error="The uploaded file is gone.")
        raise NotFound(f"The file of import job {job_id} is gone.")
    mapping = to_mapping(job["mapping"])
    # The whole file is read to check it: in a thread, so that a server goes on answering meanwhile.
    facts = await asyncio.to_thread(
        csvfile.inspect, source, name=job["file_name"], encoding=mapping.encoding, delimiter=mapping.delimiter
    )
    if facts.digest != job["file_digest"]:
        raise refuse("The file changed since the import was queued.")
    compiled = compile_mapping(mapping, facts.header)
    claimed = await claim(job, now)
    if claimed is None:
        raise Conflict(f"Import job {job_id} was taken by another runner.")
    actor = actor or Actor(user_id=job["created_by"], label=job["actor_label"])
    return await _run(
        source,
        facts,
        compiled,
        claimed,
        actor=actor,
        clock=clock,
        batch_size=job["batch_size"],
        on_progress=on_progress,
        on_issue=on_issue,
        fault=fault,
    )


async def _checked(kind, source, file_name, preset, mapping_name, mapping, options, batch_size):
    """The file's name, facts and fitted mapping; InvalidInput for a refused file or mapping."""
    if not 1 <= batch_size <= 10_000:
        raise invalid("batch_size", "Use 1 to 10,000 rows per batch.")
    file_name = file_name or (source.name if isinstance(source, Path) else getattr(source, "name", "")) or "upload"
    file_name = Path(str(file_name)).name[:300]
    chosen = mapping or await mapping_for(kind=kind, preset=preset, mapping_name=mapping_name)
    # The whole file is read to check it: in a thread, so that a server goes on answering meanwhile.
    facts, compiled = await asyncio.to_thread(inspect, source, name=file_name, mapping=chosen, kind=kind, **options)
    return file_name, facts, compiled


async def _run(
    source, facts, compiled: Compiled, job: dict | None, *, actor, clock, batch_size, on_progress, on_issue, fault
) -> Report:
    started = time.monotonic()
    report = Report(kind=compiled.kind, file_name=facts.name, dry_run=job is None)
    if job is not None:
        report.job_id = job["id"]
        report.resumed_from_row = job["rows_read"]
        for name in COUNTS:
            setattr(report, name, job[name])
    importer = _Importer(kind=compiled.kind, compiled=compiled, actor=actor, report=report, job=job, on_issue=on_issue)
    batches = 0
    try:
        for rows in _batches(csvfile.rows(source, facts, skip=report.resumed_from_row), batch_size):
            batches += 1
            await importer.batch(rows, now=clock(), number=batches, fault=fault)
            if on_progress is not None:
                on_progress(
                    Progress(
                        job_id=report.job_id,
                        batches=batches,
                        rows_read=report.rows_read,
                        bytes_read=rows[-1].bytes_read,
                        bytes_total=facts.size,
                        seconds=time.monotonic() - started,
                        report=report,
                    )
                )
    except BaseException as exc:
        if job is not None:
            await finish_job(job, status=JobStatus.failed, now=clock(), error=_describe(exc))
        report.status = JobStatus.failed.value
        raise
    report.seconds = time.monotonic() - started
    if job is not None:
        await finish_job(job, status=JobStatus.done, now=clock(), bytes_read=facts.size)
    return report


def _describe(exc: BaseException) -> str:
    if isinstance(exc, (KeyboardInterrupt, asyncio.CancelledError)):
        return "Interrupted."
    return f"{type(exc).__name__}: {exc}"[:2000]


def _batches(rows: Iterable[csvfile.Row], size: int) -> Iterator[list[csvfile.Row]]:
    batch: list[csvfile.Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Importer:
    """Turns a batch of rows into items, writes them with the members' bulk path, and keeps the counts."""

    def __init__(self, *, kind, compiled: Compiled, actor: Actor, report: Report, job: dict | None, on_issue) -> None:
        self.kind = kind
        self.compiled = compiled
        self.actor = actor
        self.report = report
        self.job = job
        self.on_issue = on_issue
        self.dry_run = bulk.DryRun() if job is None else None
        self.external_column = compiled.column("external_id")

    def _reject(self, row: csvfile.Row, errors: dict[str, str], problem: Problem = Problem.rejected) -> Issue:
        fields = list(errors)
        column = self.compiled.column(fields[0]) if fields[0] else "(row)"
        reason = errors[fields[0]]
        if len(fields) > 1:
            reason += " Also: " + "; ".join(f"{self.compiled.column(f)}: {errors[f]}" for f in fields[1:])
        return Issue(line=row.line, problem=problem.value, column=column, reason=reason, cells=row.cells)

    def _items(self, rows: list[csvfile.Row], now) -> tuple[list, list[Issue], dict[int, csvfile.Row]]:
        items, issues, by_line = [], [], {}
        clean = bulk.clean_interaction if self.kind == "interactions" else bulk.clean_member
        for row in rows:
            by_line[row.line] = row
            if row.error:
                issues.append(Issue(line=row.line, problem="rejected", column="(row)", reason=row.error))
                continue
            values, errors = self.compiled.convert(row.cells)
            built_url = values.pop(BUILT_URL, None)
            item = None
            if not errors:
                item, errors = clean(values, now)
            if errors:
                issues.append(self._reject(row, errors))
                continue
            item.index = row.line
            if built_url:
                item.values["url"] = built_url
            items.append(item)
        return items, issues, by_line

    async def batch(self, rows: list[csvfile.Row], *, now, number: int, fault) -> None:
        items, read_issues, by_line = self._items(rows, now)
        source = {"import_job": self.report.job_id, "lines": [rows[0].line, rows[-1].line]}
        for attempt in range(1, RETRIES + 1):
            try:
                async with db.transaction() as transaction:
                    if self.kind == "interactions":
                        result = await bulk.log_interactions(
                            items, actor=self.actor, now=now, dedupe_content=True, dry_run=self.dry_run, source=source
                        )
                    else:
                        result = await bulk.upsert_members(
                            items, actor=self.actor, now=now, dry_run=self.dry_run, source=source
                        )
                    counts, issues = self._tally(rows, result, read_issues, by_line)
                    if self.job is not None:
                        await save_batch(self.job, counts, issues, rows, now)
                    if fault is not None:
                        fault(number)
                    if self.dry_run is not None:
                        await transaction.rollback()  # nothing was written: make sure of it
                break
            except Exception as exc:
                if attempt < RETRIES and db.is_unique_violation(exc):
                    continue
                raise
        for name, value in counts.items():
            setattr(self.report, name, value)
        for issue in issues:
            if len(self.report.issues) < REPORT_ISSUES:
                self.report.issues.append(issue)
            if self.on_issue is not None:
                self.on_issue(issue)

    def _tally(self, rows, result: bulk.BulkResult, read_issues: list[Issue], by_line) -> tuple[dict, list[Issue]]:
        counts = self.report.counts()
        counts["rows_read"] += len(rows)
        counts["members_created"] += len(result.members_created)
        counts["members_updated"] += len(result.members_updated)
        issues = list(read_issues)
        for outcome in result.outcomes:
            row = by_line[outcome.index]
            if outcome.status == "created" and self.kind == "interactions":
                counts["interactions_added"] += 1
            elif outcome.status == "duplicate":
                counts["duplicates"] += 1
                if outcome.differs:
                    counts["conflicts"] += 1
                    issues.append(self._conflict(row, outcome))
            elif outcome.status in ("rejected", "erased"):
                problem = Problem(outcome.status)
                issues.append(self._reject(row, {outcome.field or "": outcome.error or ""}, problem))
        counts["rejected"] += sum(1 for i in issues if i.problem == "rejected")
        counts["erased"] += sum(1 for i in issues if i.problem == "erased")
        issues.sort(key=lambda i: i.line)
        return counts, issues

    def _conflict(self, row: csvfile.Row, outcome: bulk.Outcome) -> Issue:
        kept = f"line {outcome.kept_index}" if outcome.kept_index is not None else "the one already stored"
        if outcome.kept_index is None and outcome.id is not None:
            kept = f"interaction {outcome.id} (already stored)"
        differences = "; ".join(
            f"{self.compiled.column(name)} {_shown(given)!s} here, {_shown(first)!s} kept"
            for name, (first, given) in (outcome.differs or {}).items()
        )
        reason = f"Same id as {kept}, which wins: {differences}."
        return Issue(line=row.line, problem="conflict", column=self.external_column, reason=reason, cells=row.cells)


def _shown(value: Any) -> str:
    if value in (None, ""):
        return "(empty)"
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return repr(text if len(text) <= 60 else text[:57] + "...")


def fields_for(kind: str) -> dict[str, str]:
    """The fields a column can feed (for a mapping form), with their labels."""
    return FIELDS[kind]
