from piccolo.columns import JSON, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from crm.accounts.tables import User
from crm.incidents.tables import Incident, TalkingPoints
from crm.members.tables import Member


class Briefing(Table, tablename="briefing"):
    """A member was privately given one talking-points version, on a channel, by someone."""

    member = ForeignKey(references=Member, on_delete=OnDelete.restrict, index=True)
    incident = ForeignKey(references=Incident, on_delete=OnDelete.cascade, index=True)
    talking_points = ForeignKey(references=TalkingPoints, on_delete=OnDelete.restrict)
    version = Integer()
    channel = Varchar(length=16)
    note = Text(default="")
    message = Text(default="")  # the brief exactly as composed for this member
    briefed_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    briefed_at = Timestamptz(default=TimestamptzNow(), index=True)
    outcome = Varchar(length=16, default="sent")
    outcome_at = Timestamptz(null=True, default=None)
    evidence = JSON(default="[]")  # ids of the member's supportive interactions


class SuggestionFeedback(Table, tablename="suggestion_feedback"):
    """Accept / skip / not a good fit on one suggestion; the latest verdict per member and incident counts."""

    incident = ForeignKey(references=Incident, on_delete=OnDelete.cascade, index=True)
    member = ForeignKey(references=Member, on_delete=OnDelete.cascade, index=True)
    key = Varchar(length=40, unique=True)  # "<incident id>:<member id>"
    verdict = Varchar(length=16)
    by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    at = Timestamptz(default=TimestamptzNow())
