"""HTML pages for briefing advocates during an incident (playbook step 5).

- The incident page's "Advocates" section is panels.py; from it, the CSV export of who was briefed
  (``GET /incidents/{id}/briefings.csv``) and each row's outcome (``POST /briefings/{id}/outcome``) are here.
- ``GET /incidents/{id}/suggestions``: the ranked suggestions, each with its reasons and factor contributions,
  checkboxes and one form to brief the ticked members at once, Accept / Skip / Not a good fit per suggestion, and
  "Why is X not suggested?". The note is free text, so this lives on its own page (the incident page reloads).
- ``POST /incidents/{id}/briefings``: briefs each ticked member in its own service call, so one refusal
  (do-not-contact, no consent, already briefed) never stops the others; the result page shows each composed
  message ready to copy (and a ``mailto:`` link for email) and each refusal next to the member's name.

Every write goes through crm.briefings.service, like the JSON API."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from crm.accounts import queries as accounts_queries
from crm.accounts.auth import requires
from crm.audit.service import Actor
from crm.briefings import queries, service, suggestions
from crm.briefings.vocab import CHANNEL_LABELS, CHANNELS, FACTOR_LABELS, OUTCOME_LABELS, VERDICT_LABELS
from crm.errors import Conflict, InvalidInput, NotFound
from crm.formatting import csv_cell
from crm.forms import is_id, read_form
from crm.incidents import queries as incident_queries
from crm.incidents import talking_points
from crm.incidents.vocab import OPEN_STATUSES
from crm.members import queries as member_queries
from crm.web import page, redirect

WRITE = requires("briefings.write", "brief members")

SUGGESTIONS_SHOWN = 25
MAX_AT_ONCE = 100
WHY_MATCHES = 5
SECTION_LABELS = {"points": "Points to share", "avoid": "What not to say", "links": "Links"}
CSV_COLUMNS = ("member_id", "member", "version", "channel", "briefed_by", "briefed_at", "outcome", "outcome_at", "note")


# ---- helpers -------------------------------------------------------------------------------------


def _utc_iso(at: datetime | None) -> str:
    if at is None:
        return ""
    return (at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)).isoformat()


def factor_rows(factors: dict[str, float]) -> list[tuple[str, float]]:
    """(label, contribution), biggest first; the zero ones last."""
    return sorted(((FACTOR_LABELS.get(k, k), v) for k, v in factors.items()), key=lambda kv: -kv[1])


def mailto(email: str | None, subject: str, body: str) -> str:
    """RFC 6068: percent-encoded (spaces as %20, never +), line breaks as %0D%0A."""
    body = body.replace("\r\n", "\n").replace("\n", "\r\n")
    to = quote(email or "", safe="@")
    return f"mailto:{to}?subject={quote(subject, safe='')}&body={quote(body, safe='')}"


def _preferred_handle(member: dict, incident: dict) -> dict | None:
    handles = member.get("handles") or []
    return next((h for h in handles if h["platform"] in incident["platforms"]), None) or (
        handles[0] if handles else None
    )


async def _find_members(text: str) -> list[dict]:
    """For "why is X not suggested?": a member id, or live members whose name contains the text."""
    text = text.strip()[:200]
    if not text:
        return []
    if is_id(text.lstrip("#")):
        member_id = int(text.lstrip("#"))
        if member_id > 2**62:
            return []
        row = await member_queries.member_name(member_id)
        return [row or {"id": member_id, "name": f"member {member_id}"}]
    return await member_queries.live_named_like(text, WHY_MATCHES + 1)


async def _why(incident: dict, text: str, ranking: suggestions.Ranking, now: datetime) -> dict[str, Any]:
    """Each matching member: suggested (at which position) or why not."""
    found = await _find_members(text)
    more = len(found) > WHY_MATCHES
    found = found[:WHY_MATCHES]
    answers = []
    if found:
        checked = await suggestions.rank(incident, now=now, member_ids=[m["id"] for m in found])
        positions = checked.positions  # in the whole ranking, though the page shows only its top
        excluded = {e.member_id: e for e in checked.excluded}
        scored = {s.member_id: s for s in checked.items}
        for m in found:
            answer = {"member_id": m["id"], "name": m["name"], "reason": None, "skipped": False}
            if m["id"] in positions:
                answer["text"] = f"They are suggested, at position {positions[m['id']]} of {ranking.total}."
                answer["suggested"] = True
            elif m["id"] in excluded:
                e = excluded[m["id"]]
                answer.update(text=e.explanation, reason=e.reason, skipped=e.reason == "skipped")
            elif m["id"] in scored:
                answer["text"] = (
                    f"Not among the candidates: only members with interactions, members in this "
                    f"conversation and advocates or champions are ranked. Their score would be "
                    f"{scored[m['id']].score:.2f}."
                )
            else:
                answer["text"] = "Not found."
            answers.append(answer)
    return {"text": text, "answers": answers, "more": more}


async def _suggestions_page(
    request: Request,
    incident: dict,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
    now: datetime,
) -> Template:
    params = request.query_params
    show_all = params.get("all") == "1"
    ranking = await suggestions.rank(incident, now=now, k=None if show_all else SUGGESTIONS_SHOWN)
    why_text = (params.get("why") or "").strip()
    why = await _why(incident, why_text, ranking, now) if why_text else None
    values = values or {}
    picked = set(values.get("member_ids") or [])
    return page(
        request,
        "briefings/suggestions.html",
        status_code=status_code,
        title=f"Whom to brief: {incident['title']}",
        incident=incident,
        current=await talking_points.current(incident["id"]),
        items=ranking.items,
        total=ranking.total,
        show_all=show_all,
        shown_limit=SUGGESTIONS_SHOWN,
        factor_rows=factor_rows,
        why=why,
        channels=CHANNELS,
        channel_labels=CHANNEL_LABELS,
        verdict_labels=VERDICT_LABELS,
        errors=errors or {},
        values={"channel": values.get("channel", "dm"), "note": values.get("note", "")},
        picked=picked,
        is_open=incident["status"] in OPEN_STATUSES,
    )


async def _result_item(row: dict, incident: dict, names: dict[int, str]) -> dict[str, Any]:
    member = await member_queries.get_member(row["member"]) or {
        "id": row["member"],
        "name": row.get("member_name") or f"member {row['member']}",
        "email": None,
        "handles": [],
    }
    handle = _preferred_handle(member, incident)
    return {
        **row,
        "member_name": member["name"],
        "email": member.get("email"),
        "handle": f"@{handle['handle']} on {handle['platform']}" if handle else None,
        "mailto": mailto(member.get("email"), f"About \u201c{incident['title']}\u201d", row["message"])
        if row["channel"] == "email"
        else None,
        "briefed_by_name": names.get(row["briefed_by"]),
    }


# ---- controller ----------------------------------------------------------------------------------


class BriefingsController(Controller):
    path = "/"
    include_in_schema = False

    @get("/incidents/{incident_id:int}/suggestions")
    async def suggestions_page(self, request: Request, now: datetime, incident_id: FromPath[int]) -> Template:
        incident = await incident_queries.incident_or_404(incident_id)
        return await _suggestions_page(request, incident, now=now)

    @post("/incidents/{incident_id:int}/suggestions/{member_id:int}/feedback", guards=[WRITE])
    async def feedback(
        self, request: Request, now: datetime, actor: Actor, incident_id: FromPath[int], member_id: FromPath[int]
    ) -> Redirect:
        await incident_queries.incident_or_404(incident_id)
        member = await member_queries.get_member(member_id)
        if member is None:
            raise NotFound(f"No member with id {member_id}.")
        verdict = (await read_form(request)).get("verdict", "")
        await service.give_feedback(
            incident_id=incident_id,
            member_id=member_id,
            verdict=verdict,
            actor=actor,
            now=now,
        )
        message = {
            "accepted": f"{member['name']}: accepted. They stay in the list, ticked.",
            "skipped": f"{member['name']} skipped for this incident: they leave the list.",
            "bad_fit": f"{member['name']} marked as not a good fit: they leave the list.",
        }[verdict]
        return redirect(request, f"/incidents/{incident_id}/suggestions", flash=message)

    @post("/incidents/{incident_id:int}/briefings", guards=[WRITE])
    async def brief(self, request: Request, now: datetime, actor: Actor, incident_id: FromPath[int]) -> Template:
        incident = await incident_queries.incident_or_404(incident_id)
        form_data = await request.form()
        raw = [v.strip() for v in form_data.getall("member_id", []) if isinstance(v, str)]
        form = await read_form(request)
        channel, note = form.get("channel", ""), form.get("note", "")
        ids: list[int] = []
        for value in raw:
            if is_id(value) and int(value) not in ids:
                ids.append(int(value))
        values = {"channel": channel, "note": note, "member_ids": ids}
        errors: dict[str, str] = {}
        if len(ids) != len(raw) and not errors:
            errors["member_id"] = "Choose members from the list."
        elif not ids:
            errors["member_id"] = "Tick at least one member to brief."
        elif len(ids) > MAX_AT_ONCE:
            errors["member_id"] = f"Brief at most {MAX_AT_ONCE} members at once."
        if channel not in CHANNELS:
            errors["channel"] = f"Choose one of: {', '.join(CHANNELS)}."
        if await talking_points.current(incident_id) is None:
            errors["form"] = "No talking points are approved for this incident yet: approve a version first."
        if errors:
            return await _suggestions_page(
                request, incident, errors=errors, values=values, status_code=409 if "form" in errors else 422, now=now
            )
        briefed, refused = [], []
        for member_id in ids:
            try:
                briefed.append(
                    await service.brief(
                        incident_id=incident_id, member_id=member_id, channel=channel, note=note, actor=actor, now=now
                    )
                )
            except InvalidInput as exc:  # the channel or the note: the same for everyone, nothing written yet
                if briefed:
                    raise
                return await _suggestions_page(
                    request, incident, errors=exc.fields, values=values, status_code=exc.status_code, now=now
                )
            except (Conflict, NotFound) as exc:
                member = await member_queries.member_name(member_id)
                refused.append(
                    {
                        "member_id": member_id,
                        "name": member["name"] if member else f"member {member_id}",
                        "message": exc.message,
                        "reason": exc.fields.get("member_id", ""),
                    }
                )
        names = await accounts_queries.user_names()
        items = [await _result_item(row, incident, names) for row in briefed]
        return page(
            request,
            "briefings/result.html",
            status_code=200 if briefed else 409,
            title="Briefed" if briefed else "Nobody was briefed",
            incident=incident,
            items=items,
            refused=refused,
            channel_labels=CHANNEL_LABELS,
            outcome_labels=OUTCOME_LABELS,
            after_post=True,
        )

    @get("/incidents/{incident_id:int}/briefings/{briefing_id:int}")
    async def show_briefing(self, request: Request, incident_id: FromPath[int], briefing_id: FromPath[int]) -> Template:
        incident = await incident_queries.incident_or_404(incident_id)
        row = await queries.get(briefing_id)
        if row["incident"] != incident_id:
            raise NotFound(f"Incident {incident_id} has no briefing {briefing_id}.")
        item = await _result_item(row, incident, await accounts_queries.user_names())
        return page(
            request,
            "briefings/result.html",
            title=f"Briefing of {item['member_name']}",
            incident=incident,
            items=[item],
            refused=[],
            channel_labels=CHANNEL_LABELS,
            outcome_labels=OUTCOME_LABELS,
            after_post=False,
        )

    @post("/briefings/{briefing_id:int}/outcome", guards=[WRITE])
    async def outcome(self, request: Request, now: datetime, actor: Actor, briefing_id: FromPath[int]) -> Redirect:
        before = await queries.get(briefing_id)
        outcome = (await read_form(request)).get("outcome", "")
        row = await service.set_outcome(
            briefing_id=briefing_id,
            outcome=outcome,
            actor=actor,
            now=now,
        )
        member = await member_queries.member_name(row["member"])
        name = member["name"] if member else f"member {row['member']}"
        return redirect(
            request,
            f"/incidents/{before['incident']}#advocates",
            flash=f"Briefing of {name} (v{row['version']}): {OUTCOME_LABELS[row['outcome']]}.",
        )

    @get("/incidents/{incident_id:int}/briefings.csv")
    async def export_csv(self, request: Request, now: datetime, incident_id: FromPath[int]) -> Response:
        await incident_queries.incident_or_404(incident_id)
        names = await accounts_queries.user_names()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        for row in await queries.briefings_for(incident_id):
            writer.writerow(
                [
                    csv_cell(v)
                    for v in (
                        row["member"],
                        row["member_name"] or "",
                        row["version"],
                        row["channel"],
                        names.get(row["briefed_by"], ""),
                        _utc_iso(row["briefed_at"]),
                        row["outcome"],
                        _utc_iso(row["outcome_at"]),
                        row["note"] or "",
                    )
                ]
            )
        stamp = now.strftime("%Y%m%d-%H%M")
        return Response(
            buffer.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="incident-{incident_id}-briefings-{stamp}.csv"',
                "Cache-Control": "no-store",
            },
        )
