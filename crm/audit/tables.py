from piccolo.columns import JSON, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from crm.accounts.tables import User


class AuditEntry(Table, tablename="audit_log"):
    at = Timestamptz(default=TimestamptzNow(), index=True)
    actor = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null, index=True)
    # Kept as text too, so the entry still reads well if the user is gone.
    actor_label = Varchar(length=300, default="")
    action = Varchar(length=64, index=True)
    entity = Varchar(length=64, index=True)
    record_id = Varchar(length=64, null=True, default=None, index=True)
    before = JSON(null=True, default=None)
    after = JSON(null=True, default=None)
    ip = Varchar(length=64, null=True, default=None)
