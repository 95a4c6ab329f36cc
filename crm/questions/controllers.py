"""HTML pages for late questions (playbook step 6).

- ``/questions``: unanswered first, then answered; filters by incident and "unanswered only".
- ``/questions/new``: the log form. The question box carries ``data-faq-suggest`` for crm/static/faq.js (live
  suggestions while typing, "Use this answer" fills the hidden ``faq_id``); without JavaScript the suggestions
  come after saving, on the question's page. A picked entry is recorded as the answer in the same transaction.
- ``/questions/{id}``: the question, who asked, the incident and its record-since sentence, the suggestions stored
  when it was logged that are still published (each with the composed answer to copy and "Send this answer";
  ones withdrawn since are only mentioned, never their text), for a gap the entries sharing some of its words,
  a search of the FAQ, and a free-text answer; once answered, who answered and when.
- ``/incidents/{id}/questions``: the report: questions per week since resolution (an SVG chart), the unanswered
  ones and the gaps (no FAQ entry matched: the answers to write next).

Every write goes through crm.questions.service, like the JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from crm.accounts.auth import requires
from crm.audit.service import Actor
from crm.errors import InvalidInput
from crm.faq import queries as faq_queries
from crm.faq import search
from crm.faq import service as faq_service
from crm.faq.schemas import MAX_QUERY
from crm.formatting import long_date, plural
from crm.forms import is_id, parse_local, read_form
from crm.incidents import queries as incident_queries
from crm.incidents.track_record import RecordSince, record_since
from crm.markdown import render
from crm.members import charts
from crm.members.vocab import PLATFORMS
from crm.questions import queries, service
from crm.web import page, redirect

WRITE = requires("questions.write", "log or answer late questions")

LIST_LIMIT = 100
SEARCH_LIMIT = 5
FORM_FIELDS = ("text", "asker", "platform", "member_id", "asked_at", "url", "incident_id", "faq_id")


async def _incident_options() -> list[dict]:
    return await incident_queries.list_incidents(limit=500)


async def _record(incident: dict | None, now: datetime, zone: ZoneInfo) -> RecordSince | None:
    return await record_since(incident, now=now, zone=zone) if incident else None


# ---- the log form ------------------------------------------------------------------------------------


def _optional_id(form: dict[str, str], name: str, errors: dict[str, str], message: str) -> int | None:
    value = form.get(name, "").strip().lstrip("#")
    if not value:
        return None
    if not is_id(value):
        errors[name] = message
        return None
    return int(value)


def _question_form(form: dict[str, str], zone: ZoneInfo) -> tuple[dict[str, Any], dict[str, str]]:
    """The log form as service values, and the errors only the form can see (the service judges the rest)."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        "text": form.get("text", ""),
        "asker": form.get("asker", ""),
        "platform": form.get("platform", "") or "other",
        "url": form.get("url", ""),
    }
    values["member_id"] = _optional_id(
        form, "member_id", errors, "Enter a member's id (a number), or leave it empty to match the handle."
    )
    values["incident_id"] = _optional_id(form, "incident_id", errors, "Choose an incident from the list.")
    values["faq_id"] = _optional_id(form, "faq_id", errors, "Choose an answer from the suggestions.")
    values["asked_at"] = parse_local(form.get("asked_at"), zone, "asked_at", errors)
    return values, errors


async def _new_page(
    request: Request, *, values: dict[str, Any], errors: dict[str, str], status_code: int = 200
) -> Template:
    return page(
        request,
        "questions/new.html",
        status_code=status_code,
        title="Log a late question",
        values=values,
        errors=errors,
        platforms=PLATFORMS,
        incidents=await _incident_options(),
    )


# ---- the question page -------------------------------------------------------------------------------


async def _entry_items(entries: list[dict], *, now: datetime, zone: ZoneInfo) -> list[dict]:
    """FAQ entries as the question page shows them: rendered answer, incident and its date, and the text
    "Send this answer" records (the answer plus the incident's record-since sentence)."""
    items, records = [], {}
    for entry in entries:
        incident_id = entry["incident"]
        if incident_id not in records:
            incident = await incident_queries.snapshot(incident_id)
            records[incident_id] = (incident, await _record(incident, now, zone))
        incident, since = records[incident_id]
        items.append(
            {
                **entry,
                "rendered": render(entry["answer"]),
                "incident_title": incident["title"] if incident else "",
                "incident_date": long_date(incident["detected_at"], zone) if incident else "",
                "composed": service.compose_answer(entry, since.sentence if since else ""),
                "sendable": entry["status"] == "published",
            }
        )
    return items


