"""JSON API: one member's advocate health (same service as the member page and the list)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get
from litestar.params import FromPath

from crm.advocacy import service
from crm.advocacy.schemas import HealthRead


class AdvocacyAPI(Controller):
    path = "/api/v1"
    tags = ["advocacy"]

    @get(
        "/members/{member_id:int}/health",
        summary="Advocate health: asks vs thanks, engagement state, warnings with reasons, incident effects",
    )
    async def health(self, request: Request, now: datetime, zone: ZoneInfo, member_id: FromPath[int]) -> HealthRead:
        """Any signed-in role. 404 for missing, deleted, erased and merged members, as GET /members/{id}."""
        # The dates in the reasons read as on the pages (the CRM's zone); the date fields stay ISO.
        return await service.health(member_id, now, zone)
