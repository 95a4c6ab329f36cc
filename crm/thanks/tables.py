from piccolo.columns import ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from crm.accounts.tables import User
from crm.briefings.tables import Briefing
from crm.incidents.tables import Incident
from crm.members.tables import Member


class ThankYou(Table, tablename="thank_you"):
    """A thank-you sent to a member, optionally for an incident and a briefing. Soft-deleted only."""

    member = ForeignKey(references=Member, on_delete=OnDelete.restrict, index=True)
    incident = ForeignKey(references=Incident, null=True, on_delete=OnDelete.set_null, index=True)
    briefing = ForeignKey(references=Briefing, null=True, on_delete=OnDelete.set_null)
    channel = Varchar(length=16)
    message = Text(default="")
    gift = Varchar(length=200, default="")
    gift_value_cents = Integer(null=True, default=None)  # money as whole cents: no float rounding
    sent_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    sent_at = Timestamptz(default=TimestamptzNow(), index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    deleted_at = Timestamptz(null=True, default=None)


class ThankYouTemplate(Table, tablename="thank_you_template"):
    """The message a thank-you on one channel starts from; placeholders {member_name}, {incident_title}."""

    channel = Varchar(length=16, unique=True)
    body = Text(default="")
    updated_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    updated_at = Timestamptz(default=TimestamptzNow())


class ThanksDismissal(Table, tablename="thanks_dismissal"):
    """A due thank-you someone decided not to send, with why."""

    member = ForeignKey(references=Member, on_delete=OnDelete.cascade, index=True)
    incident = ForeignKey(references=Incident, on_delete=OnDelete.cascade, index=True)
    key = Varchar(length=40, unique=True)  # "<incident id>:<member id>"
    reason = Text()
    by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    at = Timestamptz(default=TimestamptzNow())
