"""CSV exports of members and interactions, in the CRM's own format (crm/imports/formats.py: the "crm" import
preset reads them back), of the whole base or of a filtered members list.

An export is checked and audited (who exported what, with which filters) before its first byte, then streamed a
page at a time from the database: the page, the API and ``crm export`` all write from ``export_csv``, and memory
stays flat at any size. Every cell goes through crm.formatting.csv_cell, like every CSV the app writes."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import datetime
from typing import Any

from crm import db
from crm.audit.service import Actor, log_change
from crm.errors import InvalidInput
from crm.exports import queries
from crm.formatting import csv_cell
from crm.imports import formats
from crm.members import engagement, read
from crm.members.queries import MemberFilter

KINDS = ("members", "interactions")
PAGE = 500  # rows per query: big enough to make the round trips cheap, small enough to keep memory flat
BOM = "\ufeff"  # lets spreadsheet programs (Excel) read the file as UTF-8


def _cell(value: Any) -> Any:
    """Numbers as they are; anything else in the format's spelling, made safe for spreadsheets."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return csv_cell(formats.write_cell(value))


def member_cells(member: dict, now: datetime) -> list[Any]:
    values = {
        **member,
        "topics": formats.write_topics(member["topics"]),
        "handles": formats.write_handles(member["handles"]),
        "score": round(engagement.score_at(member["score_log2"], now), 4),
    }
    return [_cell(values.get(column)) for column in formats.MEMBER_COLUMNS]


def interaction_cells(interaction: dict) -> list[Any]:
    values = {**interaction, "member_id": interaction["member"]}
    return [_cell(values.get(column)) for column in formats.INTERACTION_COLUMNS]


async def export_csv(
    *, kind: str, filters: MemberFilter, actor: Actor, now: datetime, bom: bool = False
) -> AsyncIterator[bytes]:
    """Check the request and audit it, then return the CSV as UTF-8 chunks (one per page of rows) to stream.
    ``filters`` select members as the members list does (the defaults: every live member); an interactions
    export holds the interactions of those members."""
    if kind not in KINDS:
        raise InvalidInput({"kind": f"Choose one of: {', '.join(KINDS)}."})
    read.check_filter(filters, 1)  # the filters only: the page size is ours
    chosen = {k: v for k, v in asdict(filters).items() if v and not (k == "sort" and v == "score")}
    async with db.transaction():
        await log_change(
            actor=actor,
            action=f"export.{kind}",
            entity=kind.removesuffix("s"),
            after={"filters": chosen, "bom": bom},
            at=now,
        )
    rows = _member_rows(filters, now) if kind == "members" else _interaction_rows(filters, now)
    return _encoded(rows, formats.MEMBER_COLUMNS if kind == "members" else formats.INTERACTION_COLUMNS, bom)


async def _member_rows(filters: MemberFilter, now: datetime) -> AsyncIterator[list[list[Any]]]:
    cursor = None
    while True:
        members, cursor = await queries.member_page(filters, now=now, cursor=cursor, limit=PAGE)
        yield [member_cells(m, now) for m in members]
        if not cursor:
            return


async def _interaction_rows(filters: MemberFilter, now: datetime) -> AsyncIterator[list[list[Any]]]:
    after_id = 0
    while True:
        interactions = await queries.interaction_page(filters, now=now, after_id=after_id, limit=PAGE)
        yield [interaction_cells(i) for i in interactions]
        if len(interactions) < PAGE:
            return
        after_id = interactions[-1]["id"]


async def _encoded(pages: AsyncIterator[list[list[Any]]], header: tuple[str, ...], bom: bool) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180, what spreadsheets expect
    if bom:
        buffer.write(BOM)
    writer.writerow(header)
    async for rows in pages:
        writer.writerows(rows)
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
