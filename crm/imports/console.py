"""`crm import` (its arguments are in crm/cli.py): the import service with a progress bar and the report printed
at the end.

On a terminal the progress bar is drawn on stderr (rich); otherwise one line per batch goes to stderr, so logs
and scripts can follow a long import. The report goes to stdout.
"""

from __future__ import annotations

import argparse
import csv
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TextIO

from crm.audit.service import Actor
from crm.clock import Clock
from crm.imports import csvfile, mappings, rejected, service
from crm.imports.schemas import Issue, Report
from crm.imports.vocab import IGNORE

SHOWN = 50  # issues of each kind printed; the job keeps them all


async def run(args: argparse.Namespace, *, clock: Clock, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    actor = Actor.system("cli")
    options = {
        "platform": args.platform,
        "encoding": args.encoding,
        "date_format": args.date_format,
        "default_zone": args.zone,
        "delimiter": args.delimiter.replace("\\t", "\t"),
    }
    if not args.file.is_file():
        print(f"crm: error: no such file: {args.file}", file=err)
        return 1
    guessed = not args.preset and not args.mapping
    if guessed:
        chosen = await mappings.mapping_for(kind=args.kind)
        _, compiled = mappings.inspect(args.file, name=args.file.name, mapping=chosen, kind=args.kind, **options)
        used = {column: field for column, field in compiled.mapping.columns.items() if field != IGNORE}
        print("Mapping guessed from the header: " + ", ".join(f"{c} -> {f}" for c, f in used.items()), file=out)
    with ExitStack() as stack:
        on_issue = None
        if args.rejected:
            on_issue = stack.enter_context(_RejectedWriter(args.rejected, args.file, args))
        progress = stack.enter_context(_Progress(err))
        report = await service.run_import(
            kind=args.kind,
            source=args.file,
            preset=args.preset or "",
            mapping_name=args.mapping,
            options=options,
            actor=actor,
            clock=clock,
            dry_run=args.dry_run,
            batch_size=args.batch_size,
            on_progress=progress.update,
            on_issue=on_issue,
        )
    for line in report_lines(report, preset=args.preset or args.mapping):
        print(line, file=out)
    if args.rejected:
        written = on_issue.rows if on_issue else 0
        print(f"Rejected rows written to {args.rejected}." if written else "No rejected rows to write.", file=out)
    if args.save_mapping:
        mapping = await mappings.mapping_for(kind=args.kind, preset=args.preset or "", mapping_name=args.mapping)
        if mapping is None:
            _, compiled = mappings.inspect(args.file, name=args.file.name, mapping=None, kind=args.kind, **options)
            mapping = compiled.mapping
        await mappings.save_mapping(name=args.save_mapping, mapping=mapping, actor=actor, now=clock())
        print(f"Mapping saved as {args.save_mapping!r}: use it with --mapping {args.save_mapping!r}.", file=out)
    return 0


class _RejectedWriter:
    """Writes each rejected row (and erased person) to the CSV as the import finds them (dry runs too); the file
    is created with the first one, so a refused file or a clean import leaves none."""

    def __init__(self, target: Path, path: Path, args: argparse.Namespace) -> None:
        self.target, self.path, self.args = target, path, args
        self.handle: TextIO | None = None
        self.writer: Any = None
        self.header: list[str] = []
        self.rows = 0

    def __enter__(self) -> _RejectedWriter:
        return self

    def __exit__(self, *exc) -> None:
        if self.handle is not None:
            self.handle.close()

    def __call__(self, issue: Issue) -> None:
        if issue.problem not in ("rejected", "erased"):
            return
        if self.handle is None:
            self.header = _header_of(self.path, self.args)
            self.handle = self.target.open("w", newline="", encoding="utf-8")
            self.writer = csv.writer(self.handle)
            self.writer.writerow(rejected.rejected_header(self.header))
        self.writer.writerow(rejected.rejected_cells(self.header, issue))
        self.rows += 1


def _header_of(path: Path, args: argparse.Namespace) -> list[str]:
    encoding = args.encoding or "utf-8"
    return csvfile.inspect(path, name=path.name, encoding=encoding, delimiter=args.delimiter).header


class _Progress:
    def __init__(self, err: TextIO) -> None:
        self.err = err
        self.bar: Any = None
        self.task = None

    def __enter__(self) -> _Progress:
        if self.err.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

            self.bar = Progress(
                TextColumn("importing"),
                BarColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[rows]:,} rows, {task.fields[rate]:,.0f}/s"),
                TimeRemainingColumn(),
                console=Console(file=self.err),
                transient=True,
            )
            self.bar.__enter__()
        return self

    def update(self, progress: service.Progress) -> None:
        rate = progress.rows_read / progress.seconds if progress.seconds > 0 else 0.0
        if self.bar is not None:
            if self.task is None:
                self.task = self.bar.add_task("import", total=progress.bytes_total, rows=0, rate=0.0)
            self.bar.update(self.task, completed=progress.bytes_read, rows=progress.rows_read, rate=rate)
        else:
            share = progress.bytes_read / progress.bytes_total if progress.bytes_total else 1.0
            print(
                f"crm import: batch {progress.batches}: {progress.rows_read:,} rows ({share:.0%}, {rate:,.0f} rows/s)",
                file=self.err,
                flush=True,
            )

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


LABELS = (
    ("rows_read", "rows read"),
    ("members_created", "members created"),
    ("members_updated", "members updated"),
    ("interactions_added", "interactions added"),
    ("duplicates", "duplicates"),
    ("conflicts", "conflicts"),
    ("rejected", "rejected"),
    ("erased", "erased (refused)"),
)


def report_lines(report: Report, *, preset: str = "") -> list[str]:
    how = f", {preset}" if preset else ""
    if report.dry_run:
        lines = [f"Dry run of {report.kind} from {report.file_name}{how}: nothing was written. It would give:"]
    else:
        rate = f", {report.rows_per_second:,.0f} rows/s" if report.seconds else ""
        resumed = f", resumed after row {report.resumed_from_row:,}" if report.resumed_from_row else ""
        lines = [
            f"Imported {report.kind} from {report.file_name} (job {report.job_id}{how}{resumed}) "
            f"in {report.seconds:.1f} s{rate}."
        ]
    counts = report.counts()
    if report.kind == "members":
        counts.pop("interactions_added")
    width = max(len(label) for _, label in LABELS)
    for name, label in LABELS:
        if name in counts:
            note = (
                "  (duplicates whose values differ: the first row wins)" if name == "conflicts" and counts[name] else ""
            )
            lines.append(f"  {label:<{width}} {counts[name]:>10,}{note}")
    for problem, title in (("conflict", "Conflicts"), ("rejected", "Rejected rows"), ("erased", "Erased people")):
        issues = [i for i in report.issues if i.problem == problem]
        total = {"conflict": report.conflicts, "rejected": report.rejected, "erased": report.erased}[problem]
        if not total:
            continue
        lines.append(f"{title}:")
        lines.extend(f"  line {i.line}, {i.column}: {i.reason}" for i in issues[:SHOWN])
        if total > min(len(issues), SHOWN):
            more = total - min(len(issues), SHOWN)
            where = "--rejected FILE writes them all" if problem != "conflict" else "the import job keeps them all"
            lines.append(f"  ... and {more:,} more ({where}).")
    return lines
