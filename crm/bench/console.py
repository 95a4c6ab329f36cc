"""What ``crm bench`` shows: a progress bar while generating (rich on a terminal, a line per step otherwise), and
the results table."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table


class GenerateProgress:
    """A ``progress(stage, done, total)`` callback; a context manager that draws the bar."""

    def __init__(self, err: TextIO = sys.stderr) -> None:
        self.err = err
        self.bar: Progress | None = None
        self.tasks: dict[str, Any] = {}
        self.last: dict[str, int] = {}

    def __enter__(self) -> GenerateProgress:
        if self.err.isatty():
            self.bar = Progress(
                TextColumn("{task.description:<13}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(file=self.err),
            )
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.bar is not None:
            if stage not in self.tasks:
                self.tasks[stage] = self.bar.add_task(stage, total=total)
            self.bar.update(self.tasks[stage], completed=done)
            return
        # Without a terminal: a line at each tenth, so logs can follow a long run.
        step = max(1, total // 10)
        if done == total or done // step != self.last.get(stage, -1):
            self.last[stage] = done // step
            print(f"{stage}: {done:,}/{total:,}", file=self.err, flush=True)


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


def print_results(results: dict[str, Any], out: TextIO = sys.stdout) -> None:
    meta = results["meta"]
    table = Table(
        title=f"{meta['engine']} · {meta['members']:,} members / {meta['interactions']:,} interactions · "
        f"{meta['rounds']}×{meta['repeat']} runs",
        title_justify="left",
    )
    for column in ("request", "median ms", "p95 ms", "queries", "SQL floor ms", "web floor ms", "x floor", "note"):
        table.add_column(column, justify="left" if column in ("request", "note") else "right")
    for row in results["requests"]:
        ratio = row.get("ratio_to_floor")
        table.add_row(
            row["name"],
            _ms(row.get("median_ms")),
            _ms(row.get("p95_ms")),
            "—" if row.get("queries") is None else str(row["queries"]),
            _ms(row.get("sql_floor_ms")),
            _ms(row.get("framework_floor_ms")),
            "—" if ratio is None else f"{ratio:.1f}x",
            row.get("error", row.get("note", "")),
        )
    Console(file=out, width=160).print(table)
