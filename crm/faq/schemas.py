"""JSON shapes for FAQ entries and their search."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from msgspec import UNSET, Struct, UnsetType

from crm.faq.vocab import STATUSES, RevisionAction, Status
from crm.web import one_of


class FaqCreate(Struct, forbid_unknown_fields=True):
    question: str
    answer: str
    tags: list[str] = []
    # Any text reaches the service, which checks it with the other fields so that one answer names every bad field.
    status: Annotated[str, one_of(STATUSES)] = "draft"
    talking_points_version: int | None = None


class FaqUpdate(Struct, forbid_unknown_fields=True):
    question: str | UnsetType = UNSET
    answer: str | UnsetType = UNSET
    tags: list[str] | UnsetType = UNSET
    status: Annotated[str | UnsetType, one_of(STATUSES)] = UNSET  # as in FaqCreate
    talking_points_version: int | None | UnsetType = UNSET
    reviewed: bool | UnsetType = UNSET  # true: "I checked this answer is still right" (reviewed by me, now)


class RevisionRead(Struct):
    at: datetime
    by_id: int | None
    action: RevisionAction
    changes: dict[str, Any]  # field -> {"before", "after"}


class FaqRead(Struct):
    id: int
    incident_id: int
    question: str
    answer: str  # Markdown source
    tags: list[str]
    status: Status
    author_id: int | None
    created_at: datetime
    updated_at: datetime
    reviewed_by_id: int | None
    reviewed_at: datetime | None
    talking_points_version: int | None
    review_due: bool = False  # published and last reviewed faq_review_days (a setting) or more ago
    history: list[RevisionRead] = []


class SearchItem(Struct):
    """One result; crm.faq.search.search() returns dicts with exactly these keys."""

    id: int
    incident_id: int
    incident_title: str
    incident_detected_at: datetime
    question: str
    answer: str  # Markdown source
    tags: list[str]
    status: Status  # published, or draft when drafts were asked for
    created_at: datetime
    reviewed_at: datetime | None
    snippet: str  # HTML: the escaped answer text with <mark>…</mark> around the matched words
    rank: float  # higher is better (comparable within one response only); 0 when browsing without words


class SearchResults(Struct):
    items: list[SearchItem]


def faq_read(entry: dict, history: list[dict], *, review_due: bool = False) -> FaqRead:
    return FaqRead(
        id=entry["id"],
        incident_id=entry["incident"],
        question=entry["question"],
        answer=entry["answer"],
        tags=entry["tags"],
        status=entry["status"],
        author_id=entry["author"],
        created_at=entry["created_at"],
        updated_at=entry["updated_at"],
        reviewed_by_id=entry["reviewed_by"],
        reviewed_at=entry["reviewed_at"],
        talking_points_version=entry["talking_points_version"],
        review_due=review_due,
        history=[RevisionRead(at=r["at"], by_id=r["by"], action=r["action"], changes=r["changes"]) for r in history],
    )
