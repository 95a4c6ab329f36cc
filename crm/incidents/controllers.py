"""HTML pages for incidents: the list, the new-incident form, and the incident page that holds the playbook
(status buttons, the response clock, the promotion freeze, statements, corrective actions, linked interactions,
talking points with approval and differences, the post-incident review and its Markdown export).

The incident page reloads itself every minute while the incident is open (a ``Refresh`` header: the clock stays
live without JavaScript). So that a reload never wipes what someone is typing, the forms with free text live on
their own small pages (new statement, new corrective action, talking points, finding interactions); only the
one-click buttons sit on the incident page. Every write goes through the same services as the JSON API."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from crm.accounts import queries as accounts_queries
from crm.accounts.auth import requires
from crm.audit.service import Actor
from crm.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from crm.forms import is_id, local_input, parse_local, read_form
from crm.incidents import queries, review, service, talking_points
from crm.incidents.vocab import (
    FREEZING_STATUSES,
    OPEN_STATUSES,
    SEVERITIES,
    STATEMENT_KINDS,
    STATUSES,
    TRANSITIONS,
)
from crm.members.vocab import PLATFORMS
from crm.web import page, redirect

WRITE = requires("incidents.write", "change incidents")
APPROVE = requires("talking_points.approve", "approve talking points")

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
FREEZE_CHOICES = {
    "default": "Default for the severity (on for high and critical)",
    "yes": "Yes: pause promotion",
    "no": "No",
}
REVIEW_FIELDS = ("review_what_happened", "review_what_changed", "review_lessons")


# ---- small helpers -------------------------------------------------------------------------------


def duration(seconds: int | None) -> str:
    """A span of time in plain words: "under a minute", "12 min", "2 h 05 min", "3 days 4 h"."""
    if seconds is None:
        return "—"
    seconds = max(0, int(seconds))
    minutes = seconds // 60
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} days {hours} h"


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _list_errors(fields: dict[str, str]) -> dict[str, str]:
    """Service names like "links[2]" -> the textarea ("links"), saying which line is wrong."""
    errors: dict[str, str] = {}
    for key, message in fields.items():
        if "[" in key and key.endswith("]"):
            name, index = key[:-1].split("[", 1)
            if is_id(index):
                errors.setdefault(name, f"Line {int(index) + 1}: {message}")
                continue
        errors[key] = message
    return errors


def _flag(form: dict[str, str], name: str) -> bool:
    return form.get(name, "") not in ("", "0", "off", "false")


async def _incident(incident_id: int) -> dict:
    incident = await queries.snapshot(incident_id)
    if incident is None:
        raise NotFound(f"No incident with id {incident_id}.")
    return incident


async def _user_names() -> dict[int, str]:
    return {u["id"]: u["name"] for u in await accounts_queries.list_users()}


def clock_view(incident: dict, clock: queries.Clock) -> dict[str, Any]:
    """The response clock in words, with the warning when the acknowledgement target is missed."""
    target = duration(clock.ack_target_seconds)
    if clock.seconds_to_acknowledge is not None:
        ack = f"{duration(clock.seconds_to_acknowledge)} (target {target})"
        waited = clock.seconds_to_acknowledge
    else:
        waited = clock.seconds_since_detection
        left = clock.ack_target_seconds - waited
        ack = f"not yet: waiting {duration(waited)}, target {target}" + (f", {duration(left)} left" if left > 0 else "")
    warning = None
    if clock.ack_target_missed:
        over = duration(waited - clock.ack_target_seconds)
        if clock.seconds_to_acknowledge is None:
            warning = (
                f"Acknowledgement target missed: a {incident['severity']} incident should be acknowledged "
                f"within {target}; this one has waited {duration(waited)} ({over} over). "
                "Acknowledge it publicly now, even before you know everything."
            )
        else:
            warning = (
                f"Acknowledgement target missed: acknowledged after {duration(waited)}, "
                f"{over} over the {target} target for a {incident['severity']} incident."
            )
    if clock.seconds_to_resolve is not None:
        resolve = duration(clock.seconds_to_resolve)
    else:
        resolve = f"not yet: open for {duration(clock.seconds_since_detection)}"
    return {
        "since_detection": duration(clock.seconds_since_detection),
        "acknowledge": ack,
        "resolve": resolve,
        "target": target,
        "missed": clock.ack_target_missed,
        "warning": warning,
    }


def _counts_sentence(counts: dict[str, int]) -> str:
    text = f"{counts['negative']} negative, {counts['positive']} positive since detection"
    others = [f"{counts[k]} {k}" for k in ("neutral", "unknown") if counts[k]]
    return text + (f" (and {', '.join(others)})" if others else "")


def _transitions(incident: dict) -> list[tuple[str, str]]:
    return [
        (to, REOPEN_LABEL if incident["status"] == "resolved" and to == "responding" else TRANSITION_LABELS[to])
        for to in TRANSITIONS.get(incident["status"], [])
    ]


async def _incident_page(
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
    incident = await _incident(incident_id)
    clock = await queries.clock(incident, now)
    counts = await queries.sentiment_counts(incident)
    versions = await talking_points.versions(incident_id)
    current = next((v for v in versions if v["status"] == "approved"), None)
    is_open = incident["status"] in OPEN_STATUSES
    from crm.briefings.controllers import advocates_panel  # here: that module imports this one
    from crm.faq.controllers import faq_panel
    from crm.questions.controllers import late_questions_panel
    from crm.thanks.controllers import incident_helpers

    response = page(
        request,
        "incidents/show.html",
        status_code=status_code,
        title=incident["title"],
        incident=incident,
        clock=clock_view(incident, clock),
        counts=counts,
        counts_sentence=_counts_sentence(counts),
        transitions=_transitions(incident),
        statements=await queries.statements(incident_id),
        actions=await queries.actions(incident_id),
        names=await _user_names(),
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
        late_questions=await late_questions_panel(request, incident, now=now, zone=zone),
    )
    if is_open:
        response.headers["Refresh"] = str(REFRESH_SECONDS)
    return response


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
        "links": _lines(form.get("links")),
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
            return await _new_page(request, values=shown, errors=_list_errors(exc.fields), status_code=exc.status_code)
        return redirect(request, f"/incidents/{created['id']}", flash="Incident opened. The clock is running.")

    @get("/incidents/{incident_id:int}")
    async def show(self, request: Request, now: datetime, zone: ZoneInfo, incident_id: FromPath[int]) -> Template:
        return await _incident_page(request, incident_id, now=now, zone=zone)

    @post("/incidents/{incident_id:int}/transition", guards=[WRITE])
    async def transition(
        self, request: Request, zone: ZoneInfo, now: datetime, actor: Actor, incident_id: FromPath[int]
    ) -> Template | Redirect:
        await _incident(incident_id)
        to = (await read_form(request)).get("to", "")
        try:
            after = await service.transition(
                incident_id=incident_id,
                to=to,
                actor=actor,
                now=now,
            )
        except Conflict as exc:
            return await _incident_page(
                request, incident_id, alert=exc.message, status_code=exc.status_code, now=now, zone=zone
            )
        return redirect(request, f"/incidents/{incident_id}", flash=f"The incident is now {after['status']}.")

    @post("/incidents/{incident_id:int}/freeze/lift", guards=[WRITE])
    async def lift_freeze(
        self, request: Request, zone: ZoneInfo, now: datetime, actor: Actor, incident_id: FromPath[int]
    ) -> Template | Redirect:
        await _incident(incident_id)
        try:
            await service.lift_freeze(incident_id=incident_id, actor=actor, now=now)
        except Conflict as exc:
            return await _incident_page(
                request, incident_id, alert=exc.message, status_code=exc.status_code, now=now, zone=zone
            )
        return redirect(
            request, f"/incidents/{incident_id}", flash="The promotion freeze is lifted (recorded). Back to business."
        )

    # -- statements --

    @get("/incidents/{incident_id:int}/statements/new", guards=[WRITE])
    async def new_statement(self, request: Request, incident_id: FromPath[int]) -> Template:
        incident = await _incident(incident_id)
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
        incident = await _incident(incident_id)
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
        await _incident(incident_id)
        if statement_id not in {s["id"] for s in await queries.statements(incident_id)}:
            raise NotFound(f"Incident {incident_id} has no statement {statement_id}.")
        try:
            await service.publish_statement(statement_id=statement_id, actor=actor, now=now)
        except Conflict as exc:
            return await _incident_page(
                request, incident_id, alert=exc.message, status_code=exc.status_code, now=now, zone=zone
            )
        return redirect(request, f"/incidents/{incident_id}#statements", flash="Statement marked as published.")

    # -- corrective actions --

    @get("/incidents/{incident_id:int}/actions/new", guards=[WRITE])
    async def new_action(self, request: Request, incident_id: FromPath[int]) -> Template:
        incident = await _incident(incident_id)
        return await _action_page(request, incident, values={"owner": str(request.user.id)}, errors={})

    @post("/incidents/{incident_id:int}/actions", guards=[WRITE])
    async def add_action(
        self, request: Request, now: datetime, actor: Actor, incident_id: FromPath[int]
    ) -> Template | Redirect:
        incident = await _incident(incident_id)
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
        await _incident(incident_id)
        if action_id not in {a["id"] for a in await queries.actions(incident_id)}:
            raise NotFound(f"Incident {incident_id} has no corrective action {action_id}.")
        status = (await read_form(request)).get("status", "")
        try:
            await service.set_action_status(
                action_id=action_id,
                status=status,
                actor=actor,
                now=now,
            )
        except InvalidInput as exc:
            return await _incident_page(
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

    # -- linked interactions --

    @get("/incidents/{incident_id:int}/interactions")
    async def find_interactions(
        self, request: Request, now: datetime, zone: ZoneInfo, incident_id: FromPath[int]
    ) -> Template:
        incident = await _incident(incident_id)
        return await _interactions_page(request, incident, now=now, zone=zone)

    @post("/incidents/{incident_id:int}/interactions", guards=[WRITE])
    async def link_interactions(
        self, request: Request, zone: ZoneInfo, now: datetime, actor: Actor, incident_id: FromPath[int]
    ) -> Template | Redirect:
        incident = await _incident(incident_id)
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
            flash=f"Linked {linked} interaction{'s' if linked != 1 else ''} to this incident.",
        )

    # -- talking points --

    @get("/incidents/{incident_id:int}/talking-points/new", guards=[WRITE])
    async def new_talking_points(self, request: Request, incident_id: FromPath[int]) -> Template:
        incident = await _incident(incident_id)
        versions = await talking_points.versions(incident_id)
        base = next((v for v in versions if v["status"] == "approved"), versions[0] if versions else None)
        values = {k: "\n".join(base[k]) for k in ("points", "avoid", "links")} if base else {}
        return page(
            request,
            "incidents/talking_points_form.html",
            title="New talking points",
            incident=incident,
            values=values,
            errors={},
            version=None,
            based_on=base["version"] if base else None,
        )

    @post("/incidents/{incident_id:int}/talking-points", guards=[WRITE])
    async def create_talking_points(
        self, request: Request, now: datetime, actor: Actor, incident_id: FromPath[int]
    ) -> Template | Redirect:
        incident = await _incident(incident_id)
        form = await read_form(request)
        shown = {k: form.get(k, "") for k in ("points", "avoid", "links")}
        try:
            row = await talking_points.create_draft(
                incident_id=incident_id,
                values={k: _lines(v) for k, v in shown.items()},
                actor=actor,
                now=now,
            )
        except InvalidInput as exc:
            return page(
                request,
                "incidents/talking_points_form.html",
                status_code=exc.status_code,
                title="New talking points",
                incident=incident,
                values=shown,
                errors=_list_errors(exc.fields),
                version=None,
                based_on=None,
            )
        return redirect(
            request,
            f"/incidents/{incident_id}#talking-points",
            flash=f"Talking points version {row['version']} saved as a draft. "
            "A manager or admin approves it before advocates get it.",
        )

    @get("/incidents/{incident_id:int}/talking-points/{version:int}/edit", guards=[WRITE])
    async def edit_talking_points(
        self, request: Request, incident_id: FromPath[int], version: FromPath[int]
    ) -> Template | Redirect:
        incident = await _incident(incident_id)
        row = await talking_points.get_version(incident_id, version)
        if row["status"] != "draft":
            return redirect(
                request,
                f"/incidents/{incident_id}#talking-points",
                flash=f"Version {version} is {row['status']}: approved versions are never edited. "
                "Write a new version instead.",
            )
        return page(
            request,
            "incidents/talking_points_form.html",
            title=f"Edit talking points v{version}",
            incident=incident,
            values={k: "\n".join(row[k]) for k in ("points", "avoid", "links")},
            errors={},
            version=version,
            based_on=None,
        )

    @post("/incidents/{incident_id:int}/talking-points/{version:int}/edit", guards=[WRITE])
    async def update_talking_points(
        self, request: Request, now: datetime, actor: Actor, incident_id: FromPath[int], version: FromPath[int]
    ) -> Template | Redirect:
        incident = await _incident(incident_id)
        form = await read_form(request)
        shown = {k: form.get(k, "") for k in ("points", "avoid", "links")}
        try:
            await talking_points.update_draft(
                incident_id=incident_id,
                version=version,
                values={k: _lines(v) for k, v in shown.items()},
                actor=actor,
                now=now,
            )
        except (InvalidInput, Conflict) as exc:
            errors = _list_errors(exc.fields)
            if isinstance(exc, Conflict):
                errors["form"] = exc.message
            return page(
                request,
                "incidents/talking_points_form.html",
                status_code=exc.status_code,
                title=f"Edit talking points v{version}",
                incident=incident,
                values=shown,
                errors=errors,
                version=version,
                based_on=None,
            )
        return redirect(request, f"/incidents/{incident_id}#talking-points", flash=f"Draft v{version} saved.")

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
        await _incident(incident_id)
        try:
            await talking_points.approve(
                incident_id=incident_id,
                version=version,
                actor=actor,
                now=now,
            )
        except (PermissionDenied, Conflict) as exc:
            return await _incident_page(
                request, incident_id, alert=exc.message, status_code=exc.status_code, now=now, zone=zone
            )
        return redirect(
            request,
            f"/incidents/{incident_id}#talking-points",
            flash=f"Talking points v{version} approved: this is now what advocates are given.",
        )

    @get("/incidents/{incident_id:int}/talking-points/diff")
    async def diff_talking_points(self, request: Request, incident_id: FromPath[int]) -> Template:
        incident = await _incident(incident_id)
        versions = await talking_points.versions(incident_id)
        numbers = [v["version"] for v in versions]
        params = request.query_params
        errors: dict[str, str] = {}
        picked: dict[str, int | None] = {}
        defaults = {
            "a": numbers[1] if len(numbers) > 1 else (numbers[0] if numbers else None),
            "b": numbers[0] if numbers else None,
        }
        for key in ("a", "b"):
            raw = (params.get(key) or "").strip()
            if not raw:
                picked[key] = defaults[key]
            elif is_id(raw) and int(raw) in numbers:
                picked[key] = int(raw)
            else:
                picked[key] = None
                errors[key] = f"Choose one of the versions: {', '.join(map(str, sorted(numbers))) or 'none yet'}."
        diff = None
        if not errors and picked["a"] is not None and picked["b"] is not None:
            by_number = {v["version"]: v for v in versions}
            diff = talking_points.diff(by_number[picked["a"]], by_number[picked["b"]])
        return page(
            request,
            "incidents/talking_points_diff.html",
            status_code=422 if errors else 200,
            title="Talking points: differences",
            incident=incident,
            versions=versions,
            picked=picked,
            errors=errors,
            diff=diff,
        )

    # -- review --

    @post("/incidents/{incident_id:int}/review", guards=[WRITE])
    async def save_review(
        self, request: Request, zone: ZoneInfo, now: datetime, actor: Actor, incident_id: FromPath[int]
    ) -> Template | Redirect:
        await _incident(incident_id)
        form = await read_form(request)
        values = {k: form.get(k, "") for k in REVIEW_FIELDS}
        try:
            await service.update_incident(
                incident_id=incident_id,
                values=values,
                actor=actor,
                now=now,
            )
        except Conflict as exc:
            return await _incident_page(
                request, incident_id, alert=exc.message, status_code=exc.status_code, now=now, zone=zone
            )
        except InvalidInput as exc:
            return await _incident_page(
                request,
                incident_id,
                status_code=exc.status_code,
                review_values=values,
                review_errors=exc.fields,
                now=now,
                zone=zone,
            )
        return redirect(request, f"/incidents/{incident_id}#review", flash="Review saved.")

    @get("/incidents/{incident_id:int}/review.md")
    async def review_markdown(self, request: Request, now: datetime, incident_id: FromPath[int]) -> Response:
        incident = await _incident(incident_id)
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
    users = [
        u for u in await accounts_queries.list_users() if u["is_active"] or str(u["id"]) == str(values.get("owner"))
    ]
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
        counts_sentence=_counts_sentence(counts),
        query=request.url.query or "",
    )
