from piccolo.columns import JSON, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from crm.accounts.tables import User
from crm.incidents.tables import Incident


class FaqEntry(Table, tablename="faq_entry"):
    """One approved (or proposed) answer. The search index is not a Piccolo column: SQLite keeps
    the FTS5 table faq_fts and PostgreSQL a ``search`` tsvector column (and, for prefixes cut mid-word, the
    unstemmed words: FTS5 faq_words, a ``words`` tsvector), all created by raw DDL in migrations and
    maintained by crm/faq/search.py inside every write's transaction."""

    incident = ForeignKey(references=Incident, on_delete=OnDelete.cascade, index=True)
    question = Varchar(length=500)
    answer = Text()  # Markdown source
    tags = JSON(default="[]")
    status = Varchar(length=16, default="draft", index=True)
    author = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    reviewed_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    reviewed_at = Timestamptz(null=True, default=None)
    talking_points_version = Integer(null=True, default=None)


class FaqRevision(Table, tablename="faq_revision"):
    """The change history of an entry: who changed what, when (before/after of the changed fields)."""

    entry = ForeignKey(references=FaqEntry, on_delete=OnDelete.cascade, index=True)
    at = Timestamptz(default=TimestamptzNow())
    by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    action = Varchar(length=16)  # create, update, retire
    changes = JSON(default="{}")  # {"field": {"before": ..., "after": ...}}
