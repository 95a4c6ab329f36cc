"""JSON API for thank-yous and the due queue (the same services as the pages)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from litestar import Controller, Request, delete, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from crm.accounts.auth import requires
from crm.audit.service import Actor
from crm.errors import NotFound
from crm.members import queries as member_queries
from crm.thanks import queries, service
from crm.thanks.schemas import (
    DismissalRead,
    DismissRequest,
    DueList,
    ThankYouCreate,
    ThankYouRead,
    due_item,
    thank_you_read,
)
from crm.web import sent_fields

WRITE = requires("thanks.write", "record or dismiss thank-yous")


class ThanksAPI(Controller):
    path = "/api/v1"
    tags = ["thank-yous"]

    @post(
        "/thank-yous",
        guards=[WRITE],
        status_code=HTTP_201_CREATED,
        summary="Record a thank-you (409 for a do-not-contact member)",
    )
    async def create(
        self, request: Request, now: datetime, actor: Actor, data: JSONBody[ThankYouCreate]
    ) -> ThankYouRead:
        row = await service.record_thanks(**sent_fields(data), actor=actor, now=now)
        return thank_you_read(row)

    @get("/thank-yous/due", summary="Thank-yous due, most overdue first, each saying why")
    async def due(self, request: Request, now: datetime, zone: ZoneInfo) -> DueList:
        items = await queries.due_items(now=now, zone=zone)
        return DueList(items=[due_item(i) for i in items])

    @post(
        "/thank-yous/due/dismiss",
        guards=[WRITE],
        status_code=HTTP_201_CREATED,
        summary="Decide not to send a due thank-you, with a reason (409 when nothing is due for the pair)",
    )
    async def dismiss(
        self, request: Request, now: datetime, actor: Actor, data: JSONBody[DismissRequest]
    ) -> DismissalRead:
        done = await service.dismiss(
            member_id=data.member_id,
            incident_id=data.incident_id,
            reason=data.reason,
            actor=actor,
            now=now,
        )
        return DismissalRead(**done)

    @get("/thank-yous/{thank_you_id:int}", summary="One thank-you")
    async def show(self, thank_you_id: FromPath[int]) -> ThankYouRead:
        return thank_you_read(await service.get(thank_you_id))

    @delete(
        "/thank-yous/{thank_you_id:int}",
        guards=[WRITE],
        summary="Remove a thank-you recorded in error (kept for the record; the help is due again)",
    )
    async def remove(self, request: Request, now: datetime, actor: Actor, thank_you_id: FromPath[int]) -> None:
        await service.delete_thanks(thank_you_id=thank_you_id, actor=actor, now=now)

    @get("/members/{member_id:int}/thank-yous", summary="A member's thank-yous, newest first")
    async def of_member(self, member_id: FromPath[int]) -> list[ThankYouRead]:
        if not 0 < member_id < 2**31 or not await member_queries.is_live(member_id):
            raise NotFound(f"No member with id {member_id}.")
        return [thank_you_read(r) for r in await queries.thanks_of_member(member_id)]
