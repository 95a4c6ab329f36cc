"""HTML pages for the incident FAQ: the search page (the agents' main screen), an entry with its history, the
propose/write and edit forms, publish/retire/mark-reviewed buttons, the "show on the public FAQ" switch of the
incident page's FAQ section (the section itself is panels.py). The public FAQ pages (no sign-in, no personal data)
are public_controllers.py.

The same services as the JSON API; answers are shown as HTML only through crm.markdown.render, and the only
other markup we mark safe is search.py's snippet (escaped text plus our own <mark> tags)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from crm.accounts import queries as accounts_queries
from crm.accounts.auth import requires
from crm.audit.service import Actor
from crm.errors import InvalidInput, NotFound, PermissionDenied
from crm.faq import queries, search, service
from crm.faq.schemas import search_params
from crm.faq.vocab import ACTION_LABELS, FIELD_LABELS, STATUSES
from crm.forms import is_id, is_on, read_form, safe_next
from crm.incidents import queries as incidents
from crm.markdown import render
from crm.web import page, redirect

WRITE = requires("faq.write", "change FAQ entries")
PROPOSE = requires("faq.propose", "propose FAQ entries")
PUBLICISE = requires("faq.publicise", "put an incident's FAQ on the public page")

STATUS_FLASH = {
    "published": "Published: agents and search now use this answer.",
    "retired": "Retired: it no longer appears in search or on the public page.",
    "draft": "Moved back to draft.",
}


def _can_write(request: Request) -> bool:
    return request.user.can("faq.write")


async def _visible(request: Request, entry_id: int) -> dict:
    """The entry if this user may read it: 404 when missing, 403 for someone else's draft (agents, viewers)."""
    entry = await queries.get(entry_id)
    if not service.may_see(entry, can_write=_can_write(request), user_id=request.user.id):
        raise PermissionDenied("This entry is a draft that has not been approved yet.")
    return entry


# ---- forms ---------------------------------------------------------------------------------------


def _entry_form(form: dict[str, str], *, can_write: bool) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """(service values, values to show again, errors the form itself found). Agents' forms carry no status:
    whatever they send, they propose a draft."""
    errors: dict[str, str] = {}
    shown = {
        k: form.get(k, "") for k in ("incident_id", "question", "answer", "tags", "status", "talking_points_version")
    }
    values: dict[str, Any] = {
        "question": shown["question"],
        "answer": shown["answer"],
        "tags": [t for t in shown["tags"].split(",") if t.strip()],
    }
    if can_write:
        values["status"] = shown["status"] or "draft"
        version = shown["talking_points_version"].strip()
        if not version:
            values["talking_points_version"] = None
        elif is_id(version) and int(version) >= 1:
            values["talking_points_version"] = int(version)
        else:
            errors["talking_points_version"] = "A talking-points version number (1 or more), or leave it empty."
    return values, shown, errors


async def _form_page(
    request: Request, *, values: dict, errors: dict, entry: dict | None = None, status_code: int = 200
) -> Template:
    title = "Edit FAQ entry" if entry else ("New FAQ entry" if _can_write(request) else "Propose a FAQ entry")
    return page(
        request,
        "faq/form.html",
        status_code=status_code,
        title=title,
        values=values,
        errors=errors,
        entry=entry,
        incidents=await queries.incident_choices(),
        statuses=STATUSES,
        can_write=_can_write(request),
    )


def _shown_entry(entry: dict) -> dict[str, str]:
    version = entry["talking_points_version"]
    return {
        "incident_id": str(entry["incident"]),
        "question": entry["question"],
        "answer": entry["answer"],
        "tags": ", ".join(entry["tags"]),
        "status": entry["status"],
        "talking_points_version": "" if version is None else str(version),
    }


# ---- the entry page --------------------------------------------------------------------------------


def _shown_value(field: str, value: Any, zone: ZoneInfo) -> str:
    """A before/after value in plain words (templates escape it)."""
    if value is None or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if field == "reviewed_at" and isinstance(value, str):
        try:
            return datetime.fromisoformat(value).astimezone(zone).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return value
    return str(value)


