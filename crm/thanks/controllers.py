"""HTML pages for thank-yous (playbook step 5: thank the people who helped, so they stay in your corner).

- ``GET /thanks``: the due queue, most overdue first, each item saying why, when and how overdue, with a one-click
  "Say thank you" (the record form, pre-filled) and a "Dismiss" form with a reason; then the recent thank-yous.
- ``GET/POST /thanks/new``: the record form (``member_id``, ``incident_id``, ``briefing_id`` and ``next`` in the
  query; a link naming a member, incident or briefing that is not there, or a briefing not this member's, is 404),
  the message pre-filled from the channel's template; errors next to the fields (422), values kept, ``next``
  always through safe_next.
- ``GET/POST /thanks/templates``: the message template per channel (managers and admins).
- ``POST /thanks/{id}/delete``: remove a thank-you recorded in error.

Every write goes through crm.thanks.service, like the JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from crm.accounts.auth import requires
from crm.audit.service import Actor
from crm.briefings import queries as briefing_queries
from crm.errors import Conflict, InvalidInput, NotFound
from crm.forms import is_id, parse_local, read_form, safe_next
from crm.incidents import queries as incident_queries
from crm.members import queries as member_queries
from crm.preferences import queries as preferences
from crm.thanks import queries, service, vocab
from crm.thanks.panels import with_timing
from crm.web import page, redirect

WRITE = requires("thanks.write", "record or dismiss thank-yous")
TEMPLATES = requires("thanks.templates", "change thank-you templates")
QUEUE_PATH = "/thanks"
RECENT = 20
INCIDENT_CHOICES = 50


# ---- helpers -------------------------------------------------------------------------------------


def _link_id(raw: str | None, what: str) -> int | None:
    """An id the form's link names (``incident_id``, ``briefing_id`` in the query): blank is none; anything that
    names nothing is a link to nothing, so 404, like an unknown member (never a 200 form quietly dropping it)."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if not is_id(raw):
        raise NotFound(f"No {what} with id {raw}.")
    return int(raw)


def _optional_id(raw: str | None, field: str, errors: dict[str, str]) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    if not is_id(raw):
        errors[field] = "Choose from the list."
        return None
    return int(raw)


async def _member_or_404(raw: str | None) -> dict:
    raw = (raw or "").strip()
    member = await member_queries.get_member(int(raw)) if is_id(raw) else None
    if member is None:
        raise NotFound(f"No member with id {raw or '(none)'}." if raw else "Choose a member to thank.")
    return member


async def _queue_page(
    request: Request,
    *,
    dismiss_errors: dict[str, str] | None = None,
    dismiss_values: dict[str, str] | None = None,
    status_code: int = 200,
    now: datetime,
    zone: ZoneInfo,
) -> Template:
    items = with_timing(await queries.due_items(now=now, zone=zone), now, QUEUE_PATH)
    return page(
        request,
        "thanks/queue.html",
        status_code=status_code,
        title="Thank-yous",
        items=items,
        overdue=sum(1 for i in items if i["overdue"]),
        recent=await queries.recent_thanks(RECENT),
        channel_labels=vocab.CHANNEL_LABELS,
        dismiss_errors=dismiss_errors or {},
        dismiss_values=dismiss_values or {},
        due_days=await preferences.get(queries.DUE_DAYS_KEY),
    )


