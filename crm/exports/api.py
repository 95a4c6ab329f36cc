"""The exports through the API: the same CSV as the members page's links, for scripts with a token."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, Request, get
from litestar.params import FromQuery, QueryParameter
from litestar.response import Stream

from crm.audit.service import Actor
from crm.exports import service
from crm.exports.controllers import EXPORT, csv_response
from crm.members.queries import MemberFilter

FilterState = Annotated[str, QueryParameter(name="state")]


class ExportsAPI(Controller):
    path = "/api/v1/exports"
    tags = ["exports"]
    guards = [EXPORT]

    async def _export(self, kind: str, filters: MemberFilter, bom: bool, now: datetime, actor: Actor) -> Stream:
        chunks = await service.export_csv(kind=kind, filters=filters, actor=actor, now=now, bom=bom)
        return csv_response(chunks, kind=kind, now=now)

    @get("/members.csv", summary="Members as CSV (the crm import preset's format), streamed", media_type="text/csv")
    async def members(
        self,
        request: Request,
        now: datetime,
        actor: Actor,
        q: FromQuery[str] = "",
        tier: FromQuery[str] = "",
        topic: FromQuery[str] = "",
        platform: FromQuery[str] = "",
        consent: FromQuery[str] = "",
        state_: FilterState = "",
        sort: FromQuery[str] = "score",
        bom: FromQuery[bool] = False,
    ) -> Stream:
        """The members the filters select (the members list's filters and order; every live member by default).
        bom=true starts the file with a UTF-8 byte-order mark, for spreadsheet programs."""
        filters = MemberFilter(q=q, tier=tier, topic=topic, platform=platform, consent=consent, state=state_, sort=sort)
        return await self._export("members", filters, bom, now, actor)

    @get(
        "/interactions.csv",
        summary="Interactions as CSV (the crm import preset's format), streamed",
        media_type="text/csv",
    )
    async def interactions(
        self,
        request: Request,
        now: datetime,
        actor: Actor,
        q: FromQuery[str] = "",
        tier: FromQuery[str] = "",
        topic: FromQuery[str] = "",
        platform: FromQuery[str] = "",
        consent: FromQuery[str] = "",
        state_: FilterState = "",
        bom: FromQuery[bool] = False,
    ) -> Stream:
        """The interactions of the members the filters select (every live member by default), by id."""
        filters = MemberFilter(q=q, tier=tier, topic=topic, platform=platform, consent=consent, state=state_)
        return await self._export("interactions", filters, bom, now, actor)
