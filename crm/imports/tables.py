"""Import jobs, the issues they found (rejected rows, erased people, conflicting duplicates) and saved mappings.

A job row is updated in the same transaction as each batch it writes, so its counts always match what is in
the database: a page or an API can show live progress, and an import that was killed resumes after the last
batch it committed.
"""

from piccolo.columns import JSON, BigInt, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from crm.accounts.tables import User


class ImportJob(Table, tablename="import_job"):
    kind = Varchar(length=16)  # members | interactions
    status = Varchar(length=16, default="queued", index=True)  # queued | running | done | failed
    file_name = Varchar(length=300, default="")
    file_size = BigInt(default=0)
    file_digest = Varchar(length=64, default="", index=True)  # SHA-256 of the bytes: a resumed run is the same file
    source_path = Varchar(length=1000, null=True, default=None)  # where an uploaded file waits for its runner
    header = JSON(default="[]")  # the file's column names, for the rejected-rows CSV
    preset = Varchar(length=50, default="")
    mapping_name = Varchar(length=100, default="")
    mapping = JSON(default="{}")
    mapping_digest = Varchar(length=64, default="")
    batch_size = Integer(default=1000)
    # Progress, committed with each batch.
    rows_read = Integer(default=0)  # data rows consumed (good or bad): a resumed run skips this many
    last_line = Integer(default=0)
    bytes_read = BigInt(default=0)
    members_created = Integer(default=0)
    members_updated = Integer(default=0)
    interactions_added = Integer(default=0)
    duplicates = Integer(default=0)
    conflicts = Integer(default=0)
    rejected = Integer(default=0)
    erased = Integer(default=0)
    error = Text(default="")
    resumed = Integer(default=0)  # how many times a run picked it up again after a crash
    created_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    actor_label = Varchar(length=300, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    started_at = Timestamptz(null=True, default=None)
    heartbeat_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
    # Who runs it now: a run whose process is gone (same host, no such pid) may be resumed.
    host = Varchar(length=255, default="")
    pid = Integer(null=True, default=None)
    runner = Varchar(length=64, default="")  # a token per run: two runs cannot both pick up the same job


class ImportIssue(Table, tablename="import_issue"):
    job = ForeignKey(references=ImportJob, on_delete=OnDelete.cascade, index=True)
    line = Integer()  # the line of the file where the row starts (the header is line 1)
    problem = Varchar(length=16)  # rejected | erased | conflict
    column_name = Varchar(length=300, default="")  # the CSV column at fault, or the field when no column fed it
    reason = Text(default="")
    cells = JSON(default="[]")  # the row as read, for the rejected-rows CSV


class ImportMapping(Table, tablename="import_mapping"):
    """A mapping saved under a name, to import the next file of the same shape the same way."""

    name = Varchar(length=100, unique=True)
    kind = Varchar(length=16)
    mapping = JSON(default="{}")
    created_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