async def _form_page(
    request: Request, member: dict, *, values: dict[str, Any], errors: dict[str, str], status_code: int = 200
) -> Template:
    """The record form. ``values`` holds what the fields show (strings)."""
    incident_id = int(values["incident_id"]) if is_id(values.get("incident_id") or "") else None
    incidents = await incident_queries.list_incidents(limit=INCIDENT_CHOICES)
    chosen = next((i for i in incidents if i["id"] == incident_id), None)
    if incident_id is not None and chosen is None:  # an older incident than the list shows: keep it selectable
        chosen = await incident_queries.snapshot(incident_id)
        if chosen is not None:
            incidents.append(chosen)
    briefing = None
    if is_id(values.get("briefing_id") or ""):
        briefing = await briefing_queries.briefing_of_member(member["id"], int(values["briefing_id"]), incident_id)
    bodies = await service.templates()
    title = chosen["title"] if chosen else None
    rendered = {
        c: service.render(bodies[c]["body"], member_name=member["name"], incident_title=title) for c in vocab.CHANNELS
    }
    if "message" not in values:  # a fresh form starts from the chosen channel's template
        values = {**values, "message": rendered.get(values.get("channel"), "")}
    return page(
        request,
        "thanks/new.html",
        status_code=status_code,
        title=f"Say thank you to {member['name']}",
        member=member,
        incident=chosen,
        incidents=incidents,
        briefing=briefing,
        values=values,
        errors=errors,
        channels=vocab.CHANNELS,
        channel_labels=vocab.CHANNEL_LABELS,
        rendered=rendered,
    )


