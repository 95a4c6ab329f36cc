"""JSON shapes for suggestions and briefings."""

from __future__ import annotations

from datetime import datetime

from msgspec import UNSET, Struct, UnsetType

from crm.briefings.vocab import Channel, ExclusionReason, Outcome, Verdict


class SuggestionRead(Struct):
    member_id: int
    name: str
    score: float
    factors: dict[str, float]
    reasons: list[str]


class ExclusionRead(Struct):
    member_id: int
    reason: ExclusionReason


class SuggestionList(Struct):
    items: list[SuggestionRead]
    excluded: list[ExclusionRead] | UnsetType = UNSET


class FeedbackRequest(Struct, forbid_unknown_fields=True):
    verdict: Verdict


class BriefingCreate(Struct, forbid_unknown_fields=True):
    member_id: int
    channel: Channel
    note: str = ""


class BriefingUpdate(Struct, forbid_unknown_fields=True):
    outcome: Outcome
    evidence_interaction_ids: list[int] | None = None


class BriefingRead(Struct):
    id: int
    member_id: int
    incident_id: int
    talking_points_version: int
    channel: Channel
    note: str
    briefed_at: datetime
    briefed_by_id: int | None
    outcome: Outcome
    evidence_interaction_ids: list[int]
    message: str


class RebriefItem(Struct):
    member_id: int
    briefing_id: int
    briefed_version: int
    current_version: int
    changes: dict[str, list[list[str]]]


def briefing_read(row: dict) -> BriefingRead:
    return BriefingRead(
        id=row["id"],
        member_id=row["member"],
        incident_id=row["incident"],
        talking_points_version=row["version"],
        channel=row["channel"],
        note=row["note"],
        briefed_at=row["briefed_at"],
        briefed_by_id=row["briefed_by"],
        outcome=row["outcome"],
        evidence_interaction_ids=row["evidence"],
        message=row["message"],
    )
