"""A job's rejected rows as CSV: the file's own columns, then where and why each was refused."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

from crm.errors import NotFound
from crm.formatting import csv_cell
from crm.imports import queries
from crm.imports.schemas import Issue
from crm.imports.vocab import Problem

# ---- the rejected rows -------------------------------------------------------------------------------------

REJECTED_EXTRA = ("line", "column", "problem", "reason")


def rejected_header(header: list[str]) -> list[str]:
    return [csv_cell(name) for name in (*header, *(f"_{name}" for name in REJECTED_EXTRA))]


def rejected_cells(header: list[str], issue: Issue | dict) -> list[str]:
    """A rejected row as the file had it (padded to the header), then where and why it was refused; cells a
    spreadsheet would run as formulas are made plain text (csv_cell), like every CSV the app writes."""
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
    return [csv_cell(cell) for cell in (*padded, str(line), column, problem, reason)]


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
