"""JSON shapes for members and interactions."""

from __future__ import annotations

from datetime import datetime

from msgspec import UNSET, Struct, UnsetType

from crm.members.engagement import Engagement
from crm.members.vocab import BulkStatus, Kind, Platform, Sentiment, State, Tier


class HandleIn(Struct, forbid_unknown_fields=True):
    platform: Platform
    handle: str
    followers: int | None = None
    url: str | None = None


class HandleRead(Struct):
    platform: Platform
    handle: str
    followers: int | None
    url: str | None


class MemberCreate(Struct, forbid_unknown_fields=True):
    name: str
    email: str | None = None
    tier: Tier = Tier.member
    topics: list[str] = []
    handles: list[HandleIn] = []
    consent_private_briefing: bool = False
    do_not_contact: bool = False
    notes: str = ""
    location: str = ""
    language: str = ""
    time_zone: str = ""
    owner_id: int | None = None


class MemberUpdate(Struct, forbid_unknown_fields=True):
    name: str | UnsetType = UNSET
    email: str | None | UnsetType = UNSET
    tier: Tier | UnsetType = UNSET
    topics: list[str] | UnsetType = UNSET
    handles: list[HandleIn] | UnsetType = UNSET
    consent_private_briefing: bool | UnsetType = UNSET
    do_not_contact: bool | UnsetType = UNSET
    notes: str | UnsetType = UNSET
    location: str | UnsetType = UNSET
    language: str | UnsetType = UNSET
    time_zone: str | UnsetType = UNSET
    owner_id: int | None | UnsetType = UNSET


EngagementRead = Engagement


class MemberRead(Struct):
    id: int
    name: str
    email: str | None
    tier: Tier
    topics: list[str]
    handles: list[HandleRead]
    location: str
    language: str
    time_zone: str
    owner_id: int | None
    notes: str
    consent_private_briefing: bool
    consent_recorded_at: datetime | None
    do_not_contact: bool
    created_at: datetime
    updated_at: datetime
    engagement: EngagementRead


class MemberListItem(Struct):
    id: int
    name: str
    email: str | None
    tier: Tier
    reach: int
    score: float
    interactions_total: int
    last_interaction_at: datetime | None
    state: State


class MemberPage(Struct):
    items: list[MemberListItem]
    next: str | None


class MergeRequest(Struct, forbid_unknown_fields=True):
    keep: int
    merge: int


class InteractionCreate(Struct, forbid_unknown_fields=True):
    kind: Kind
    occurred_at: datetime
    member_id: int | None = None
    platform: Platform | None = None
    handle: str | None = None
    sentiment: Sentiment = Sentiment.unknown
    text: str | None = None
    url: str | None = None
    external_id: str | None = None
    incident_id: int | None = None
    troll: bool = False


class InteractionRead(Struct):
    id: int
    member_id: int
    platform: Platform
    kind: Kind
    occurred_at: datetime
    sentiment: Sentiment
    text: str
    url: str | None
    external_id: str | None
    incident_id: int | None
    troll: bool
    created_at: datetime


class InteractionPage(Struct):
    items: list[InteractionRead]
    next: str | None


class BulkItemResult(Struct, omit_defaults=True):
    """One item of a bulk request, at its place in the request: ``id`` is the interaction created, or the one
    already stored (or created earlier in the request) for a duplicate; ``error`` maps each field at fault to
    what is wrong, as the single endpoint's ``error.fields`` does."""

    index: int
    status: BulkStatus
    id: int | None = None
    error: dict[str, str] | None = None


class BulkResults(Struct):
    items: list[BulkItemResult]


def interaction_read(row: dict) -> InteractionRead:
    return InteractionRead(
        id=row["id"],
        member_id=row["member"],
        platform=row["platform"],
        kind=row["kind"],
        occurred_at=row["occurred_at"],
        sentiment=row["sentiment"],
        text=row["text"],
        url=row["url"],
        external_id=row["external_id"],
        incident_id=row["incident_id"],
        troll=row["troll"],
        created_at=row["created_at"],
    )