async def _templates_page(
    request: Request,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    stored = await service.templates()
    shown = {c: (values or {}).get(c, stored[c]["body"]) for c in vocab.CHANNELS}
    example = service.render(
        shown[vocab.DEFAULT_CHANNEL],
        member_name="Dana Whitfield",
        incident_title="In-flight Wi-Fi outage joke misfires",
    )
    return page(
        request,
        "thanks/templates.html",
        status_code=status_code,
        title="Thank-you templates",
        templates=stored,
        shown=shown,
        errors=errors or {},
        channels=vocab.CHANNELS,
        channel_labels=vocab.CHANNEL_LABELS,
        example=example,
        default_channel=vocab.DEFAULT_CHANNEL,
    )


# ---- controller ----------------------------------------------------------------------------------


class ThanksController(Controller):
    path = "/"
    include_in_schema = False

    @get("/thanks")
    async def queue(self, request: Request, now: datetime, zone: ZoneInfo) -> Template:
        return await _queue_page(request, now=now, zone=zone)

    @post("/thanks/dismiss", guards=[WRITE])
    async def dismiss(self, request: Request, zone: ZoneInfo, now: datetime, actor: Actor) -> Template | Redirect:
        form = await read_form(request)
        member_raw, incident_raw = form.get("member_id", "").strip(), form.get("incident_id", "").strip()
        if not (is_id(member_raw) and is_id(incident_raw)):
            raise NotFound("No such thank-you in the queue.")
        key = f"{incident_raw}:{member_raw}"
        try:
            await service.dismiss(
                member_id=int(member_raw),
                incident_id=int(incident_raw),
                reason=form.get("reason", ""),
                actor=actor,
                now=now,
            )
        except InvalidInput as exc:
            return await _queue_page(
                request,
                dismiss_errors={key: exc.fields.get("reason", exc.message)},
                dismiss_values={key: form.get("reason", "")},
                status_code=exc.status_code,
                now=now,
                zone=zone,
            )
        return redirect(request, QUEUE_PATH, flash="Dismissed: it leaves the queue, and the reason is on record.")

    @get("/thanks/new", guards=[WRITE])
    async def new(self, request: Request) -> Template:
        params = request.query_params
        member = await _member_or_404(params.get("member_id"))
        if member["do_not_contact"]:
            raise Conflict(f"{member['name']} is marked do-not-contact: no thank-you goes to them.")
        incident_id = _link_id(params.get("incident_id"), "incident")
        briefing_id = _link_id(params.get("briefing_id"), "briefing")
        if briefing_id is not None:
            briefing = await briefing_queries.briefing_of_member(member["id"], briefing_id, incident_id)
            if briefing is None:
                raise NotFound(
                    f"{member['name']} has no briefing {briefing_id}"
                    + (" for this incident." if incident_id is not None else ".")
                )
            incident_id = briefing["incident"]
        if incident_id is not None and await incident_queries.snapshot(incident_id) is None:
            raise NotFound(f"No incident with id {incident_id}.")
        channel = params.get("channel") if params.get("channel") in vocab.CHANNELS else vocab.DEFAULT_CHANNEL
        next_path = params.get("next") or ""
        values = {
            "member_id": str(member["id"]),
            "incident_id": str(incident_id or ""),
            "briefing_id": str(briefing_id or ""),
            "channel": channel,
            "gift": "",
            "gift_value": "",
            "sent_at": "",
            "next": safe_next(next_path) if next_path else "",
        }
        return await _form_page(request, member, values=values, errors={})

    @post("/thanks/new", guards=[WRITE])
    async def record(self, request: Request, now: datetime, actor: Actor, zone: ZoneInfo) -> Template | Redirect:
        form = await read_form(request)
        member = await _member_or_404(form.get("member_id"))
        shown = {
            k: form.get(k, "")
            for k in (
                "member_id",
                "incident_id",
                "briefing_id",
                "channel",
                "message",
                "gift",
                "gift_value",
                "sent_at",
                "next",
            )
        }
        shown["next"] = safe_next(shown["next"]) if shown["next"] else ""  # shown again in a link and a field
        errors: dict[str, str] = {}
        incident_id = _optional_id(form.get("incident_id"), "incident_id", errors)
        briefing_id = _optional_id(form.get("briefing_id"), "briefing_id", errors)
        sent_at = parse_local(form.get("sent_at", ""), zone, "sent_at", errors)
        try:
            if errors:  # the service's own messages for the other fields too; nothing is written
                service.clean(
                    channel=form.get("channel", ""),
                    message=form.get("message", ""),
                    gift=form.get("gift", ""),
                    gift_value=form.get("gift_value", ""),
                    sent_at=None,
                    now=now,
                    errors=errors,
                )
                raise InvalidInput(errors)
            row = await service.record_thanks(
                member_id=member["id"],
                incident_id=incident_id,
                briefing_id=briefing_id,
                channel=form.get("channel", ""),
                message=form.get("message", ""),
                gift=form.get("gift", ""),
                gift_value=form.get("gift_value", ""),
                sent_at=sent_at,
                actor=actor,
                now=now,
            )
        except InvalidInput as exc:
            return await _form_page(request, member, values=shown, errors=exc.fields, status_code=exc.status_code)
        target = safe_next(form.get("next")) if form.get("next") else QUEUE_PATH
        about = f" for {row['incident_title']}" if row["incident_title"] else ""
        return redirect(request, target, flash=f"Thank-you to {member['name']}{about} recorded.")

    @post("/thanks/{thank_you_id:int}/delete", guards=[WRITE])
    async def remove(self, request: Request, now: datetime, actor: Actor, thank_you_id: FromPath[int]) -> Redirect:
        form = await read_form(request)
        row = await service.delete_thanks(thank_you_id=thank_you_id, actor=actor, now=now)
        target = safe_next(form.get("next")) if form.get("next") else QUEUE_PATH
        return redirect(
            request, target, flash=f"The thank-you to {row['member_name']} was removed (kept in the audit log)."
        )

    @get("/thanks/templates", guards=[TEMPLATES])
    async def templates(self, request: Request) -> Template:
        return await _templates_page(request)

    @post("/thanks/templates", guards=[TEMPLATES])
    async def save_templates(self, request: Request, now: datetime, actor: Actor) -> Template | Redirect:
        form = await read_form(request)
        bodies = {c: form[f"body_{c}"] for c in vocab.CHANNELS if f"body_{c}" in form}
        try:
            await service.update_templates(bodies=bodies, actor=actor, now=now)
        except InvalidInput as exc:
            return await _templates_page(request, values=bodies, errors=exc.fields, status_code=exc.status_code)
        return redirect(request, "/thanks/templates", flash="Templates saved.")
