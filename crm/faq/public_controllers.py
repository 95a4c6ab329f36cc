"""The public FAQ pages (/public/faq): no sign-in, so only the incidents a manager marked public, only their
published entries, and no names of anyone. Answers are shown as HTML only through crm.markdown.render."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Template

from crm.errors import NotFound
from crm.faq import queries
from crm.incidents.track_record import record_since
from crm.markdown import render
from crm.web import page


class PublicFaqController(Controller):
    """No sign-in: only incidents a manager marked public, only published entries, no names of anyone."""

    path = "/public/faq"
    include_in_schema = False

    @get("/", opt={"public": True})
    async def index(self, request: Request, now: datetime, zone: ZoneInfo) -> Template:
        shown = await queries.public_incidents()
        entries = await queries.published_for([i["id"] for i in shown])
        sections = [
            await _public_section(request, i, entries[i["id"]], now=now, zone=zone) for i in shown if entries[i["id"]]
        ]
        return page(request, "faq/public_index.html", title="Questions and answers", sections=sections, user=None)

    @get("/{incident_id:int}", opt={"public": True})
    async def show(self, request: Request, now: datetime, zone: ZoneInfo, incident_id: FromPath[int]) -> Template:
        incident = await queries.public_incident(incident_id)
        if incident is None:
            raise NotFound("There is no public FAQ for this incident.")
        entries = (await queries.published_for([incident_id]))[incident_id]
        section = await _public_section(request, incident, entries, now=now, zone=zone)
        return page(request, "faq/public_show.html", title=incident["title"], section=section, user=None)


async def _public_section(
    request: Request, incident: dict, entries: list[dict], *, now: datetime, zone: ZoneInfo
) -> dict[str, Any]:
    """Only what the public may see: the title, the date, the record-since sentence, the answers."""
    since = await record_since(incident, now=now, zone=zone)
    return {
        "id": incident["id"],
        "title": incident["title"],
        "detected_at": incident["detected_at"],
        "sentence": since.sentence,
        "entries": [{"id": e["id"], "question": e["question"], "answer_html": render(e["answer"])} for e in entries],
    }
