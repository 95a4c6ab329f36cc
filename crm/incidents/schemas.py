"""JSON shapes for incidents and talking points."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import UNSET, Struct, UnsetType

from crm.incidents.queries import Clock
from crm.incidents.track_record import RecordSince
from crm.incidents.vocab import STATUSES, Severity, Status, TalkingPointStatus
from crm.members.vocab import Platform
from crm.web import one_of


class IncidentCreate(Struct, forbid_unknown_fields=True):
    title: str
    severity: Severity
    summary: str = ""
    topics: list[str] = []
    platforms: list[Platform] = []
    links: list[str] = []
    detected_at: datetime | None = None
    freeze_promotion: bool | None = None


class IncidentUpdate(Struct, forbid_unknown_fields=True):
    title: str | UnsetType = UNSET
    summary: str | UnsetType = UNSET
    severity: Severity | UnsetType = UNSET
    topics: list[str] | UnsetType = UNSET
    platforms: list[Platform] | UnsetType = UNSET
    links: list[str] | UnsetType = UNSET
    review_what_happened: str | UnsetType = UNSET
    review_what_changed: str | UnsetType = UNSET
    review_lessons: str | UnsetType = UNSET


ClockRead = Clock


class IncidentRead(Struct):
    id: int
    title: str
    summary: str
    severity: Severity
    status: Status
    topics: list[str]
    platforms: list[Platform]
    links: list[str]
    owner_id: int | None
    freeze_promotion: bool
    clock: ClockRead
    interactions: dict[str, int]
    record_since: RecordSince | UnsetType = UNSET  # "our record since": only on GET /incidents/{id}


class TransitionRequest(Struct, forbid_unknown_fields=True):
    # Any text reaches the service: a move the workflow does not allow, to a status or not, is a 409 naming the
    # moves that are allowed.
    to: Annotated[str, one_of(STATUSES)]


class LinkRequest(Struct, forbid_unknown_fields=True):
    interaction_ids: list[int]


class TalkingPointsCreate(Struct, forbid_unknown_fields=True):
    points: list[str]
    avoid: list[str] = []
    links: list[str] = []


class TalkingPointsRead(Struct):
    incident_id: int
    version: int
    status: TalkingPointStatus
    points: list[str]
    avoid: list[str]
    links: list[str]
    author_id: int | None
    created_at: datetime
    approved_by_id: int | None
    approved_at: datetime | None


class FreezeStatus(Struct):
    promotion_freeze: bool
    incidents: list[dict]


def talking_points_read(row: dict) -> TalkingPointsRead:
    return TalkingPointsRead(
        incident_id=row["incident"],
        version=row["version"],
        status=row["status"],
        points=row["points"],
        avoid=row["avoid"],
        links=row["links"],
        author_id=row["author"],
        created_at=row["created_at"],
        approved_by_id=row["approved_by"],
        approved_at=row["approved_at"],
    )
