"""HTML pages for members: the list (search, filters, keyset pages, CSV), the member page (profile,
engagement, weekly chart, timeline, quick log form, duplicates and merges), create/edit, delete, erase.

Every write goes through the same services as the JSON API; errors are shown next to the fields."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Stream, Template

from crm.accounts import queries as accounts_queries
from crm.accounts.auth import requires
from crm.advocacy import service as advocacy
from crm.audit.service import Actor
from crm.errors import Conflict, InvalidInput, NotFound
from crm.forms import is_id, local_input, parse_local, read_form
from crm.members import charts, engagement, erasure, interactions, merge, queries, read, service, timeline
from crm.members.vocab import KINDS, PLATFORMS, SENTIMENTS, TIERS
from crm.web import page, redirect

WRITE = requires("members.write", "change members or log interactions")
ERASE = requires("members.erase", "erase members")

LIST_PAGE = 50
CSV_PAGE = 200
TIMELINE_PAGE = 25
MIN_HANDLE_ROWS = 3
MAX_HANDLE_ROWS = 50
FILTER_KEYS = ("q", "tier", "topic", "platform", "consent", "state", "sort")
STATE_LABELS = {"new": "new", "active": "active", "going_quiet": "going quiet", "inactive": "inactive"}
SORT_LABELS = {"score": "score", "last_interaction": "last interaction", "reach": "reach", "name": "name"}
CSV_COLUMNS = ("id", "name", "email", "tier", "state", "score", "interactions", "last_interaction_at", "reach")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


# ---- the list ------------------------------------------------------------------------------------


def _filters(request: Request) -> queries.MemberFilter:
    params = request.query_params
    values = {key: (params.get(key) or "").strip() for key in FILTER_KEYS}
    values["sort"] = values["sort"] or "score"
    return queries.MemberFilter(**values)


def _filter_query(filters: queries.MemberFilter, **extra: str) -> str:
    """The filters as a query string (defaults left out), plus ``extra`` (e.g. the cursor)."""
    pairs = [
        (key, getattr(filters, key))
        for key in FILTER_KEYS
        if getattr(filters, key) and not (key == "sort" and filters.sort == "score")
    ]
    pairs += [(k, v) for k, v in extra.items() if v]
    return urlencode(pairs)


def _list_page(
    request: Request,
    filters: queries.MemberFilter,
    *,
    items: list,
    next_cursor: str | None,
    cursor: str | None,
    errors: dict[str, str],
    status_code: int = 200,
) -> Template:
    query = _filter_query(filters)
    return page(
        request,
        "members/list.html",
        status_code=status_code,
        title="Members",
        filters=filters,
        items=items,
        errors=errors,
        tier_options=[(t, t) for t in TIERS],
        platform_options=[(p, p) for p in PLATFORMS],
        states=STATE_LABELS,
        sorts=SORT_LABELS,
        next_url=f"/members?{_filter_query(filters, cursor=next_cursor)}" if next_cursor else None,
        first_url=f"/members?{query}" if query else "/members",
        paged=bool(cursor),
        csv_url=f"/members.csv?{query}" if query else "/members.csv",
    )


def csv_cell(value: Any) -> Any:
    """Spreadsheets run cells that start with = + - @ (or a tab/CR) as formulas: make them plain text."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


# ---- forms ---------------------------------------------------------------------------------------


def _flag(form: dict[str, str], name: str) -> bool:
    return form.get(name, "") not in ("", "0", "off", "false")


