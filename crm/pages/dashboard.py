"""The dashboard (/): open incidents with their response clock, thank-yous due, and advocates and champions
going quiet."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, Request, get
from litestar.response import Template

from crm.incidents import queries as incident_queries
from crm.incidents.wording import clock_view
from crm.members import queries as member_queries
from crm.members import read as member_read
from crm.thanks import queries as thanks_queries
from crm.web import page

GOING_QUIET_TIERS = ("champion", "advocate")
GOING_QUIET_LIMIT = 10


class DashboardController(Controller):
    include_in_schema = False

    @get("/")
    async def dashboard(self, request: Request, now: datetime) -> Template:
        going_quiet = {}
        for tier in GOING_QUIET_TIERS:
            items, more = await member_read.list_page(
                member_queries.MemberFilter(state="going_quiet", tier=tier),
                now=now,
                cursor=None,
                limit=GOING_QUIET_LIMIT,
            )
            going_quiet[tier] = (items, more is not None)
        open_incidents = []
        for incident in await incident_queries.list_incidents(open_=True, limit=20):
            clock = await incident_queries.clock(incident, now)
            open_incidents.append({**incident, "clock": clock_view(incident, clock)})
        # The nav badge already counted them for this request (crm.app.load_freeze_banner).
        thanks = getattr(request.state, "thanks_due", None) or await thanks_queries.due_counts(now)
        return page(request, "dashboard.html", thanks=thanks, going_quiet=going_quiet, open_incidents=open_incidents)
