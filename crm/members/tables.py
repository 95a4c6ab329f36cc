"""Members, their handles and topics, their interactions, and the engagement rollup.

The rollup lives in two places, both written in the same transaction as each
interaction: columns on ``Member`` (totals, first/last, the score in log space)
and one ``MemberDay`` row per member per UTC day (counts by sentiment), from
which windows, trends and the weekly chart are read without touching the log.
"""

from piccolo.columns import (
    JSON,
    Boolean,
    Date,
    DoublePrecision,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from crm.accounts.tables import User


class Member(Table, tablename="member"):
    name = Varchar(length=200)
    email = Varchar(length=254, null=True, default=None, unique=True)  # lower-cased
    tier = Varchar(length=16, default="member", index=True)
    location = Varchar(length=200, default="")
    language = Varchar(length=35, default="")
    time_zone = Varchar(length=64, default="")
    owner = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    notes = Text(default="")
    consent_private_briefing = Boolean(default=False)
    consent_recorded_at = Timestamptz(null=True, default=None)
    consent_recorded_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    do_not_contact = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    deleted_at = Timestamptz(null=True, default=None, index=True)
    erased_at = Timestamptz(null=True, default=None)
    merged_into = Integer(null=True, default=None)  # the member this duplicate was merged into
    # Rollup (see crm/members/engagement.py): maintained with every interaction write.
    interactions_total = Integer(default=0)
    first_interaction_at = Timestamptz(null=True, default=None)
    last_interaction_at = Timestamptz(null=True, default=None, index=True)
    score_log2 = DoublePrecision(default=-1e9, index=True)  # log2 of the score at the epoch; -1e9 = none
    usual_gap_seconds = DoublePrecision(null=True, default=None)
    quiet_after = Timestamptz(null=True, default=None)
    reach = Integer(default=0, index=True)


class MemberTopic(Table, tablename="member_topic"):
    member = ForeignKey(references=Member, on_delete=OnDelete.cascade, index=True)
    topic = Varchar(length=50, index=True)
    key = Varchar(length=80, unique=True)  # "<member id>:<topic>"


class Handle(Table, tablename="member_handle"):
    member = ForeignKey(references=Member, on_delete=OnDelete.cascade, index=True)
    platform = Varchar(length=16)
    handle = Varchar(length=200)
    key = Varchar(length=220, unique=True)  # "<platform>:<lower-cased handle without @>"
    followers = Integer(null=True, default=None)
    url = Varchar(length=500, null=True, default=None)


class Interaction(Table, tablename="interaction"):
    member = ForeignKey(references=Member, on_delete=OnDelete.restrict, index=True)
    platform = Varchar(length=16)
    kind = Varchar(length=16)
    occurred_at = Timestamptz(index=True)
    sentiment = Varchar(length=16, default="unknown")
    sentiment_reason = Varchar(length=200, default="")  # why, when the source says (e.g. "Late Flight")
    text = Text(default="")
    url = Varchar(length=500, null=True, default=None)
    external_id = Varchar(length=200, null=True, default=None)
    external_key = Varchar(length=220, null=True, default=None, unique=True)  # "<platform>:<external id>"
    incident_id = Integer(null=True, default=None, index=True)
    """The incident this interaction is about, if any. A plain integer, not a foreign key: members sit below
    incidents in the layers, so this table cannot name theirs. Logging an interaction checks the id with the check
    the incidents domain registers (crm/members/links.py); no code deletes an incident, so the link stays good."""
    troll = Boolean(default=False)
    logged_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())


class MemberDay(Table, tablename="member_day"):
    member = ForeignKey(references=Member, on_delete=OnDelete.cascade, index=True)
    day = Date()
    key = Varchar(length=40, unique=True)  # "<member id>:<YYYY-MM-DD>"
    total = Integer(default=0)
    positive = Integer(default=0)
    negative = Integer(default=0)
    neutral = Integer(default=0)
    unknown = Integer(default=0)
    troll = Integer(default=0)


class MemberMerge(Table, tablename="member_merge"):
    """A merge of a duplicate into a kept member, with what moved, so it can be undone."""

    kept = ForeignKey(references=Member, on_delete=OnDelete.cascade, index=True)
    merged = ForeignKey(references=Member, on_delete=OnDelete.cascade, index=True)
    moved_handle_ids = JSON(default="[]")
    moved_interaction_ids = JSON(default="[]")
    moved_topics = JSON(default="[]")
    moved_records = JSON(default="{}")  # {"briefing": [ids], "thank_you": [...], ...}: crm/members/follow.py
    merged_by = ForeignKey(references=User, null=True, on_delete=OnDelete.set_null)
    merged_at = Timestamptz(default=TimestamptzNow())
    undone_at = Timestamptz(null=True, default=None)


class ErasedIdentity(Table, tablename="erased_identity"):
    """Salted hashes of an erased person's identifiers, so an import can tell them apart."""

    digest = Varchar(length=64, unique=True)
    erased_at = Timestamptz(default=TimestamptzNow())
