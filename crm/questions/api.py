"""JSON API for late questions and "our record since"."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from crm.accounts.auth import requires
from crm.audit.service import Actor
from crm.errors import InvalidInput
from crm.faq.schemas import SearchItem
from crm.incidents.track_record import Record, since_last_incident
from crm.questions import queries, service
from crm.questions.schemas import (
    LateQuestionAnswer,
    LateQuestionCreate,
    LateQuestionCreated,
    LateQuestionList,
    LateQuestionRead,
    question_fields,
    question_read,
)
from crm.web import sent_fields

WRITE = requires("questions.write", "log or answer late questions")
MAX_LIMIT = 200


class LateQuestionsAPI(Controller):
    path = "/api/v1"
    tags = ["late questions"]

    @post(
        "/late-questions",
        guards=[WRITE],
        summary="Log a late question; returns it with the matching published FAQ entries, best first",
    )
    async def create(
        self, request: Request, now: datetime, actor: Actor, data: JSONBody[LateQuestionCreate]
    ) -> LateQuestionCreated:
        row, suggestions = await service.log_question(values=sent_fields(data), actor=actor, now=now)
        related = [] if suggestions else await service.related(row["text"], incident_id=row["incident"])
        return LateQuestionCreated(
            **question_fields(row),
            suggestions=[SearchItem(**s) for s in suggestions],
            related=[SearchItem(**s) for s in related],
        )

    @get("/late-questions/{question_id:int}", summary="A late question and the answer recorded")
    async def show(self, question_id: FromPath[int]) -> LateQuestionRead:
        return question_read(await service.get(question_id))

    @patch(
        "/late-questions/{question_id:int}",
        guards=[WRITE],
        summary="Record the answer sent (a published FAQ entry and/or free text); marks it answered",
    )
    async def answer(
        self,
        request: Request,
        now: datetime,
        actor: Actor,
        zone: ZoneInfo,
        question_id: FromPath[int],
        data: JSONBody[LateQuestionAnswer],
    ) -> LateQuestionRead:
        row = await service.answer_question(
            question_id=question_id,
            values=sent_fields(data),
            actor=actor,
            now=now,
            zone=zone,
        )
        return question_read(row)

    @delete("/late-questions/{question_id:int}", guards=[WRITE], summary="Delete a late question (soft)")
    async def remove(self, request: Request, now: datetime, actor: Actor, question_id: FromPath[int]) -> None:
        await service.delete_question(question_id=question_id, actor=actor, now=now)

    @get("/late-questions", summary="Late questions, most recently asked first")
    async def index(
        self,
        incident_id: FromQuery[int | None] = None,
        unanswered: FromQuery[bool | None] = None,
        limit: FromQuery[int] = 50,
    ) -> LateQuestionList:
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput({"limit": f"Between 1 and {MAX_LIMIT}."})
        rows = await queries.list_questions(
            incident_id=incident_id, limit=limit, answered=None if unanswered is None else not unanswered
        )
        return LateQuestionList(items=[question_read(r) for r in rows])

    @get("/record", summary="Our record: when the last incident of any kind was detected, and how many days ago")
    async def our_record(self, request: Request, now: datetime) -> Record:
        return await since_last_incident(now=now)
