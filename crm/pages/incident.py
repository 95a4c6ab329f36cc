"""The incident page: the playbook in one place (status buttons, the response clock, the promotion freeze,
statements, corrective actions, talking points, the review), with the sections later domains add to it: whom to
brief (briefings), the FAQ, the helpers to thank (thanks) and the late questions (questions).

The one-click buttons on the page post to the handlers here, because a refused click answers with the page
itself and an alert saying why (a 409 or 422), so they need the whole page. The forms with free text live on
their own small pages in crm/incidents/ (the page reloads itself every minute while the incident is open, and a
reload must never wipe what someone is typing)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from crm.accounts import queries as accounts_queries
from crm.audit.service import Actor
from crm.briefings.panels import advocates_panel
from crm.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from crm.faq.panels import faq_panel
from crm.forms import read_form
from crm.incidents import queries, service, talking_points
from crm.incidents.controllers import APPROVE, WRITE
from crm.incidents.vocab import FREEZING_STATUSES, OPEN_STATUSES, TRANSITIONS
from crm.incidents.wording import clock_view, counts_sentence
from crm.questions.panels import late_questions_panel
from crm.thanks.panels import incident_helpers
from crm.web import page, redirect

REFRESH_SECONDS = 60
TRANSITION_LABELS = {
    "acknowledged": "Acknowledge",
    "responding": "Start responding",
    "resolved": "Resolve",
    "reviewed": "Mark reviewed",
}
REOPEN_LABEL = "Reopen (responding)"
ACTION_STATUS_LABELS = {"open": "open", "in_progress": "in progress", "done": "done"}
ACTION_BUTTONS = {"open": "Reopen", "in_progress": "Start", "done": "Mark done"}
REVIEW_FIELDS = ("review_what_happened", "review_what_changed", "review_lessons")


def _transitions(incident: dict) -> list[tuple[str, str]]:
    return [
        (to, REOPEN_LABEL if incident["status"] == "resolved" and to == "responding" else TRANSITION_LABELS[to])
        for to in TRANSITIONS.get(incident["status"], [])
    ]


async def incident_page(
    request: Request,
    incident_id: int,
    *,
    alert: str | None = None,
    status_code: int = 200,
    review_values: dict | None = None,
    review_errors: dict | None = None,
    now: datetime,
    zone: ZoneInfo,
) -> Template:
    incident = await queries.incident_or_404(incident_id)
    clock = await queries.clock(incident, now)
    counts = await queries.sentiment_counts(incident)
    versions = await talking_points.versions(incident_id)
    current = next((v for v in versions if v["status"] == "approved"), None)
    is_open = incident["status"] in OPEN_STATUSES
    response = page(
        request,
        "incidents/show.html",
        status_code=status_code,
        title=incident["title"],
        incident=incident,
        clock=clock_view(incident, clock),
        counts=counts,
        counts_sentence=counts_sentence(counts),
        transitions=_transitions(incident),
        statements=await queries.statements(incident_id),
        actions=await queries.actions(incident_id),
        names=await accounts_queries.user_names(),
        versions=versions,
        current=current,
        is_open=is_open,
        freezing=incident["freeze_promotion"] and incident["status"] in FREEZING_STATUSES,
        alert=alert,
        review_open=incident["status"] in ("resolved", "reviewed"),
        review_values=review_values or {k: incident[k] for k in REVIEW_FIELDS},
        review_errors=review_errors or {},
        action_labels=ACTION_STATUS_LABELS,
        action_buttons=ACTION_BUTTONS,
        now=now,
        refresh=REFRESH_SECONDS if is_open else None,
        advocates=await advocates_panel(incident, now),
        faq=await faq_panel(incident, request.user, now),
        thank_helpers=await incident_helpers(incident_id, now, zone),
        late_questions=await late_questions_panel(incident, now=now, zone=zone),
    )
    if is_open:
        response.headers["Refresh"] = str(REFRESH_SECONDS)
    return response


class IncidentPageController(Controller):
    path = "/"
    include_in_schema = False

    @get("/incidents/{incident_id:int}")
    async def show(self, request: Request, now: datetime, zone: ZoneInfo, incident_id: FromPath[int]) -> Template:
        return await incident_page(request, incident_id, now=now, zone=zone)

    @post("/incidents/{incident_id:int}/transition", guards=[WRITE])
    async def transition(
        self, request: Request, zone: ZoneInfo, now: datetime, actor: Actor, incident_id: FromPath[int]
    ) -> Template | Redirect:
        await queries.incident_or_404(incident_id)
        to = (await read_form(request)).get("to", "")
        try:
            after = await service.transition(incident_id=incident_id, to=to, actor=actor, now=now)
        except Conflict as exc:
            return await incident_page(
                request, incident_id, alert=exc.message, status_code=exc.status_code, now=now, zone=zone
            )
        return redirect(request, f"/incidents/{incident_id}", flash=f"The incident is now {after['status']}.")

    @post("/incidents/{incident_id:int}/freeze/lift", guards=[WRITE])
    async def lift_freeze(
        self, request: Request, zone: ZoneInfo, now: datetime, actor: Actor, incident_id: FromPath[int]
    ) -> Template | Redirect:
        await queries.incident_or_404(incident_id)
        try:
            await service.lift_freeze(incident_id=incident_id, actor=actor, now=now)
        except Conflict as exc:
            return await incident_page(
                request, incident_id, alert=exc.message, status_code=exc.status_code, now=now, zone=zone
            )
        return redirect(
            request, f"/incidents/{incident_id}", flash="The promotion freeze is lifted (recorded). Back to business."
        )

    @post("/incidents/{incident_id:int}/statements/{statement_id:int}/publish", guards=[WRITE])
    async def publish_statement(
        self,
        request: Request,
        zone: ZoneInfo,
        now: datetime,
        actor: Actor,
        incident_id: FromPath[int],
        statement_id: FromPath[int],
    ) -> Template | Redirect:
        await queries.incident_or_404(incident_id)
        if statement_id not in {s["id"] for s in await queries.statements(incident_id)}:
            raise NotFound(f"Incident {incident_id} has no statement {statement_id}.")
        try:
            await service.publish_statement(statement_id=statement_id, actor=actor, now=now)
        except Conflict as exc:
            return await incident_page(
                request, incident_id, alert=exc.message, status_code=exc.status_code, now=now, zone=zone
            )
        return redirect(request, f"/incidents/{incident_id}#statements", flash="Statement marked as published.")

    @post("/incidents/{incident_id:int}/actions/{action_id:int}/status", guards=[WRITE])
    async def action_status(
        self,
        request: Request,
        zone: ZoneInfo,
        now: datetime,
        actor: Actor,
        incident_id: FromPath[int],
        action_id: FromPath[int],
    ) -> Template | Redirect:
        await queries.incident_or_404(incident_id)
        if action_id not in {a["id"] for a in await queries.actions(incident_id)}:
            raise NotFound(f"Incident {incident_id} has no corrective action {action_id}.")
        status = (await read_form(request)).get("status", "")
        try:
            await service.set_action_status(action_id=action_id, status=status, actor=actor, now=now)
        except InvalidInput as exc:
            return await incident_page(
                request,
                incident_id,
                alert=exc.fields.get("status", exc.message),
                status_code=exc.status_code,
                now=now,
                zone=zone,
            )
        return redirect(
            request,
            f"/incidents/{incident_id}#actions",
            flash=f"Corrective action marked {ACTION_STATUS_LABELS[status]}.",
        )

    @post("/incidents/{incident_id:int}/talking-points/{version:int}/approve", guards=[APPROVE])
    async def approve_talking_points(
        self,
        request: Request,
        zone: ZoneInfo,
        now: datetime,
        actor: Actor,
        incident_id: FromPath[int],
        version: FromPath[int],
    ) -> Template | Redirect:
        await queries.incident_or_404(incident_id)
        try:
            await talking_points.approve(incident_id=incident_id, version=version, actor=actor, now=now)
        except (PermissionDenied, Conflict) as exc:
            return await incident_page(
                request, incident_id, alert=exc.message, status_code=exc.status_code, now=now, zone=zone
            )
        return redirect(
            request,
            f"/incidents/{incident_id}#talking-points",
            flash=f"Talking points v{version} approved: this is now what advocates are given.",
        )

    @post("/incidents/{incident_id:int}/review", guards=[WRITE])
    async def save_review(
        self, request: Request, zone: ZoneInfo, now: datetime, actor: Actor, incident_id: FromPath[int]
    ) -> Template | Redirect:
        await queries.incident_or_404(incident_id)
        form = await read_form(request)
        values = {k: form.get(k, "") for k in REVIEW_FIELDS}
        try:
            await service.update_incident(incident_id=incident_id, values=values, actor=actor, now=now)
        except Conflict as exc:
            return await incident_page(
                request, incident_id, alert=exc.message, status_code=exc.status_code, now=now, zone=zone
            )
        except InvalidInput as exc:
            return await incident_page(
                request,
                incident_id,
                status_code=exc.status_code,
                review_values=values,
                review_errors=exc.fields,
                now=now,
                zone=zone,
            )
        return redirect(request, f"/incidents/{incident_id}#review", flash="Review saved.")
