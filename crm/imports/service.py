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
import csv
import hashlib
import io
import json
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import msgspec

from crm import db
from crm.audit.service import Actor
from crm.audit.service import log_change as audit
from crm.clock import Clock
from crm.errors import Conflict, NotFound
from crm.imports import csvfile, presets, queries
from crm.imports.csvfile import invalid, refuse
from crm.imports.mapping import BUILT_URL, Compiled, compile_mapping
from crm.imports.schemas import COUNTS, Issue, Mapping, Report
from crm.imports.tables import ImportIssue, ImportJob, ImportMapping
from crm.imports.vocab import FIELDS, IGNORE, KINDS, JobStatus, Problem
from crm.members import bulk

BATCH = 1000
REPORT_ISSUES = 200  # issues kept in the returned report; the job keeps them all
STALE_SECONDS = 600  # a running job on another host silent this long is taken as dead
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


# ---- mappings ----------------------------------------------------------------------------------------------


def mapping_digest(mapping: Mapping) -> str:
    return hashlib.sha256(msgspec.json.encode(mapping)).hexdigest()


async def mapping_for(*, kind: str, preset: str = "", mapping_name: str = "") -> Mapping | None:
    """The mapping a preset or a saved mapping names; None when neither is given (guess it from the header)."""
    if kind not in KINDS:
        raise invalid("kind", f"Choose one of: {', '.join(KINDS)}.")
    if preset and mapping_name:
        raise invalid("mapping", "Give a preset or a saved mapping, not both.")
    if preset:
        return presets.preset(preset, kind)
    if mapping_name:
        row = await queries.get_mapping(mapping_name)
        if row is None:
            raise NotFound(f"No saved mapping named {mapping_name!r}.", fields={"mapping": "No such mapping."})
        mapping = to_mapping(row["mapping"])
        if mapping.kind != kind:
            raise invalid("mapping", f"The mapping {mapping_name!r} reads {mapping.kind}, not {kind}.")
        return mapping
    return None


def to_mapping(value: Any) -> Mapping:
    """A mapping from its JSON (a saved row, a form, an API body); InvalidInput when it is not one."""
    try:
        if isinstance(value, (str, bytes)):
            return msgspec.json.decode(value, type=Mapping)
        return msgspec.convert(value, Mapping)
    except msgspec.ValidationError as exc:
        raise invalid("mapping", f"Not a mapping: {exc}.") from None


async def save_mapping(*, name: str, mapping: Mapping, actor: Actor, now) -> dict:
    """Save ``mapping`` under ``name`` (replacing one of the same name), checked as far as it can be without a
    file."""
    name = " ".join(name.split())
    if not name or len(name) > 100:
        raise invalid("name", "Give the mapping a name of 1 to 100 characters.")
    compile_mapping(mapping, list(mapping.columns))  # every column it names is there: checks the rest
    body = json.loads(msgspec.json.encode(mapping))
    async with db.transaction():
        existing = await queries.get_mapping(name)
        if existing:
            await (
                ImportMapping.update(
                    {ImportMapping.mapping: body, ImportMapping.kind: mapping.kind, ImportMapping.updated_at: now}
                )
                .where(ImportMapping.id == existing["id"])
                .run()
            )
        else:
            row = ImportMapping(
                name=name, kind=mapping.kind, mapping=body, created_by=actor.user_id, created_at=now, updated_at=now
            )
            await row.save().run()
        saved = await queries.get_mapping(name)
        await audit(
            actor=actor,
            action="import_mapping.save",
            entity="import_mapping",
            record_id=saved["id"],
            before={"mapping": existing["mapping"]} if existing else None,
            after={"name": name, "mapping": body},
            at=now,
        )
    return saved


async def delete_mapping(*, name: str, actor: Actor, now) -> None:
    async with db.transaction():
        existing = await queries.get_mapping(name)
        if existing is None:
            raise NotFound(f"No saved mapping named {name!r}.")
        await ImportMapping.delete().where(ImportMapping.id == existing["id"]).run()
        await audit(
            actor=actor,
            action="import_mapping.delete",
            entity="import_mapping",
            record_id=existing["id"],
            before={"name": name, "mapping": existing["mapping"]},
            at=now,
        )