def _member_form(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any], dict[int, int], dict[str, str]]:
    """Read the member form: (service values, values to show again, service handle index -> form row, errors)."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        key: form.get(key, "") for key in ("name", "email", "tier", "location", "language", "time_zone", "notes")
    }
    values["tier"] = values["tier"] or "member"
    values["consent_private_briefing"] = _flag(form, "consent_private_briefing")
    values["do_not_contact"] = _flag(form, "do_not_contact")
    values["topics"] = form.get("topics", "").split(",")
    owner = form.get("owner", "").strip()
    values["owner"] = None
    if owner:
        if is_id(owner):
            values["owner"] = int(owner)
        else:
            errors["owner"] = "Choose an existing user."
    rows = 0
    while rows < MAX_HANDLE_ROWS and any(f"handles[{rows}].{part}" in form for part in ("platform", "handle")):
        rows += 1
    shown_rows, handles, index_map = [], [], {}
    for n in range(rows):
        row = {
            part: form.get(f"handles[{n}].{part}", "").strip() for part in ("platform", "handle", "followers", "url")
        }
        shown_rows.append(row)
        if not (row["handle"] or row["followers"] or row["url"]):
            continue  # an empty row: nothing to add
        followers: int | None = None
        if row["followers"]:
            digits = row["followers"].replace(",", "").replace("_", "").replace(" ", "")
            if is_id(digits):
                followers = int(digits)
            else:
                errors[f"handles[{n}].followers"] = "Followers must be a whole number, 0 or more."
        index_map[len(handles)] = n
        handles.append(
            {"platform": row["platform"], "handle": row["handle"], "followers": followers, "url": row["url"]}
        )
    values["handles"] = handles
    shown = {
        **{k: v for k, v in values.items() if k not in ("topics", "handles", "owner")},
        "topics": form.get("topics", ""),
        "owner": owner,
        "handle_rows": _pad_rows(shown_rows),
    }
    return values, shown, index_map, errors


def _pad_rows(rows: list[dict]) -> list[dict]:
    blank = {"platform": "", "handle": "", "followers": "", "url": ""}
    rows = [r for r in rows if r["handle"] or r["followers"] or r["url"]] or []
    return rows + [dict(blank) for _ in range(max(MIN_HANDLE_ROWS - len(rows), 1))]


def _form_errors(exc: InvalidInput | Conflict, index_map: dict[int, int]) -> dict[str, str]:
    """Service field names (handles[i] counts only the filled rows) -> the form's own row numbers."""
    errors: dict[str, str] = {}
    for key, message in exc.fields.items():
        if key.startswith("handles[") and "]" in key:
            index, rest = key[len("handles[") :].split("]", 1)
            if is_id(index):
                key = f"handles[{index_map.get(int(index), int(index))}]{rest}"
        errors[key] = message
    if not exc.fields or isinstance(exc, Conflict):
        errors["form"] = exc.message
    return errors


def _dry_validate(values: dict[str, Any], errors: dict[str, str], index_map: dict[int, int], *, partial: bool) -> None:
    """When the form itself is already wrong, still collect the service's own messages (nothing written)."""
    found: dict[str, str] = {}
    service.clean_profile(values, found, partial=partial)
    service.clean_topics(values.get("topics"), found)
    service.clean_handles(values.get("handles"), found)
    for key, message in _form_errors(InvalidInput(found), index_map).items():
        errors.setdefault(key, message)


def _member_shown(member: dict) -> dict[str, Any]:
    """A member as the edit form shows it."""
    return {
        **{key: member[key] or "" for key in ("name", "email", "tier", "location", "language", "time_zone", "notes")},
        "consent_private_briefing": member["consent_private_briefing"],
        "do_not_contact": member["do_not_contact"],
        "topics": ", ".join(member["topics"]),
        "owner": str(member["owner"] or ""),
        "handle_rows": _pad_rows(
            [
                {
                    "platform": h["platform"],
                    "handle": h["handle"],
                    "followers": "" if h["followers"] is None else str(h["followers"]),
                    "url": h["url"] or "",
                }
                for h in member["handles"]
            ]
        ),
    }


async def _form_page(
    request: Request, template: str, *, values: dict, errors: dict, status_code: int = 200, **context: Any
) -> Template:
    users = [
        u for u in await accounts_queries.list_users() if u["is_active"] or str(u["id"]) == str(values.get("owner"))
    ]
    return page(
        request,
        template,
        status_code=status_code,
        values=values,
        errors=errors,
        tiers=TIERS,
        platforms=PLATFORMS,
        users=users,
        **context,
    )


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
        "troll": _flag(form, "troll"),
        "occurred_at": occurred_at,
    }
    return values, errors


# ---- the member page -----------------------------------------------------------------------------


def explain_state(member: dict, e: engagement.Engagement, now: datetime) -> str:
    """The activity state in plain words, following engagement.state_of()."""
    gap = f"{e.usual_gap_days:g} days" if e.usual_gap_days is not None else None
    if e.state == "inactive":
        if e.last_interaction_at is None:
            return "Inactive: no interactions recorded yet."
        return f"Inactive: nothing for more than {engagement.INACTIVE_DAYS} days."
    if e.state == "new":
        return f"New: their first interaction was within the last {engagement.NEW_DAYS} days."
    if e.state == "going_quiet":
        if member["quiet_after"] is not None and member["quiet_after"] < now:
            return f"Going quiet: no interaction for more than twice their usual gap ({gap}) between interactions."
        return (
            f"Going quiet: {e.interactions_30d} interaction(s) in the last 30 days, half their usual rate "
            f"(about one every {gap}) or less."
        )
    return f"Active: interacting at their usual rhythm{f' (about one every {gap})' if gap else ''}."