def _withdrawn(entry: dict, request: Request) -> dict:
    """An entry that is no longer published, as the page may mention it: never its question or answer (a draft
    is not approved and a retired answer may be wrong; nor may everyone read a draft). Those who may read it
    get a link to its FAQ page, where its own rules apply."""
    may_see = faq_service.may_see(entry, can_write=request.user.can("faq.write"), user_id=request.user.id)
    return {"id": entry["id"], "status": entry["status"], "link": may_see}


async def _stored_suggestions(question: dict, request: Request) -> tuple[list[dict], list[dict]]:
    """The entries suggested when the question was logged, in their order: those still published, and those
    withdrawn since (see _withdrawn); ones deleted since are left out."""
    entries, withdrawn = [], []
    for entry_id in question["suggested"]:
        entry = await faq_queries.get_or_none(entry_id)
        if entry is None:
            continue
        if entry["status"] == "published":
            entries.append(entry)
        else:
            withdrawn.append(_withdrawn(entry, request))
    return entries, withdrawn


async def _published(rows: list[dict], exclude: list[int], limit: int) -> list[dict]:
    """Search results as full entries, still published when read again, without ``exclude``."""
    found = []
    for row in rows:
        if row["id"] not in exclude:
            entry = await faq_queries.get_or_none(row["id"])
            if entry is not None and entry["status"] == "published":
                found.append({**entry, "snippet": row["snippet"]})
    return found[:limit]


async def _search_again(q: str, exclude: list[int]) -> list[dict]:
    return await _published(
        await search.search(q[:MAX_QUERY], limit=SEARCH_LIMIT + len(exclude)), exclude, SEARCH_LIMIT
    )


async def _question_page(
    request: Request,
    question_id: int,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
    now: datetime,
    zone: ZoneInfo,
) -> Template:
    question = await service.get(question_id)
    incident = await incident_queries.snapshot(question["incident"]) if question["incident"] else None
    stored, withdrawn = await _stored_suggestions(question, request)
    shown = [e["id"] for e in stored]
    # A gap: the entries sharing only some of its words, as they are now (published only), worth a look.
    related = (
        await _published(
            await service.related(question["text"], incident_id=question["incident"]), shown, service.SUGGESTIONS
        )
        if queries.is_gap(question)
        else []
    )
    q = (request.query_params.get("q") or "").strip()
    found = await _search_again(q, shown + [e["id"] for e in related]) if q else []
    answered = await faq_queries.get_or_none(question["faq"]) if question["faq"] else None
    return page(
        request,
        "questions/show.html",
        status_code=status_code,
        title="Late question",
        question=question,
        incident=incident,
        record=await _record(incident, now, zone),
        suggestions=await _entry_items(stored, now=now, zone=zone),
        withdrawn=withdrawn,
        related=await _entry_items(related, now=now, zone=zone),
        found=await _entry_items(found, now=now, zone=zone),
        q=q,
        errors=errors or {},
        values=values or {},
        answered_entry=answered if answered and answered["status"] == "published" else None,
        answered_withdrawn=_withdrawn(answered, request) if answered and answered["status"] != "published" else None,
    )


# ---- the report -------------------------------------------------------------------------------------


def report_summary(weeks: list[tuple], *, since: datetime, resolved: bool, total_weeks: int, zone: ZoneInfo) -> str:
    """The chart in one sentence (its accessible name and the text under it)."""
    asked = sum(count for _, count in weeks)
    since_text = f"since it was {'resolved' if resolved else 'detected'} on {long_date(since, zone)}"
    shown = f" (the chart shows the last {len(weeks)})" if len(weeks) < total_weeks else ""
    if asked == 0:
        return f"No late questions in the {plural(total_weeks, 'week')} {since_text}{shown}."
    peak_start, peak = max(weeks, key=lambda w: (w[1], w[0]))
    return (
        f"{plural(asked, 'late question')} in the {plural(total_weeks, 'week')} {since_text}{shown}; "
        f"the busiest week began {peak_start.isoformat()} with {peak}."
    )


