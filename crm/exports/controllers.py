"""The members page's exports: /members.csv and /interactions.csv take the members list's filters (the links on
the page carry the current ones) and stream the CSV; ``bom=1`` adds a byte-order mark for spreadsheet programs.
Bad filters show the members page again with the message next to the filter."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, Request, get
from litestar.response import Stream, Template

from crm.accounts.auth import requires
from crm.audit.service import Actor
from crm.errors import InvalidInput
from crm.exports import service
from crm.members.controllers import list_filters, list_page

EXPORT = requires("exports.run", "export members or interactions")


def csv_response(chunks, *, kind: str, now: datetime) -> Stream:
    filename = f"{kind}-{now.strftime('%Y%m%d-%H%M')}.csv"
    return Stream(
        chunks,
        media_type="text/csv",  # Litestar adds "; charset=utf-8"
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


class ExportsController(Controller):
    path = "/"
    include_in_schema = False
    guards = [EXPORT]

    async def _export(self, request: Request, kind: str, now: datetime, actor: Actor) -> Stream | Template:
        filters = list_filters(request)
        bom = request.query_params.get("bom", "") in ("1", "true", "yes")
        try:
            chunks = await service.export_csv(kind=kind, filters=filters, actor=actor, now=now, bom=bom)
        except InvalidInput as exc:
            return list_page(
                request,
                filters,
                items=[],
                next_cursor=None,
                cursor=None,
                errors={**exc.fields, "form": exc.message},
                status_code=exc.status_code,
            )
        return csv_response(chunks, kind=kind, now=now)

    @get("/members.csv")
    async def members(self, request: Request, now: datetime, actor: Actor) -> Stream | Template:
        """The members of the current view (every page of it), in the list's order."""
        return await self._export(request, "members", now, actor)

    @get("/interactions.csv")
    async def interactions(self, request: Request, now: datetime, actor: Actor) -> Stream | Template:
        """The interactions of the members of the current view, oldest record first."""
        return await self._export(request, "interactions", now, actor)
