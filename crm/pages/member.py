"""The member page: profile, engagement with its weekly chart, the one timeline (timeline.py), the quick log form,
likely duplicates and past merges from members, and the health card of advocates and champions from advocacy.

The quick log form posts here, because a refused interaction answers with the whole page, the values kept and the
fields marked. The member's other forms (edit, delete, erase, merge) are in crm/members/controllers.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from crm.accounts import queries as accounts_queries
from crm.advocacy import service as advocacy
from crm.audit.service import Actor
from crm.errors import InvalidInput
from crm.forms import checked, local_input, parse_local, read_form
from crm.members import charts, engagement, interactions, merge, queries, read
from crm.members.controllers import WRITE
from crm.members.vocab import KINDS, PLATFORMS, SENTIMENTS, STATE_LABELS
from crm.pages import timeline
from crm.web import page, redirect

TIMELINE_PAGE = 25


def _interaction_form(form: dict[str, str], member_id: int, zone: ZoneInfo) -> tuple[dict[str, Any], dict[str, str]]:
    """The quick log form: the datetime-local field is read in the CRM's time zone."""
    errors: dict[str, str] = {}
    occurred_at = parse_local(form.get("occurred_at"), zone, "occurred_at", errors)
    if occurred_at is None and "occurred_at" not in errors:
        errors["occurred_at"] = "Say when it happened."
    values = {
        "member_id": member_id,
        "platform": form.get("platform", ""),
        "kind": form.get("kind", ""),
        "sentiment": form.get("sentiment", "") or "unknown",
        "text": form.get("text", ""),
        "url": form.get("url", ""),
        "troll": checked(form, "troll"),
        "occurred_at": occurred_at,
    }
    return values, errors


async def member_page(
    request: Request,
    member_id: int,
    *,
    before: str | None = None,
    log_values: dict | None = None,
    log_errors: dict | None = None,
    status_code: int = 200,
    now: datetime,
    zone: ZoneInfo,
) -> Template:
    member, eng, days = await read.member_with_engagement(member_id, now)
    try:
        events, older = await timeline.page(member_id, cursor=before, limit=TIMELINE_PAGE)
    except (ValueError, TypeError, KeyError):
        raise InvalidInput({"before": "This link to older interactions is not valid; start from the newest."}) from None
    weeks = engagement.weekly_counts(days, now)
    past_merges = []
    for row in await merge.merges_into(member_id):
        merged = await queries.member_snapshot(row["merged"])
        past_merges.append({**row, "merged_name": merged["name"] if merged else f"member {row['merged']}"})
    names = await accounts_queries.user_names(
        [member["owner"], member["consent_recorded_by"], *(r["merged_by"] for r in past_merges)]
    )
    default_platform = member["handles"][0]["platform"] if member["handles"] else "other"
    return page(
        request,
        "members/show.html",
        status_code=status_code,
        title=member["name"],
        member=member,
        e=eng,
        state_label=STATE_LABELS[eng.state],
        state_explained=read.explain_state(member, eng, now),
        chart=charts.weekly_bar_chart(weeks),
        chart_summary=charts.weekly_summary(weeks),
        timeline=events,
        older_url=f"/members/{member_id}?{urlencode({'before': older})}#timeline" if older else None,
        paged=bool(before),
        duplicates=await merge.likely_duplicates(member_id),
        merges=past_merges,
        names=names,
        log=log_values
        or {
            "platform": default_platform,
            "kind": "comment",
            "sentiment": "unknown",
            "occurred_at": local_input(now, zone),
        },
        log_errors=log_errors or {},
        platforms=PLATFORMS,
        kinds=KINDS,
        sentiments=SENTIMENTS,
        health=await advocacy.card(member, eng.state, now, zone),
    )


class MemberPageController(Controller):
    path = "/"
    include_in_schema = False

    @get("/members/{member_id:int}")
    async def show(self, request: Request, now: datetime, zone: ZoneInfo, member_id: FromPath[int]) -> Template:
        return await member_page(
            request, member_id, before=request.query_params.get("before") or None, now=now, zone=zone
        )

    @post("/members/{member_id:int}/interactions", guards=[WRITE])
    async def log_interaction(
        self, request: Request, now: datetime, actor: Actor, zone: ZoneInfo, member_id: FromPath[int]
    ) -> Template | Redirect:
        await queries.member_or_404(member_id)
        form = await read_form(request)
        values, errors = _interaction_form(form, member_id, zone)
        try:
            if errors:
                found: dict[str, str] = {}  # the service's own messages for the other fields, nothing written
                interactions.clean({**values, "occurred_at": now}, now, found)
                raise InvalidInput({**found, **errors})
            await interactions.log_interaction(values=values, actor=actor, now=now)
        except InvalidInput as exc:
            shown = {key: form.get(key, "") for key in ("platform", "kind", "sentiment", "occurred_at", "text", "url")}
            shown["troll"] = checked(form, "troll")
            return await member_page(
                request,
                member_id,
                log_values=shown,
                status_code=exc.status_code,
                log_errors={**exc.fields, "form": "The interaction was not logged: see the fields marked below."},
                now=now,
                zone=zone,
            )
        return redirect(request, f"/members/{member_id}#engagement", flash="Interaction logged.")