def _history(rows: list[dict], names: dict[int, str], zone: ZoneInfo) -> list[dict]:
    """Newest first: who, when, what, and each changed field's before and after."""
    out = []
    for r in reversed(rows):
        changes = [
            {
                "field": FIELD_LABELS.get(k, k),
                "before": _shown_value(k, v.get("before"), zone),
                "after": _shown_value(k, v.get("after"), zone),
            }
            for k, v in r["changes"].items()
            if isinstance(v, dict)
        ]
        out.append(
            {
                "at": r["at"],
                "by": names.get(r["by"], "someone no longer here") if r["by"] else "the system",
                "action": ACTION_LABELS.get(r["action"], r["action"]),
                "changes": changes,
            }
        )
    return out


async def _entry_page(
    request: Request, entry: dict, *, alert: str | None = None, status_code: int = 200, now: datetime, zone: ZoneInfo
) -> Template:
    days = await service.review_days()
    names = await accounts_queries.user_names()
    incident = await incidents.snapshot(entry["incident"])
    return page(
        request,
        "faq/show.html",
        status_code=status_code,
        title=entry["question"],
        entry=entry,
        incident=incident,
        answer_html=render(entry["answer"]),
        names=names,
        days=days,
        review_due=service.review_due(entry, now=now, days=days),
        alert=alert,
        history=_history(await queries.history(entry["id"]), names, zone),
        can_write=_can_write(request),
    )


# ---- controllers -----------------------------------------------------------------------------------


