"""JSON shapes for late questions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import UNSET, Struct, UnsetType

from crm.faq.schemas import SearchItem
from crm.members.vocab import PLATFORMS, Platform
from crm.web import one_of


class LateQuestionCreate(Struct, forbid_unknown_fields=True):
    text: str
    # Any text reaches the service, which checks it with the other fields so that one answer names every bad field.
    platform: Annotated[str, one_of(PLATFORMS)] = "other"
    asker: str = ""  # the handle or name as given; a known handle on `platform` links the member
    member_id: int | None = None
    asked_at: datetime | None = None  # default: now; with a time zone offset; not in the future
    url: str | None = None
    incident_id: int | None = None


class LateQuestionAnswer(Struct, forbid_unknown_fields=True):
    """At least one of the two. With only ``faq_id`` the text is the entry's answer plus the record-since
    sentence of its incident. Answering again replaces the answer (the audit log keeps the earlier one)."""

    answer_text: str | UnsetType = UNSET
    faq_id: int | None | UnsetType = UNSET


class LateQuestionRead(Struct):
    id: int
    text: str
    platform: Platform
    asker: str
    member_id: int | None
    asked_at: datetime
    url: str | None
    incident_id: int | None
    suggested: list[int]  # the FAQ entries suggested when it was logged, best first; [] = a gap in the FAQ
    logged_by_id: int | None
    logged_at: datetime
    answered: bool
    faq_id: int | None
    answer_text: str
    answered_by_id: int | None
    answered_at: datetime | None


class LateQuestionCreated(LateQuestionRead):
    suggestions: list[SearchItem] = []  # the entries stored as ``suggested`` (all the meaningful words matched)
    related: list[SearchItem] = []  # for a gap only: entries sharing some of the words, worth a look


class LateQuestionList(Struct):
    items: list[LateQuestionRead]


def question_fields(row: dict) -> dict:
    return dict(
        id=row["id"],
        text=row["text"],
        platform=row["platform"],
        asker=row["asker"],
        member_id=row["member"],
        asked_at=row["asked_at"],
        url=row["url"],
        incident_id=row["incident"],
        suggested=row["suggested"],
        logged_by_id=row["logged_by"],
        logged_at=row["logged_at"],
        answered=row["answered_at"] is not None,
        faq_id=row["faq"],
        answer_text=row["answer_text"],
        answered_by_id=row["answered_by"],
        answered_at=row["answered_at"],
    )


def question_read(row: dict) -> LateQuestionRead:
    return LateQuestionRead(**question_fields(row))
