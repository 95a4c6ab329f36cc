"""JSON API for members and interactions (same services as the pages)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, Reference, RequestBody, Schema
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from crm.accounts.auth import requires
from crm.audit.service import Actor
from crm.errors import InvalidInput, NotFound
from crm.members import erasure, interactions, merge, queries, read, service
from crm.members.bulk import request as bulk_request
from crm.members.schemas import (
    BulkResults,
    InteractionCreate,
    InteractionPage,
    InteractionRead,
    MemberCreate,
    MemberPage,
    MemberRead,
    MemberUpdate,
    MergeRequest,
    interaction_read,
)
from crm.web import sent_fields

WRITE = requires("members.write", "change members or log interactions")
ERASE = requires("members.erase", "erase members")
BULK_MAX_BYTES = 16 * 1024 * 1024  # 1,000 interactions of up to 10,000 characters each, with room for the rest


@dataclass
class BulkOperation(Operation):
    """The bulk endpoint reads its body itself (so that one bad item is answered, not the whole request): its
    items are described here, as the single endpoint's ``InteractionCreate`` (a component the document has)."""

    def __post_init__(self) -> None:
        item = Reference(ref="#/components/schemas/InteractionCreate")
        self.request_body = RequestBody(
            required=True,
            description=f"Up to {bulk_request.MAX_ITEMS:,} interactions: a JSON array, or NDJSON (one per line).",
            content={
                bulk_request.JSON: OpenAPIMediaType(
                    schema=Schema(type=OpenAPIType.ARRAY, items=item, min_items=1, max_items=bulk_request.MAX_ITEMS)
                ),
                bulk_request.NDJSON: OpenAPIMediaType(schema=item),
            },
        )


def _values(struct: msgspec.Struct) -> dict:
    """What the client sent, with owner_id named as the service names it."""
    values = sent_fields(struct)
    if "owner_id" in values:
        values["owner"] = values.pop("owner_id")
    return values


class MembersAPI(Controller):
    path = "/api/v1"
    tags = ["members"]

    @post("/members", guards=[WRITE], summary="Add a member")
    async def create(self, request: Request, now: datetime, actor: Actor, data: JSONBody[MemberCreate]) -> MemberRead:
        created = await service.create_member(values=_values(data), actor=actor, now=now)
        return await read.member_read(created["id"], now)

    @get("/members/{member_id:int}", summary="A member with handles and engagement")
    async def show(self, request: Request, now: datetime, member_id: FromPath[int]) -> MemberRead:
        return await read.member_read(member_id, now)

    @get("/members", summary="Search and filter members (keyset pages)")
    async def index(
        self,
        request: Request,
        now: datetime,
        q: FromQuery[str] = "",
        tier: FromQuery[str] = "",
        topic: FromQuery[str] = "",
        platform: FromQuery[str] = "",
        consent: FromQuery[str] = "",
        state_: Annotated[str, QueryParameter(name="state")] = "",
        sort: FromQuery[str] = "score",
        limit: FromQuery[int] = 50,
        cursor: Annotated[str | None, QueryParameter()] = None,
    ) -> MemberPage:
        filters = queries.MemberFilter(
            q=q, tier=tier, topic=topic, platform=platform, consent=consent, state=state_, sort=sort
        )
        items, next_cursor = await read.list_page(filters, now=now, cursor=cursor, limit=limit)
        return MemberPage(items=items, next=next_cursor)

    @patch("/members/{member_id:int}", guards=[WRITE], summary="Change a member (only the fields sent)")
    async def update(
        self, request: Request, now: datetime, actor: Actor, member_id: FromPath[int], data: JSONBody[MemberUpdate]
    ) -> MemberRead:
        await service.update_member(member_id=member_id, values=_values(data), actor=actor, now=now)
        return await read.member_read(member_id, now)

    @delete("/members/{member_id:int}", guards=[WRITE], summary="Delete a member (soft: kept for the record)")
    async def remove(self, request: Request, now: datetime, actor: Actor, member_id: FromPath[int]) -> None:
        if await queries.get_member(member_id) is None:
            raise NotFound(f"No member with id {member_id}.")
        await service.delete_member(member_id=member_id, actor=actor, now=now)

    @post(
        "/members/{member_id:int}/erase",
        guards=[ERASE],
        status_code=HTTP_200_OK,
        summary="GDPR erasure (admin): personal data and interaction text removed for good",
    )
    async def erase(self, request: Request, now: datetime, actor: Actor, member_id: FromPath[int]) -> dict:
        await erasure.erase_member(member_id=member_id, actor=actor, now=now)
        return {"erased": member_id}

    @post(
        "/members/merge",
        guards=[WRITE],
        status_code=HTTP_200_OK,
        summary="Merge a duplicate into the member to keep (undoable)",
    )
    async def merge(self, request: Request, now: datetime, actor: Actor, data: JSONBody[MergeRequest]) -> MemberRead:
        await merge.merge_members(keep_id=data.keep, merge_id=data.merge, actor=actor, now=now)
        return await read.member_read(data.keep, now)

    @get("/members/{member_id:int}/interactions", summary="A member's interactions, newest first")
    async def member_interactions(
        self,
        member_id: FromPath[int],
        limit: FromQuery[int] = 50,
        cursor: Annotated[str | None, QueryParameter()] = None,
    ) -> InteractionPage:
        if not 1 <= limit <= 200:
            raise InvalidInput({"limit": "Between 1 and 200."})
        if await queries.get_member(member_id) is None:
            raise NotFound(f"No member with id {member_id}.")
        try:
            rows, next_cursor = await queries.timeline(member_id, cursor=cursor, limit=limit)
        except (ValueError, TypeError):
            raise InvalidInput({"cursor": "This cursor is not valid; start from the first page."}) from None
        return InteractionPage(items=[interaction_read(r) for r in rows], next=next_cursor)

    @post(
        "/interactions",
        guards=[WRITE],
        summary="Log an interaction (an external_id seen before returns the existing one with 200)",
        responses=None,
    )
    async def log(
        self, request: Request, now: datetime, actor: Actor, data: JSONBody[InteractionCreate]
    ) -> Response[InteractionRead]:
        row, created = await interactions.log_interaction(values=_values(data), actor=actor, now=now)
        return Response(interaction_read(row), status_code=HTTP_201_CREATED if created else HTTP_200_OK)

    @post(
        "/interactions/bulk",
        guards=[WRITE],
        status_code=HTTP_200_OK,
        summary="Log up to 1,000 interactions at once (JSON array or NDJSON): one result per item, in order",
        operation_class=BulkOperation,
        request_max_body_size=BULK_MAX_BYTES,
    )
    async def log_bulk(self, request: Request, now: datetime, actor: Actor) -> BulkResults:
        items = bulk_request.read_items(await request.body(), request.headers.get("content-type", ""))
        return BulkResults(items=await bulk_request.log_bulk(items=items, actor=actor, now=now))