class FaqController(Controller):
    path = "/"
    include_in_schema = False

    @get("/faq")
    async def index(self, request: Request, now: datetime) -> Template:
        """Search (best first) or, with no words, browse the filtered entries (newest first)."""
        params = request.query_params
        can_write = _can_write(request)
        incident_raw = (params.get("incident_id") or "").strip()
        errors: dict[str, str] = {}
        asked = search_params(
            errors,
            q=params.get("q") or "",
            incident_id=incident_raw,
            tag=params.get("tag") or "",
            # Drafts and the review-due list are for the people who publish; anyone else asking gets neither.
            review_due=can_write and is_on(params.get("review_due")),
            drafts=can_write and is_on(params.get("drafts")),
        )
        days = await service.review_days()
        results: list[dict] = []
        searching = bool(search.words(asked.q))
        if not errors:
            filters = {
                "incident_id": asked.incident_id,
                "tag": asked.tag or None,
                "include_drafts": asked.drafts,
                "due_before": service.due_before(now, days) if asked.review_due else None,
                "limit": asked.limit,
            }
            results = await (search.search(asked.q, **filters) if searching else search.browse(**filters))
        items = [
            {**r, "answer_html": render(r["answer"]), "review_due": service.review_due(r, now=now, days=days)}
            for r in results
        ]
        return page(
            request,
            "faq/search.html",
            status_code=422 if errors else 200,
            title="FAQ",
            items=items,
            errors=errors,
            filters={
                "q": asked.q,
                "tag": asked.tag,
                "incident_id": incident_raw,
                "drafts": asked.drafts,
                "review_due": asked.review_due,
            },
            searching=searching,
            filtered=bool(incident_raw or asked.tag or asked.review_due),
            can_write=can_write,
            incidents=await queries.incident_choices(),
            tags=await queries.tags_in_use(include_drafts=can_write),
            days=days,
        )

    @get("/faq/new", guards=[PROPOSE])
    async def new(self, request: Request) -> Template:
        incident_id = request.query_params.get("incident_id") or ""
        return await _form_page(
            request, values={"incident_id": incident_id if is_id(incident_id) else "", "status": "draft"}, errors={}
        )

    @post("/faq", guards=[PROPOSE])
    async def create(self, request: Request, now: datetime, actor: Actor) -> Template | Redirect:
        can_write = _can_write(request)
        values, shown, errors = _entry_form(await read_form(request), can_write=can_write)
        incident_raw = shown["incident_id"].strip()
        if not is_id(incident_raw):
            errors["incident_id"] = "Choose the incident this answer is about."
        try:
            if errors:
                raise InvalidInput({**service.validate(values, partial=False), **errors})
            entry = await service.create_entry(
                incident_id=int(incident_raw),
                values=values,
                actor=actor,
                now=now,
                may_publish=can_write,
            )
        except InvalidInput as exc:
            return await _form_page(request, values=shown, errors=exc.fields, status_code=exc.status_code)
        except NotFound:
            return await _form_page(
                request,
                values=shown,
                status_code=422,
                errors={"incident_id": "That incident does not exist (any more)."},
            )
        flash = (
            "Saved."
            if entry["status"] != "draft"
            else "Draft saved. Publish it when it is approved."
            if can_write
            else "Thank you: your draft is saved; a manager will review and publish it."
        )
        return redirect(request, f"/faq/{entry['id']}", flash=flash)

    @get("/faq/{entry_id:int}")
    async def show(self, request: Request, now: datetime, zone: ZoneInfo, entry_id: FromPath[int]) -> Template:
        return await _entry_page(request, await _visible(request, entry_id), now=now, zone=zone)

    @get("/faq/{entry_id:int}/edit", guards=[WRITE])
    async def edit(self, request: Request, entry_id: FromPath[int]) -> Template:
        entry = await queries.get(entry_id)
        return await _form_page(request, values=_shown_entry(entry), errors={}, entry=entry)

    @post("/faq/{entry_id:int}/edit", guards=[WRITE])
    async def update(
        self, request: Request, now: datetime, actor: Actor, entry_id: FromPath[int]
    ) -> Template | Redirect:
        entry = await queries.get(entry_id)
        values, shown, errors = _entry_form(await read_form(request), can_write=True)
        shown["incident_id"] = str(entry["incident"])
        try:
            if errors:
                raise InvalidInput({**service.validate(values, partial=True), **errors})
            await service.update_entry(
                entry_id=entry_id,
                values=values,
                actor=actor,
                now=now,
            )
        except InvalidInput as exc:
            return await _form_page(request, values=shown, errors=exc.fields, entry=entry, status_code=exc.status_code)
        return redirect(request, f"/faq/{entry_id}", flash="Saved.")

    @post("/faq/{entry_id:int}/status", guards=[WRITE])
    async def set_status(
        self, request: Request, zone: ZoneInfo, now: datetime, actor: Actor, entry_id: FromPath[int]
    ) -> Template | Redirect:
        entry = await queries.get(entry_id)
        status = (await read_form(request)).get("status", "")
        try:
            await service.update_entry(
                entry_id=entry_id,
                values={"status": status},
                actor=actor,
                now=now,
            )
        except InvalidInput as exc:
            return await _entry_page(
                request,
                entry,
                alert=exc.fields.get("status", exc.message),
                status_code=exc.status_code,
                now=now,
                zone=zone,
            )
        return redirect(request, f"/faq/{entry_id}", flash=STATUS_FLASH[status])

    @post("/faq/{entry_id:int}/reviewed", guards=[WRITE])
    async def mark_reviewed(self, request: Request, now: datetime, actor: Actor, entry_id: FromPath[int]) -> Redirect:
        await service.update_entry(
            entry_id=entry_id,
            values={"reviewed": True},
            actor=actor,
            now=now,
        )
        next_page = safe_next((await read_form(request)).get("next"))  # back to the review-due list, say
        target = next_page if next_page.startswith("/faq") else f"/faq/{entry_id}"
        return redirect(request, target, flash="Marked reviewed: the answer is still right.")

    @post("/incidents/{incident_id:int}/faq/public", guards=[PUBLICISE])
    async def set_public(self, request: Request, now: datetime, actor: Actor, incident_id: FromPath[int]) -> Redirect:
        public = is_on((await read_form(request)).get("public"))
        await service.set_public(
            incident_id=incident_id,
            public=public,
            actor=actor,
            now=now,
        )
        flash = (
            "Its published answers are now on the public FAQ page." if public else "Removed from the public FAQ page."
        )
        return redirect(request, f"/incidents/{incident_id}#faq", flash=flash)
