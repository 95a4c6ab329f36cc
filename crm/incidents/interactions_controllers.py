"""HTML page for finding interactions about an incident (by platform, time window and text) and linking them
to it in bulk; the incident page counts the linked ones by sentiment."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from crm.audit.service import Actor
from crm.errors import InvalidInput
from crm.formatting import plural
from crm.forms import is_id, local_input, parse_local
from crm.incidents import queries, service
from crm.incidents.controllers import WRITE
from crm.incidents.wording import counts_sentence
from crm.members.vocab import PLATFORMS
from crm.web import page, redirect


async def _interactions_page(
    request: Request,
    incident: dict,
    *,
    link_error: str | None = None,
    status_code: int = 200,
    now: datetime,
    zone: ZoneInfo,
) -> Template:
    """Find interactions by platform, time window and text; the results come with checkboxes to link in bulk."""
    params = request.query_params
    errors: dict[str, str] = {}
    since_default, until_default = queries.window(incident, now)
    platforms = [p for p in params.getall("platform", []) if p]
    for p in platforms:
        if p not in PLATFORMS:
            errors["platform"] = f"Choose from: {', '.join(PLATFORMS)}."
    since = parse_local(params.get("from", ""), zone, "from", errors) or since_default
    until = parse_local(params.get("to", ""), zone, "to", errors)
    # A minute-precision "to" includes the whole of that minute.
    until = until + timedelta(seconds=59.999) if until else until_default
    if not errors and since > until:
        errors["to"] = "The end of the window is before its start."
    text = (params.get("text") or "").strip()[:200]
    results = (
        [] if errors else await queries.find_interactions(platforms=platforms, since=since, until=until, text=text)
    )
    counts = await queries.sentiment_counts(incident)
    return page(
        request,
        "incidents/interactions.html",
        status_code=422 if errors and status_code == 200 else status_code,
        title="Find and link interactions",
        incident=incident,
        platforms=PLATFORMS,
        search={
            "platforms": platforms,
            "from": params.get("from") or local_input(since, zone),
            "to": params.get("to") or local_input(until, zone),
            "text": text,
        },
        errors=errors,
        results=results,
        link_error=link_error,
        counts=counts,
        counts_sentence=counts_sentence(counts),
        query=request.url.query or "",
    )


class InteractionsController(Controller):
    path = "/"
    include_in_schema = False

    @get("/incidents/{incident_id:int}/interactions")
    async def find_interactions(
        self, request: Request, now: datetime, zone: ZoneInfo, incident_id: FromPath[int]
    ) -> Template:
        incident = await queries.incident_or_404(incident_id)
        return await _interactions_page(request, incident, now=now, zone=zone)

    @post("/incidents/{incident_id:int}/interactions", guards=[WRITE])
    async def link_interactions(
        self, request: Request, zone: ZoneInfo, now: datetime, actor: Actor, incident_id: FromPath[int]
    ) -> Template | Redirect:
        incident = await queries.incident_or_404(incident_id)
        form = await request.form()
        raw = [v for v in form.getall("ids", []) if isinstance(v, str)]
        ids = [int(v) for v in raw if is_id(v.strip())]
        try:
            if len(ids) != len(raw):
                raise InvalidInput({"interaction_ids": "Choose interactions from the list."})
            linked = await service.link_interactions(
                incident_id=incident_id,
                interaction_ids=ids,
                actor=actor,
                now=now,
            )
        except InvalidInput as exc:
            return await _interactions_page(
                request,
                incident,
                link_error=exc.fields.get("interaction_ids", exc.message),
                status_code=exc.status_code,
                now=now,
                zone=zone,
            )
        return redirect(
            request,
            f"/incidents/{incident_id}#interactions",
            flash=f"Linked {plural(linked, 'interaction')} to this incident.",
        )
