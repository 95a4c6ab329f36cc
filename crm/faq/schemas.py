"""JSON shapes for FAQ entries and their search."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from msgspec import UNSET, Struct, UnsetType

from crm.faq.service import MAX_TAG, normal_tag
from crm.faq.vocab import STATUSES, RevisionAction, Status
from crm.forms import is_id
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


# ---- the search's parameters, the same for the search page and GET /api/v1/faq/search ----------------

MAX_QUERY = 500
SEARCH_LIMIT = 20  # the page's page size and the API's default
MAX_SEARCH_LIMIT = 50


class SearchParams(Struct):
    q: str = ""
    incident_id: int | None = None
    tag: str = ""  # as stored (service.normal_tag); "" for any
    review_due: bool = False
    drafts: bool = False
    limit: int = SEARCH_LIMIT


def search_params(
    errors: dict[str, str],
    *,
    q: str = "",
    incident_id: int | str | None = None,
    tag: str = "",
    review_due: bool = False,
    drafts: bool = False,
    limit: int = SEARCH_LIMIT,
) -> SearchParams:
    """The parameters checked, with a message under each bad one's name in ``errors`` (the page shows it next to
    the field, the API answers 422). ``incident_id`` may be the page's text; the API's is already a number."""
    if len(q) > MAX_QUERY:
        errors["q"] = f"Use at most {MAX_QUERY} characters."
    tag = normal_tag(tag)
    if len(tag) > MAX_TAG:
        errors["tag"] = f"Tags have at most {MAX_TAG} characters."
    if isinstance(incident_id, str):
        text, incident_id = incident_id.strip(), None
        if is_id(text):
            incident_id = int(text)
        elif text:
            errors["incident_id"] = "Choose an incident from the list."
    if not 1 <= limit <= MAX_SEARCH_LIMIT:
        errors["limit"] = f"Between 1 and {MAX_SEARCH_LIMIT}."
    return SearchParams(q=q, incident_id=incident_id, tag=tag, review_due=review_due, drafts=drafts, limit=limit)


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
