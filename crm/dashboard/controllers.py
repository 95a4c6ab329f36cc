"""The dashboard, and the sections whose issues have not landed yet."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.response import Template

from crm.web import page

UPCOMING = {
    "members": ("Members", "Community members, their handles, interactions and engagement."),
    "incidents": ("Incidents", "The response clock, statements, corrective steps and talking points."),
    "thanks": ("Thank-yous", "Thank-you follow-ups that keep advocates in your corner."),
    "faq": ("FAQ", "The incident FAQ for answering late questions."),
}


class DashboardController(Controller):
    include_in_schema = False

    @get("/")
    async def dashboard(self, request: Request) -> Template:
        return page(request, "dashboard.html")

    @get(["/members", "/incidents", "/thanks", "/faq"])
    async def upcoming(self, request: Request) -> Template:
        section = request.url.path.strip("/")
        title, blurb = UPCOMING[section]
        return page(request, "upcoming.html", title=title, blurb=blurb, section=section)
