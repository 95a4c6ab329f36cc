"""HTML pages for incidents: the list, the new-incident form, and the small pages with the incident page's free
text forms (new statement, new corrective action) and the post-incident review's Markdown export.

The incident page itself and its one-click buttons are in crm/pages/incident.py (it gathers sections from later
domains); talking points are in talking_points_controllers.py and finding interactions to link in
interactions_controllers.py. Every write goes through the same services as the JSON API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from crm.accounts import queries as accounts_queries
from crm.accounts.auth import requires
from crm.audit.service import Actor
from crm.errors import InvalidInput
from crm.forms import is_id, lines, list_errors, local_input, parse_local, read_form
from crm.incidents import queries, review, service
from crm.incidents.vocab import FREEZING_STATUSES, SEVERITIES, STATEMENT_KINDS, STATUSES
from crm.incidents.wording import clock_view
from crm.members.vocab import PLATFORMS
from crm.web import page, redirect

WRITE = requires("incidents.write", "change incidents")
APPROVE = requires("talking_points.approve", "approve talking points")

FREEZE_CHOICES = {
    "default": "Default for the severity (on for high and critical)",
    "yes": "Yes: pause promotion",
    "no": "No",
}


# ---- the new-incident form -----------------------------------------------------------------------


def _incident_form(
    form: dict[str, str], platforms: list[str], zone: ZoneInfo
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """(service values, values to show again, errors the form itself found)."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        "title": form.get("title", ""),
        "summary": form.get("summary", ""),
        "severity": form.get("severity", ""),
        "topics": form.get("topics", "").split(","),
        "platforms": platforms,
        "links": lines(form.get("links")),
    }
    detected = parse_local(form.get("detected_at", ""), zone, "detected_at", errors)
    if detected is not None:
        values["detected_at"] = detected
    elif not errors and not form.get("detected_at", "").strip():
        errors["detected_at"] = "Say when it was detected."
    freeze = form.get("freeze", "default")
    if freeze not in FREEZE_CHOICES:
        errors["freeze"] = "Choose one of the options."
    elif freeze != "default":
        values["freeze_promotion"] = freeze == "yes"
    shown = {
        "title": values["title"],
        "summary": values["summary"],
        "severity": values["severity"],
        "topics": form.get("topics", ""),
        "platforms": platforms,
        "links": form.get("links", ""),
        "detected_at": form.get("detected_at", ""),
        "freeze": freeze,
    }
    return values, shown, errors


async def _new_page(request: Request, *, values: dict, errors: dict, status_code: int = 200) -> Template:
    return page(
        request,
        "incidents/new.html",
        status_code=status_code,
        title="New incident",
        values=values,
        errors=errors,
        severities=SEVERITIES,
        platforms=PLATFORMS,
        freeze_choices=FREEZE_CHOICES,
    )


# ---- controllers ---------------------------------------------------------------------------------


