"""JSON API for FAQ entries and their search."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, Request, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from crm.accounts.auth import requires
from crm.audit.service import Actor
from crm.errors import InvalidInput, PermissionDenied
from crm.faq import queries, search, service
from crm.faq.schemas import (
    SEARCH_LIMIT,
    FaqCreate,
    FaqRead,
    FaqUpdate,
    SearchItem,
    SearchResults,
    faq_read,
    search_params,
)
from crm.web import sent_fields

WRITE = requires("faq.write", "change FAQ entries")
PROPOSE = requires("faq.propose", "propose FAQ entries")


async def entry_read(entry_id: int, now: datetime) -> FaqRead:
    entry = await queries.get(entry_id)
    due = service.review_due(entry, now=now, days=await service.review_days())
    return faq_read(entry, await queries.history(entry_id), review_due=due)


class FaqAPI(Controller):
    path = "/api/v1"
    tags = ["faq"]

    @post(
        "/incidents/{incident_id:int}/faq",
        guards=[PROPOSE],
        summary="Add a FAQ entry to an incident (agents may only propose drafts)",
    )
    async def create(
        self, request: Request, now: datetime, actor: Actor, incident_id: FromPath[int], data: JSONBody[FaqCreate]
    ) -> FaqRead:
        entry = await service.create_entry(
            incident_id=incident_id,
            values=sent_fields(data),
            actor=actor,
            now=now,
            may_publish=request.user.can("faq.write"),
        )
        return await entry_read(entry["id"], now)

    @get(
        "/faq/search",
        summary="Full-text search of FAQ entries, best first (drafts: managers and admins); "
        "with no q, a filter (incident_id, tag, review_due) lists entries newest first",
    )
    async def search(
        self,
        request: Request,
        now: datetime,
        q: FromQuery[str] = "",
        incident_id: FromQuery[int | None] = None,
        tag: FromQuery[str] = "",
        review_due: FromQuery[bool] = False,
        limit: FromQuery[int] = SEARCH_LIMIT,
        drafts: FromQuery[bool] = False,
    ) -> SearchResults:
        errors: dict[str, str] = {}
        asked = search_params(
            errors, q=q, incident_id=incident_id, tag=tag, review_due=review_due, drafts=drafts, limit=limit
        )
        if errors:
            raise InvalidInput(errors)
        if asked.drafts and not request.user.can("faq.write"):
            raise PermissionDenied("Only managers and admins see draft FAQ entries.")
        due = service.due_before(now, await service.review_days()) if asked.review_due else None
        rows = await search.search(
            asked.q,
            incident_id=asked.incident_id,
            tag=asked.tag or None,
            include_drafts=asked.drafts,
            due_before=due,
            limit=asked.limit,
        )
        return SearchResults(items=[SearchItem(**r) for r in rows])

    @get("/faq/{entry_id:int}", summary="A FAQ entry with its change history")
    async def show(self, request: Request, now: datetime, entry_id: FromPath[int]) -> FaqRead:
        entry = await queries.get(entry_id)
        if not service.may_see(entry, can_write=request.user.can("faq.write"), user_id=request.user.id):
            raise PermissionDenied("This entry is a draft that has not been approved yet.")
        return await entry_read(entry_id, now)

    @patch("/faq/{entry_id:int}", guards=[WRITE], summary="Change, publish, retire or mark reviewed a FAQ entry")
    async def update(
        self, request: Request, now: datetime, actor: Actor, entry_id: FromPath[int], data: JSONBody[FaqUpdate]
    ) -> FaqRead:
        await service.update_entry(
            entry_id=entry_id,
            values=sent_fields(data),
            actor=actor,
            now=now,
        )
        return await entry_read(entry_id, now)
