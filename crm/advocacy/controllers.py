"""The "stay supportive" list (/thanks/supportive) and its CSV export: every advocate and champion with
asks vs thanks, state and warnings, for the team's weekly routine. Any signed-in role may read it."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get
from litestar.response import Template

from crm.advocacy import service
from crm.advocacy.vocab import SORT_LABELS
from crm.errors import InvalidInput
from crm.formatting import csv_cell
from crm.forms import OFF_WORDS
from crm.members.vocab import STATE_LABELS
from crm.web import page

CSV_COLUMNS = (
    "id",
    "name",
    "tier",
    "state",
    "do_not_contact",
    "last_briefed_at",
    "last_thanked_at",
    "asks_12m",
    "thanks_12m",
    "warnings",
    "reasons",
)


def _view(request: Request) -> tuple[str, bool]:
    params = request.query_params
    sort = (params.get("sort") or "").strip() or "warnings"
    only = (params.get("warnings") or "").strip() not in OFF_WORDS
    return sort, only


def _query(sort: str, only: bool) -> str:
    pairs = ([("sort", sort)] if sort != "warnings" else []) + ([("warnings", "1")] if only else [])
    return urlencode(pairs)


def _utc_iso(at: datetime | None) -> str:
    return at.isoformat() if at else ""


class SupportiveController(Controller):
    path = "/thanks"
    include_in_schema = False

    async def _page(self, request: Request, sort: str, only: bool, *, now: datetime, zone: ZoneInfo) -> Template:
        try:
            rows = await service.supportive(now, sort=sort, only_warnings=only, zone=zone)
            errors: dict[str, str] = {}
            status = 200
        except InvalidInput as exc:
            rows, errors, status = (
                [],
                {**exc.fields, "form": "This sort is not one we offer: pick one below."},
                exc.status_code,
            )
        query = _query(sort, only)
        return page(
            request,
            "advocacy/supportive.html",
            status_code=status,
            title="Stay supportive",
            rows=rows,
            sort=sort,
            only=only,
            sorts=SORT_LABELS,
            states=STATE_LABELS,
            errors=errors,
            csv_url="/thanks/supportive.csv" + (f"?{query}" if query and not errors else ""),
            with_warnings=sum(1 for r in rows if r.warnings),
        )

    @get("/supportive")
    async def supportive(self, request: Request, now: datetime, zone: ZoneInfo) -> Template:
        sort, only = _view(request)
        return await self._page(request, sort, only, now=now, zone=zone)

    @get("/supportive.csv")
    async def export_csv(self, request: Request, now: datetime, zone: ZoneInfo) -> Response | Template:
        """The current view (same sort and filter); cells that would run as formulas are made plain text."""
        sort, only = _view(request)
        try:
            rows = await service.supportive(now, sort=sort, only_warnings=only, zone=zone)
        except InvalidInput:
            return await self._page(request, sort, only, now=now, zone=zone)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        for f in rows:
            writer.writerow(
                [
                    csv_cell(v)
                    for v in (
                        f.member_id,
                        f.name,
                        f.tier,
                        f.state,
                        "yes" if f.do_not_contact else "no",
                        _utc_iso(f.last_briefed_at),
                        _utc_iso(f.last_thanked_at),
                        f.asks_12m,
                        f.thanks_12m,
                        ";".join(w.code for w in f.warnings),
                        " | ".join(w.message for w in f.warnings),
                    )
                ]
            )
        return Response(
            buffer.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="stay-supportive-{now.strftime("%Y%m%d-%H%M")}.csv"',
                "Cache-Control": "no-store",
            },
        )