class IncidentsController(Controller):
    path = "/"
    include_in_schema = False

    @get("/incidents")
    async def index(self, request: Request, now: datetime) -> Template:
        params = request.query_params
        filters = {key: (params.get(key) or "").strip() for key in ("status", "severity", "state")}
        errors: dict[str, str] = {}
        if filters["status"] and filters["status"] not in STATUSES:
            errors["status"] = f"Choose one of: {', '.join(STATUSES)}."
        if filters["severity"] and filters["severity"] not in SEVERITIES:
            errors["severity"] = f"Choose one of: {', '.join(SEVERITIES)}."
        if filters["state"] and filters["state"] not in ("open", "closed"):
            errors["state"] = "Choose open or closed."
        rows = []
        if not errors:
            open_ = {"open": True, "closed": False}.get(filters["state"])
            for incident in await queries.list_incidents(
                status=filters["status"], severity=filters["severity"], open_=open_
            ):
                clock = await queries.clock(incident, now)
                rows.append(
                    {
                        **incident,
                        "clock": clock,
                        "clock_view": clock_view(incident, clock),
                        "freezing": incident["freeze_promotion"] and incident["status"] in FREEZING_STATUSES,
                    }
                )
        return page(
            request,
            "incidents/list.html",
            status_code=422 if errors else 200,
            title="Incidents",
            rows=rows,
            filters=filters,
            errors=errors,
            statuses=STATUSES,
            severities=SEVERITIES,
        )

    @get("/incidents/new", guards=[WRITE])
    async def new(self, request: Request, now: datetime, zone: ZoneInfo) -> Template:
        return await _new_page(
            request,
            values={
                "severity": "high",
                "freeze": "default",
                "platforms": [],
                "detected_at": local_input(now, zone),
            },
            errors={},
        )

    @post("/incidents", guards=[WRITE])
    async def create(self, request: Request, now: datetime, actor: Actor, zone: ZoneInfo) -> Template | Redirect:
        form_data = await request.form()
        platforms = [p for p in form_data.getall("platforms", []) if isinstance(p, str)]
        values, shown, errors = _incident_form(await read_form(request), platforms, zone)
        try:
            if errors:
                found: dict[str, str] = {}  # the service's own messages for the other fields; nothing written
                service.clean_incident(
                    {k: v for k, v in values.items() if k != "detected_at"}, now, found, partial=False
                )
                raise InvalidInput({**found, **errors})
            created = await service.create_incident(values=values, actor=actor, now=now)
        except InvalidInput as exc:
            return await _new_page(request, values=shown, errors=list_errors(exc.fields), status_code=exc.status_code)
        return redirect(request, f"/incidents/{created['id']}", flash="Incident opened. The clock is running.")

    # -- statements --

    @get("/incidents/{incident_id:int}/statements/new", guards=[WRITE])
    async def new_statement(self, request: Request, incident_id: FromPath[int]) -> Template:
        incident = await queries.incident_or_404(incident_id)
        kind = request.query_params.get("kind") or "acknowledgement"
        return page(
            request,
            "incidents/statement_new.html",
            title="New statement",
            incident=incident,
            values={"kind": kind if kind in STATEMENT_KINDS else "acknowledgement"},
            errors={},
            kinds=STATEMENT_KINDS,
        )

    @post("/incidents/{incident_id:int}/statements", guards=[WRITE])
    async def add_statement(
        self, request: Request, now: datetime, actor: Actor, incident_id: FromPath[int]
    ) -> Template | Redirect:
        incident = await queries.incident_or_404(incident_id)
        form = await read_form(request)
        values = {k: form.get(k, "") for k in ("kind", "text", "signed_by")}
        try:
            await service.add_statement(
                incident_id=incident_id,
                values=values,
                actor=actor,
                now=now,
            )
        except InvalidInput as exc:
            return page(
                request,
                "incidents/statement_new.html",
                status_code=exc.status_code,
                title="New statement",
                incident=incident,
                values=values,
                errors=exc.fields,
                kinds=STATEMENT_KINDS,
            )
        return redirect(
            request,
            f"/incidents/{incident_id}#statements",
            flash="Statement saved as a draft. Publish it once it is out.",
        )

    # -- corrective actions --

    @get("/incidents/{incident_id:int}/actions/new", guards=[WRITE])
    async def new_action(self, request: Request, incident_id: FromPath[int]) -> Template:
        incident = await queries.incident_or_404(incident_id)
        return await _action_page(request, incident, values={"owner": str(request.user.id)}, errors={})

    @post("/incidents/{incident_id:int}/actions", guards=[WRITE])
    async def add_action(
        self, request: Request, now: datetime, actor: Actor, incident_id: FromPath[int]
    ) -> Template | Redirect:
        incident = await queries.incident_or_404(incident_id)
        form = await read_form(request)
        shown = {k: form.get(k, "").strip() for k in ("what", "owner", "due_on")}
        errors: dict[str, str] = {}
        values: dict[str, Any] = {"what": shown["what"], "owner": None, "due_on": None}
        if shown["owner"]:
            if is_id(shown["owner"]) and await accounts_queries.user_by_id(int(shown["owner"])):
                values["owner"] = int(shown["owner"])
            else:
                errors["owner"] = "Choose an existing user."
        if shown["due_on"]:
            try:
                values["due_on"] = date.fromisoformat(shown["due_on"])
            except ValueError:
                errors["due_on"] = "Give a date like 2026-03-31."
        try:
            if errors:
                if not values["what"]:
                    errors.setdefault("what", "This is required.")
                raise InvalidInput(errors)
            await service.add_action(
                incident_id=incident_id,
                values=values,
                actor=actor,
                now=now,
            )
        except InvalidInput as exc:
            return await _action_page(request, incident, values=shown, errors=exc.fields, status_code=exc.status_code)
        return redirect(request, f"/incidents/{incident_id}#actions", flash="Corrective action added.")

    @get("/incidents/{incident_id:int}/review.md")
    async def review_markdown(self, request: Request, now: datetime, incident_id: FromPath[int]) -> Response:
        incident = await queries.incident_or_404(incident_id)
        text = await review.markdown(incident, now, request.app.state.settings.timezone)
        return Response(
            text,
            media_type="text/markdown; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="incident-{incident_id}-review.md"',
                "Cache-Control": "no-store",
            },
        )


async def _action_page(
    request: Request, incident: dict, *, values: dict, errors: dict, status_code: int = 200
) -> Template:
    users = await accounts_queries.user_choices(values.get("owner"))
    return page(
        request,
        "incidents/action_new.html",
        status_code=status_code,
        title="New corrective action",
        incident=incident,
        values=values,
        errors=errors,
        users=users,
    )
