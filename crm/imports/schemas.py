"""Shapes of imports: the mapping (how a file's columns become fields), the issues and the report, and a job as
pages and the API will show it."""

from __future__ import annotations

from datetime import datetime

from msgspec import Struct, field

from crm.imports.vocab import ImportKind, JobStatus, Problem


class Mapping(Struct, kw_only=True, forbid_unknown_fields=True):
    """How to read one kind of file. Saved under a name (``import_mapping``) or built in (``presets.py``).

    ``columns`` maps a CSV column (as the header names it) to a field of ``vocab.FIELDS[kind]``, or to "ignore";
    columns not listed are ignored too.
    """

    kind: str  # members | interactions
    columns: dict[str, str] = field(default_factory=dict)
    # Dates: "iso" (ISO 8601, "2026-03-01T14:00:00+01:00", "2026-03-01 14:00", "2026-03-01") or a strftime format
    # such as "%Y-%m-%d %H:%M:%S %z" or "%d/%m/%Y %H:%M". A time without an offset is read in default_zone
    # (an IANA name, or a fixed offset like "+02:00").
    date_format: str = "iso"
    default_zone: str = "UTC"
    # Sentiment cells: the words in vocab.SENTIMENT_WORDS, plus these (lower-cased value -> sentiment), which win.
    sentiment_values: dict[str, str] = field(default_factory=dict)
    # Numbers: below the first threshold negative, above the second positive, between neutral. [0, 0] reads a
    # signed score (-1..1); [2.5, 3.5] reads 1-5 stars.
    sentiment_thresholds: tuple[float, float] = (0.0, 0.0)
    platform: str = ""  # the platform when the file has no platform column (or the cell is empty)
    kind_default: str = "mention"  # interactions: the kind when the file has no kind column
    html_unescape: bool = False  # texts written with HTML entities (&amp;), as Twitter exports do
    # A link built for rows without one: {handle} and {external_id} are replaced (one pass, nothing else).
    url_template: str = ""
    # Cells written by crm.formatting.csv_cell (a quote put before what a spreadsheet would run as a formula) are
    # read without that quote: the CRM's own exports.
    csv_quoted: bool = False
    encoding: str = "utf-8"  # utf-8 (with or without BOM), cp1252 or latin-1
    delimiter: str = ""  # "" guesses from the header line: comma, semicolon, tab or |


class Issue(Struct):
    line: int
    problem: str  # rejected | erased | conflict
    column: str
    reason: str
    cells: list[str] = field(default_factory=list)


class Report(Struct, kw_only=True):
    """What an import did (or, for a dry run, would do). ``issues`` holds the first ones only (see
    ``issues_total``); a job keeps them all (``queries.issues``)."""

    kind: str
    file_name: str
    dry_run: bool
    job_id: int | None = None
    status: str = "done"
    rows_read: int = 0
    members_created: int = 0
    members_updated: int = 0
    interactions_added: int = 0
    duplicates: int = 0
    conflicts: int = 0
    rejected: int = 0
    erased: int = 0
    seconds: float = 0.0
    resumed_from_row: int = 0  # a run that picked up a killed job skipped the rows it had committed
    issues: list[Issue] = field(default_factory=list)

    @property
    def issues_total(self) -> int:
        return self.conflicts + self.rejected + self.erased

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds > 0 else 0.0

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNTS}


COUNTS = (
    "rows_read",
    "members_created",
    "members_updated",
    "interactions_added",
    "duplicates",
    "conflicts",
    "rejected",
    "erased",
)


class JobRead(Struct, kw_only=True):
    """A job with its live progress: rate and time left are estimated from the bytes read so far."""

    id: int
    kind: ImportKind
    status: JobStatus
    file_name: str
    preset: str
    mapping_name: str
    rows_read: int
    members_created: int
    members_updated: int
    interactions_added: int
    duplicates: int
    conflicts: int
    rejected: int
    erased: int
    error: str
    created_by: int | None
    actor_label: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    progress: float | None  # 0..1 of the file's bytes
    rows_per_second: float | None
    seconds_left: float | None


class IssueRead(Struct):
    line: int  # the line of the file where the row starts (the header is line 1)
    problem: Problem
    column: str
    reason: str


class ImportRead(JobRead, kw_only=True):
    """A job as the API shows it: its progress and counts, and its first issues (all of them in
    ``rejected.csv``, conflicts aside)."""

    issues: list[IssueRead] = field(default_factory=list)
    issues_total: int = 0


class ImportAccepted(Struct, kw_only=True):
    """The answer to an upload: the queued job (poll ``GET /api/v1/imports/{id}``), or for a dry run, which
    writes nothing and creates no job, the report of what the import would do."""

    id: int | None
    status: JobStatus
    dry_run: bool = False
    report: Report | None = None
