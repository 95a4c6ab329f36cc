"""HTML pages for members: the list (search, filters, keyset pages; its CSV exports are crm/exports), add and
edit (the form is member_form.py), delete, erase, and the member page's merge and undo buttons. The member page
itself, with its timeline and quick log form, gathers sections from later domains, so it is crm/pages/member.py.

Every write goes through the same services as the JSON API; errors are shown next to the fields."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from crm.accounts.auth import requires
from crm.audit.service import Actor
from crm.errors import Conflict, InvalidInput, NotFound
from crm.forms import is_id, read_form
from crm.members import erasure, member_form, merge, queries, read, service
from crm.members.vocab import PLATFORMS, STATE_LABELS, TIERS
from crm.web import page, redirect

WRITE = requires("members.write", "change members or log interactions")
ERASE = requires("members.erase", "erase members")

LIST_PAGE = 50
FILTER_KEYS = ("q", "tier", "topic", "platform", "consent", "state", "sort")
SORT_LABELS = {"score": "score", "last_interaction": "last interaction", "reach": "reach", "name": "name"}


# ---- the list ------------------------------------------------------------------------------------


def list_filters(request: Request) -> queries.MemberFilter:
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


def list_page(
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
        # The exports (crm/exports) of this view: the same filters.
        csv_url=f"/members.csv?{query}" if query else "/members.csv",
        interactions_csv_url=f"/interactions.csv?{query}" if query else "/interactions.csv",
    )


class MembersController(Controller):
    path = "/"
    include_in_schema = False

    @get("/members")
    async def index(self, request: Request, now: datetime) -> Template:
        filters = list_filters(request)
        cursor = request.query_params.get("cursor") or None
        try:
            items, next_cursor = await read.list_page(filters, now=now, cursor=cursor, limit=LIST_PAGE)
        except InvalidInput as exc:
            return list_page(
                request,
                filters,
                items=[],
                next_cursor=None,
                cursor=None,
                errors={**exc.fields, "form": exc.fields.get("cursor") or exc.message},
                status_code=exc.status_code,
            )
        return list_page(request, filters, items=items, next_cursor=next_cursor, cursor=cursor, errors={})

    @get("/members/new", guards=[WRITE])
    async def new(self, request: Request) -> Template:
        values = {"tier": "member", "handle_rows": member_form.pad_rows([])}
        return await member_form.form_page(request, "members/new.html", values=values, errors={}, title="Add member")

    @post("/members", guards=[WRITE])
    async def create(self, request: Request, now: datetime, actor: Actor) -> Template | Redirect:
        values, shown, index_map, errors = member_form.read(await read_form(request))
        try:
            if errors:
                member_form.dry_validate(values, errors, index_map, partial=False)
                raise InvalidInput(errors)
            created = await service.create_member(values=values, actor=actor, now=now)
        except (InvalidInput, Conflict) as exc:
            return await member_form.form_page(
                request,
                "members/new.html",
                values=shown,
                status_code=exc.status_code,
                errors={**member_form.form_errors(exc, index_map), **errors},
                title="Add member",
            )
        return redirect(request, f"/members/{created['id']}", flash=f"{created['name']} was added.")

    @get("/members/{member_id:int}/edit", guards=[WRITE])
    async def edit(self, request: Request, member_id: FromPath[int]) -> Template:
        member = await queries.member_or_404(member_id)
        return await member_form.form_page(
            request,
            "members/edit.html",
            values=member_form.member_shown(member),
            errors={},
            member=member,
            title=f"Edit {member['name']}",
        )

    @post("/members/{member_id:int}/edit", guards=[WRITE])
    async def update(
        self, request: Request, now: datetime, actor: Actor, member_id: FromPath[int]
    ) -> Template | Redirect:
        member = await queries.member_or_404(member_id)
        values, shown, index_map, errors = member_form.read(await read_form(request))
        try:
            if errors:
                member_form.dry_validate(values, errors, index_map, partial=True)
                raise InvalidInput(errors)
            await service.update_member(
                member_id=member_id,
                values=values,
                actor=actor,
                now=now,
            )
        except (InvalidInput, Conflict) as exc:
            return await member_form.form_page(
                request,
                "members/edit.html",
                values=shown,
                status_code=exc.status_code,
                errors={**member_form.form_errors(exc, index_map), **errors},
                member=member,
                title=f"Edit {member['name']}",
            )
        return redirect(request, f"/members/{member_id}", flash="Saved.")

    @get("/members/{member_id:int}/delete", guards=[WRITE])
    async def confirm_delete(self, request: Request, member_id: FromPath[int]) -> Template:
        member = await queries.member_or_404(member_id)
        return page(request, "members/confirm.html", member=member, action="delete", title=f"Delete {member['name']}")

    @post("/members/{member_id:int}/delete", guards=[WRITE])
    async def delete(self, request: Request, now: datetime, actor: Actor, member_id: FromPath[int]) -> Redirect:
        member = await queries.member_or_404(member_id)
        await service.delete_member(member_id=member_id, actor=actor, now=now)
        return redirect(request, "/members", flash=f"{member['name']} was deleted.")

    @get("/members/{member_id:int}/erase", guards=[ERASE])
    async def confirm_erase(self, request: Request, member_id: FromPath[int]) -> Template:
        member = await queries.member_or_404(member_id)
        return page(request, "members/confirm.html", member=member, action="erase", title=f"Erase {member['name']}")

    @post("/members/{member_id:int}/erase", guards=[ERASE])
    async def erase(self, request: Request, now: datetime, actor: Actor, member_id: FromPath[int]) -> Redirect:
        await queries.member_or_404(member_id)
        await erasure.erase_member(member_id=member_id, actor=actor, now=now)
        return redirect(request, "/members", flash=f"Member {member_id} was erased: their personal data is gone.")

    @post("/members/{member_id:int}/merge", guards=[WRITE])
    async def merge(self, request: Request, now: datetime, actor: Actor, member_id: FromPath[int]) -> Redirect:
        form = await read_form(request)
        other = form.get("merge_id", "").strip()
        if not is_id(other):
            raise InvalidInput({"merge_id": "Choose the member to merge."})
        duplicate = await queries.member_or_404(int(other))
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
