from piccolo.columns import JSON, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from crm.accounts.tables import User
from crm.faq.tables import FaqEntry
from crm.incidents.tables import Incident
from crm.members.tables import Member


class LateQuestion(Table, tablename="late_question"):
    """A customer's question about an incident, asked after the fact, and the answer we sent."""

    text = Text()
    platform = Varchar(length=16, default="other")
    asker = Varchar(length=200, default="")  # the handle or name as given
    member = ForeignKey(references=Member, null=True, on_delete=OnDelete.set_null, index=True)
    asked_at = Timestamptz(index=True)
    url = Varchar(length=500, null=True, default=None)
    incident = ForeignKey(references=Incident, null=True, on_delete=OnDelete.set_null, index=True)
    suggested = JSON(default="[]")  # ids of the FAQ entries suggested when it was logged; [] = a gap in the FAQ
    logged_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    logged_at = Timestamptz(default=TimestamptzNow())
    faq = ForeignKey(references=FaqEntry, null=True, on_delete=OnDelete.set_null)
    answer_text = Text(default="")
    answered_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    answered_at = Timestamptz(null=True, default=None, index=True)
    deleted_at = Timestamptz(null=True, default=None)