def inspect(source: Path | BinaryIO, *, name: str, mapping: Mapping | None, kind: str, **options: Any):
    """The file's facts and the mapping fitted to its header (guessed when ``mapping`` is None): what a preview
    page shows, and what ``run_import`` starts from. Raises InvalidInput naming ``file`` for a refused file."""
    encoding = options.get("encoding") or (mapping.encoding if mapping else "utf-8")
    delimiter = options.get("delimiter") or (mapping.delimiter if mapping else "")
    facts = csvfile.inspect(source, name=name, encoding=encoding, delimiter=delimiter)
    if mapping is None:
        mapping = presets.guess_mapping(kind, facts.header)
        if all(field == IGNORE for field in mapping.columns.values()):
            names = ", ".join(list(presets.SYNONYMS[kind])[:6])
            message = (
                f"The first row names no column this CRM knows (such as {names}): add a header row, "
                "or say which column feeds which field."
            )
            raise refuse(message)
    overrides = {k: v for k, v in options.items() if v not in (None, "")}
    if overrides:
        mapping = msgspec.structs.replace(mapping, **overrides)
    if mapping.kind != kind:
        raise invalid("mapping", f"This mapping reads {mapping.kind}, not {kind}.")
    return facts, compile_mapping(mapping, facts.header)


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
        job = await _start_job(
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
    row = _new_job(
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
    if job["status"] == JobStatus.running.value and not _abandoned(job, now):
        raise Conflict(f"Import job {job_id} is running.")
    source = Path(job["source_path"] or "")
    if not job["source_path"] or not source.is_file():
        await _finish_job(job, status=JobStatus.failed, now=now, error="The uploaded file is gone.")
        raise NotFound(f"The file of import job {job_id} is gone.")
    mapping = to_mapping(job["mapping"])
    facts = csvfile.inspect(source, name=job["file_name"], encoding=mapping.encoding, delimiter=mapping.delimiter)
    if facts.digest != job["file_digest"]:
        raise refuse("The file changed since the import was queued.")
    compiled = compile_mapping(mapping, facts.header)
    claimed = await _claim(job, now)
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
    facts, compiled = inspect(source, name=file_name, mapping=chosen, kind=kind, **options)
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
            await _finish_job(job, status=JobStatus.failed, now=clock(), error=_describe(exc))
        report.status = JobStatus.failed.value
        raise
    report.seconds = time.monotonic() - started
    if job is not None:
        await _finish_job(job, status=JobStatus.done, now=clock(), bytes_read=facts.size)
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
                        await _save_batch(self.job, counts, issues, rows, now)
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


# ---- the job record ----------------------------------------------------------------------------------------


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _abandoned(job: dict, now) -> bool:
    """Failed, or marked running by a process that is gone (this host) or silent for long (another host)."""
    if job["status"] == JobStatus.failed.value:
        return True
    if job["host"] == socket.gethostname():
        return job["pid"] != os.getpid() and not _alive(job["pid"])
    beat = job["heartbeat_at"] or job["started_at"]
    return beat is None or (now - beat).total_seconds() > STALE_SECONDS


def _claim_values(now) -> dict:
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


async def _claim(job: dict, now) -> dict | None:
    """Take ``job`` for this run, unless another run took it first (compare-and-set on its runner token)."""
    values = _claim_values(now)
    if job["started_at"] is None:
        values[ImportJob.started_at] = now
    if job["rows_read"] or job["status"] != JobStatus.queued.value:
        values[ImportJob.resumed] = job["resumed"] + 1
    async with db.transaction():
        await ImportJob.update(values).where((ImportJob.id == job["id"]) & (ImportJob.runner == job["runner"])).run()
        claimed = await queries.get_job(job["id"])
    return claimed if claimed["runner"] == values[ImportJob.runner] else None


def _new_job(*, kind, facts, compiled: Compiled, preset, mapping_name, actor, now, batch_size, status) -> ImportJob:
    running = status == JobStatus.running
    claim = {column._meta.name: value for column, value in _claim_values(now).items()} if running else {}
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


async def _start_job(*, kind, facts, compiled: Compiled, preset, mapping_name, actor, now, batch_size, resume) -> dict:
    """The job this run writes to: an unfinished one of the same file read the same way (picked up after its
    last batch), or a new one."""
    if resume:
        digest = mapping_digest(compiled.mapping)
        for job in await queries.unfinished_jobs(kind=kind, file_digest=facts.digest, mapping_digest=digest):
            if _abandoned(job, now) and (claimed := await _claim(job, now)) is not None:
                return claimed
    row = _new_job(
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


async def _save_batch(job: dict, counts: dict[str, int], issues: list[Issue], rows: list[csvfile.Row], now) -> None:
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


async def _finish_job(job: dict, *, status: JobStatus, now, error: str = "", bytes_read: int | None = None) -> None:
    values: dict = {ImportJob.status: status.value, ImportJob.heartbeat_at: now, ImportJob.error: error}
    if status == JobStatus.done:
        values[ImportJob.finished_at] = now
        values[ImportJob.bytes_read] = bytes_read
    async with db.transaction():
        await ImportJob.update(values).where(ImportJob.id == job["id"]).run()


# ---- the rejected rows -------------------------------------------------------------------------------------

REJECTED_EXTRA = ("line", "column", "problem", "reason")


def rejected_header(header: list[str]) -> list[str]:
    return [*header, *(f"_{name}" for name in REJECTED_EXTRA)]


def rejected_cells(header: list[str], issue: Issue | dict) -> list[str]:
    """A rejected row as the file had it (padded to the header), then where and why it was refused."""
    if isinstance(issue, dict):
        cells, line, column, problem, reason = (
            issue["cells"],
            issue["line"],
            issue["column_name"],
            issue["problem"],
            issue["reason"],
        )
    else:
        cells, line, column, problem, reason = issue.cells, issue.line, issue.column, issue.problem, issue.reason
    padded = [*cells, *[""] * (len(header) - len(cells))]
    return [*padded, str(line), column, problem, reason]


async def rejected_csv(job_id: int) -> AsyncIterator[str]:
    """The job's rejected rows (and erased people) as CSV text, a line at a time: the file's columns, then
    _line, _column, _problem and _reason, so the rows can be fixed and imported again."""
    job = await queries.get_job(job_id)
    if job is None:
        raise NotFound(f"No import job with id {job_id}.")
    header = job["header"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def line(cells: list[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue()

    yield line(rejected_header(header))
    async for issue in queries.each_issue(job_id, problems=[Problem.rejected.value, Problem.erased.value]):
        yield line(rejected_cells(header, issue))


def fields_for(kind: str) -> dict[str, str]:
    """The fields a column can feed (for a mapping form), with their labels."""
    return FIELDS[kind]
