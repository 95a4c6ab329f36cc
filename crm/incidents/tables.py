from piccolo.columns import JSON, Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from crm.accounts.tables import User
from crm.members.tables import Member


class Incident(Table, tablename="incident"):
    title = Varchar(length=200)
    summary = Text(default="")
    severity = Varchar(length=16, index=True)
    status = Varchar(length=16, default="detected", index=True)
    topics = JSON(default="[]")  # lower-case tags, the members' vocabulary
    platforms = JSON(default="[]")
    links = JSON(default="[]")  # the offending post(s)
    owner = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    created_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    detected_at = Timestamptz(index=True)
    acknowledged_at = Timestamptz(null=True, default=None)
    acknowledged_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    responding_at = Timestamptz(null=True, default=None)
    responding_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    resolved_at = Timestamptz(null=True, default=None)
    resolved_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    reviewed_at = Timestamptz(null=True, default=None)
    reviewed_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    freeze_promotion = Boolean(default=False)
    freeze_lifted_at = Timestamptz(null=True, default=None)
    freeze_lifted_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    review_what_happened = Text(default="")
    review_what_changed = Text(default="")
    review_lessons = Text(default="")
    faq_public = Boolean(default=False)  # a manager put its published FAQ on the public page


class Statement(Table, tablename="incident_statement"):
    incident = ForeignKey(references=Incident, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=20)
    text = Text()
    signed_by = Varchar(length=200, default="")  # the named person who signs (required for an apology)
    author = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    status = Varchar(length=16, default="draft")
    published_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class CorrectiveAction(Table, tablename="incident_action"):
    incident = ForeignKey(references=Incident, on_delete=OnDelete.cascade, index=True)
    what = Text()
    owner = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    due_on = Date(null=True, default=None)
    status = Varchar(length=16, default="open")
    done_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class TalkingPoints(Table, tablename="talking_points"):
    incident = ForeignKey(references=Incident, on_delete=OnDelete.cascade, index=True)
    version = Integer()
    key = Varchar(length=40, unique=True)  # "<incident id>:<version>"
    points = JSON(default="[]")
    avoid = JSON(default="[]")
    links = JSON(default="[]")
    status = Varchar(length=16, default="draft", index=True)
    author = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    approved_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    approved_at = Timestamptz(null=True, default=None)
    superseded_at = Timestamptz(null=True, default=None)


class IncidentConversation(Table, tablename="incident_conversation"):
    """Per incident and member, their interactions in the incident's conversation (linked to it, or on its
    platforms since detection; never trolls): the rollup whom-to-brief reads instead of the log. A row exists
    only while one count is above zero. Kept by crm/incidents/conversation.py in each write's transaction."""

    incident = ForeignKey(references=Incident, on_delete=OnDelete.cascade, index=True)
    member = ForeignKey(references=Member, on_delete=OnDelete.cascade, index=True)
    key = Varchar(length=40, unique=True)  # "<incident id>:<member id>"
    supportive = Integer(default=0)  # positive or neutral
    critical = Integer(default=0)  # negative and linked to the incident
