"""Admin page to browse and filter the audit log."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get
from litestar.params import FromQuery, QueryParameter
from litestar.response import Template

from crm.accounts.auth import requires
from crm.audit.queries import AuditFilter, distinct_actions, list_entries
from crm.web import page


class AuditController(Controller):
    path = "/admin/audit"
    guards = [requires("audit.read", "read the audit log")]
    include_in_schema = False

    @get("/")
    async def index(
        self,
        request: Request,
        action: FromQuery[str] = "",
        entity: FromQuery[str] = "",
        actor_: Annotated[str, QueryParameter(name="actor")] = "",  # "actor" is the injected acting user
        record_id: FromQuery[str] = "",
        before: Annotated[int | None, QueryParameter(ge=1)] = None,
    ) -> Template:
        filters = AuditFilter(
            action=action.strip(),
            entity=entity.strip(),
            actor=actor_.strip(),
            record_id=record_id.strip(),
            before_id=before,
        )
        entries, next_cursor = await list_entries(filters)
        return page(
            request,
            "admin/audit.html",
            entries=entries,
            next_cursor=next_cursor,
            filters=filters,
            actions=await distinct_actions(),
        )