async def _user_names(ids: set[int | None]) -> dict[int, str]:
    names = {}
    for user_id in ids - {None}:
        user = await accounts_queries.user_by_id(user_id)
        if user:
            names[user_id] = user["name"]
    return names


async def _member_page(
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
    names = await _user_names({member["owner"], member["consent_recorded_by"], *(r["merged_by"] for r in past_merges)})
    default_platform = member["handles"][0]["platform"] if member["handles"] else "other"
    return page(
        request,
        "members/show.html",
        status_code=status_code,
        title=member["name"],
        member=member,
        e=eng,
        state_label=STATE_LABELS[eng.state],
        state_explained=explain_state(member, eng, now),
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


class MembersController(Controller):
    path = "/"
    include_in_schema = False

    @get("/members")
    async def index(self, request: Request, now: datetime) -> Template:
        filters = _filters(request)
        cursor = request.query_params.get("cursor") or None
        try:
            items, next_cursor = await read.list_page(filters, now=now, cursor=cursor, limit=LIST_PAGE)
        except InvalidInput as exc:
            return _list_page(
                request,
                filters,
                items=[],
                next_cursor=None,
                cursor=None,
                errors={**exc.fields, "form": exc.fields.get("cursor") or exc.message},
                status_code=exc.status_code,
            )
        return _list_page(request, filters, items=items, next_cursor=next_cursor, cursor=cursor, errors={})

    @get("/members.csv")
    async def export_csv(self, request: Request, now: datetime) -> Stream | Template:
        """The whole current view (every page of it), in the list's order."""
        filters = _filters(request)
        try:
            read.check_filter(filters, CSV_PAGE)
        except InvalidInput as exc:
            return _list_page(
                request,
                filters,
                items=[],
                next_cursor=None,
                cursor=None,
                errors={**exc.fields, "form": exc.message},
                status_code=exc.status_code,
            )

        async def lines():
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(CSV_COLUMNS)
            cursor = None
            while True:
                items, cursor = await read.list_page(filters, now=now, cursor=cursor, limit=CSV_PAGE)
                for m in items:
                    writer.writerow(
                        [
                            csv_cell(v)
                            for v in (
                                m.id,
                                m.name,
                                m.email or "",
                                m.tier,
                                m.state,
                                m.score,
                                m.interactions_total,
                                m.last_interaction_at.isoformat() if m.last_interaction_at else "",
                                m.reach,
                            )
                        ]
                    )
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
                if not cursor:
                    break

        filename = f"members-{now.strftime('%Y%m%d-%H%M')}.csv"
        return Stream(
            lines(),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
        )

    @get("/members/new", guards=[WRITE])
    async def new(self, request: Request) -> Template:
        values = {"tier": "member", "handle_rows": _pad_rows([])}
        return await _form_page(request, "members/new.html", values=values, errors={}, title="Add member")

    @post("/members", guards=[WRITE])
    async def create(self, request: Request, now: datetime, actor: Actor) -> Template | Redirect:
        values, shown, index_map, errors = _member_form(await read_form(request))
        try:
            if errors:
                _dry_validate(values, errors, index_map, partial=False)
                raise InvalidInput(errors)
            created = await service.create_member(values=values, actor=actor, now=now)
        except (InvalidInput, Conflict) as exc:
            return await _form_page(
                request,
                "members/new.html",
                values=shown,
                status_code=exc.status_code,
                errors={**_form_errors(exc, index_map), **errors},
                title="Add member",
            )
        return redirect(request, f"/members/{created['id']}", flash=f"{created['name']} was added.")

    @get("/members/{member_id:int}")
    async def show(self, request: Request, now: datetime, zone: ZoneInfo, member_id: FromPath[int]) -> Template:
        return await _member_page(
            request, member_id, before=request.query_params.get("before") or None, now=now, zone=zone
        )

    @get("/members/{member_id:int}/edit", guards=[WRITE])
    async def edit(self, request: Request, member_id: FromPath[int]) -> Template:
        member = await _live(member_id)
        return await _form_page(
            request,
            "members/edit.html",
            values=_member_shown(member),
            errors={},
            member=member,
            title=f"Edit {member['name']}",
        )

    @post("/members/{member_id:int}/edit", guards=[WRITE])
    async def update(
        self, request: Request, now: datetime, actor: Actor, member_id: FromPath[int]
    ) -> Template | Redirect:
        member = await _live(member_id)
        values, shown, index_map, errors = _member_form(await read_form(request))
        try:
            if errors:
                _dry_validate(values, errors, index_map, partial=True)
                raise InvalidInput(errors)
            await service.update_member(
                member_id=member_id,
                values=values,
                actor=actor,
                now=now,
            )
        except (InvalidInput, Conflict) as exc:
            return await _form_page(
                request,
                "members/edit.html",
                values=shown,
                status_code=exc.status_code,
                errors={**_form_errors(exc, index_map), **errors},
                member=member,
                title=f"Edit {member['name']}",
            )
        return redirect(request, f"/members/{member_id}", flash="Saved.")

    @post("/members/{member_id:int}/interactions", guards=[WRITE])
    async def log_interaction(
        self, request: Request, now: datetime, actor: Actor, zone: ZoneInfo, member_id: FromPath[int]
    ) -> Template | Redirect:
        await _live(member_id)
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
            shown["troll"] = _flag(form, "troll")
            return await _member_page(
                request,
                member_id,
                log_values=shown,
                status_code=exc.status_code,
                log_errors={**exc.fields, "form": "The interaction was not logged: see the fields marked below."},
                now=now,
                zone=zone,
            )
        return redirect(request, f"/members/{member_id}#engagement", flash="Interaction logged.")

    @get("/members/{member_id:int}/delete", guards=[WRITE])
    async def confirm_delete(self, request: Request, member_id: FromPath[int]) -> Template:
        member = await _live(member_id)
        return page(request, "members/confirm.html", member=member, action="delete", title=f"Delete {member['name']}")

    @post("/members/{member_id:int}/delete", guards=[WRITE])
    async def delete(self, request: Request, now: datetime, actor: Actor, member_id: FromPath[int]) -> Redirect:
        member = await _live(member_id)
        await service.delete_member(member_id=member_id, actor=actor, now=now)
        return redirect(request, "/members", flash=f"{member['name']} was deleted.")

    @get("/members/{member_id:int}/erase", guards=[ERASE])
    async def confirm_erase(self, request: Request, member_id: FromPath[int]) -> Template:
        member = await _live(member_id)
        return page(request, "members/confirm.html", member=member, action="erase", title=f"Erase {member['name']}")

    @post("/members/{member_id:int}/erase", guards=[ERASE])
    async def erase(self, request: Request, now: datetime, actor: Actor, member_id: FromPath[int]) -> Redirect:
        await _live(member_id)
        await erasure.erase_member(member_id=member_id, actor=actor, now=now)
        return redirect(request, "/members", flash=f"Member {member_id} was erased: their personal data is gone.")

    @post("/members/{member_id:int}/merge", guards=[WRITE])
    async def merge(self, request: Request, now: datetime, actor: Actor, member_id: FromPath[int]) -> Redirect:
        form = await read_form(request)
        other = form.get("merge_id", "").strip()
        if not is_id(other):
            raise InvalidInput({"merge_id": "Choose the member to merge."})
        duplicate = await _live(int(other))
        await merge.merge_members(
            keep_id=member_id,
            merge_id=int(other),
            actor=actor,
            now=now,
        )
        return redirect(
            request,
            f"/members/{member_id}",
            flash=f"{duplicate['name']} was merged into this member. You can undo it below.",
        )

    @post("/members/{member_id:int}/merges/{merge_id:int}/undo", guards=[WRITE])
    async def undo_merge(
        self, request: Request, now: datetime, actor: Actor, member_id: FromPath[int], merge_id: FromPath[int]
    ) -> Redirect:
        if merge_id not in {row["id"] for row in await merge.merges_into(member_id)}:
            raise NotFound(f"No merge {merge_id} into member {member_id}.")
        await merge.undo_merge(merge_id=merge_id, actor=actor, now=now)
        return redirect(request, f"/members/{member_id}", flash="The merge was undone.")


async def _live(member_id: int) -> dict:
    member = await queries.get_member(member_id)
    if member is None:
        raise NotFound(f"No member with id {member_id}.")
    return member