class QuestionsController(Controller):
    path = "/"
    include_in_schema = False

    @get("/questions")
    async def index(self, request: Request) -> Template:
        params = request.query_params
        raw_incident = (params.get("incident") or "").strip()
        incident_id = int(raw_incident) if is_id(raw_incident) else None
        errors = {} if incident_id is not None or not raw_incident else {"incident": "Choose an incident."}
        only_unanswered = params.get("unanswered") == "1"
        unanswered = await queries.list_questions(incident_id=incident_id, answered=False, limit=LIST_LIMIT)
        answered = (
            []
            if only_unanswered
            else await queries.list_questions(incident_id=incident_id, answered=True, limit=LIST_LIMIT)
        )
        return page(
            request,
            "questions/list.html",
            status_code=422 if errors else 200,
            title="Late questions",
            unanswered=unanswered,
            answered=answered,
            incidents=await _incident_options(),
            incident_id=incident_id,
            only_unanswered=only_unanswered,
            errors=errors,
            limit=LIST_LIMIT,
            gap=queries.is_gap,
        )

    @get("/questions/new", guards=[WRITE])
    async def new(self, request: Request) -> Template:
        params = request.query_params
        # asked_at stays empty: "now" to the second when saved (a pre-filled minute would be a little earlier).
        values = {"platform": params.get("platform") or "other", "asker": params.get("asker") or ""}
        for key in ("incident_id", "member_id"):
            if is_id(params.get(key) or ""):
                values[key] = params[key]
        return await _new_page(request, values=values, errors={})

    @post("/questions", guards=[WRITE])
    async def create(self, request: Request, now: datetime, actor: Actor, zone: ZoneInfo) -> Template | Redirect:
        form = await read_form(request)
        values, errors = _question_form(form, zone)
        try:
            if errors:
                try:  # the service's own messages for the other fields; nothing is written
                    await service.clean_question({**values, **{k: None for k in errors}}, now=now)
                except InvalidInput as exc:
                    errors = {**exc.fields, **errors}
                raise InvalidInput(errors)
            # Logged and, when an answer was picked while typing, answered at once.
            question, suggestions = await service.log_and_answer(values=values, actor=actor, now=now, zone=zone)
        except InvalidInput as exc:
            shown = {key: form.get(key, "") for key in FORM_FIELDS}
            return await _new_page(
                request,
                values=shown,
                errors={**exc.fields, "form": "The question was not logged: see the fields marked below."},
                status_code=exc.status_code,
            )
        if values["faq_id"] is not None:
            message = "Logged and answered with the FAQ entry you picked."
        elif suggestions:
            message = f"Logged. {plural(len(suggestions), 'FAQ answer')} matched: pick one below or write your own."
        else:
            message = "Logged. No FAQ entry matched: write the answer below, and propose a FAQ entry for next time."
        return redirect(request, f"/questions/{question['id']}", flash=message)

    @get("/questions/{question_id:int}")
    async def show(self, request: Request, now: datetime, zone: ZoneInfo, question_id: FromPath[int]) -> Template:
        return await _question_page(request, question_id, now=now, zone=zone)

    @post("/questions/{question_id:int}/answer", guards=[WRITE])
    async def answer(
        self, request: Request, now: datetime, actor: Actor, zone: ZoneInfo, question_id: FromPath[int]
    ) -> Template | Redirect:
        await service.get(question_id)
        form = await read_form(request)
        errors: dict[str, str] = {}
        faq_id = _optional_id(form, "faq_id", errors, "Choose an answer from the suggestions.")
        values = {"answer_text": form.get("answer_text", ""), "faq_id": faq_id, "form_id": form.get("faq_id", "")}
        try:
            if errors:
                raise InvalidInput(errors)
            await service.answer_question(
                question_id=question_id,
                values={k: values[k] for k in ("answer_text", "faq_id")},
                actor=actor,
                now=now,
                zone=zone,
            )
        except InvalidInput as exc:
            return await _question_page(
                request,
                question_id,
                values=values,
                status_code=exc.status_code,
                errors={**exc.fields, "form": "The answer was not recorded: " + " ".join(exc.fields.values())},
                now=now,
                zone=zone,
            )
        return redirect(request, f"/questions/{question_id}#answer", flash="Answer recorded.")

    @get("/incidents/{incident_id:int}/questions")
    async def report(self, request: Request, now: datetime, zone: ZoneInfo, incident_id: FromPath[int]) -> Template:
        incident = await incident_queries.incident_or_404(incident_id)
        rows = await queries.of_incident(incident_id)
        resolved = incident["resolved_at"] is not None
        since = incident["resolved_at"] or incident["detected_at"]
        weeks = queries.weekly([r["asked_at"] for r in rows], since=since, now=now, zone=zone)
        summary = report_summary(
            weeks, since=since, resolved=resolved, zone=zone, total_weeks=queries.weeks_between(since, now, zone)
        )
        chart = charts.weekly_bar_chart(
            weeks,
            chart_id="questions-chart",
            title="Late questions per week",
            summary=summary,
            caption=f"Late questions per week (weeks start on Monday, {zone.key})",
            column="Late questions",
        )
        return page(
            request,
            "questions/report.html",
            title=f"Late questions: {incident['title']}",
            incident=incident,
            record=await _record(incident, now, zone),
            chart=chart,
            summary=summary,
            total=len(rows),
            unanswered=[r for r in rows if r["answered_at"] is None],
            gaps=[r for r in rows if queries.is_gap(r)],
            log_url="/questions/new?" + urlencode({"incident_id": incident_id}),
        )
