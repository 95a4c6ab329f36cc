"""Reads for the exports: members and interactions a page at a time (keyset, so a page costs the same at any
depth and memory stays flat), with what each row needs (handles, topics, the member's name), in a few queries
per page, never one per row."""

from __future__ import annotations

from datetime import datetime

from crm.members import queries as member_queries
from crm.members.tables import Handle, Interaction, Member, MemberTopic

MEMBER_DETAIL = (
    Member.id,
    Member.location,
    Member.language,
    Member.time_zone,
    Member.notes,
    Member.created_at,
)


async def member_page(
    filters: member_queries.MemberFilter, *, now: datetime, cursor: str | None, limit: int
) -> tuple[list[dict], str | None]:
    """One page of the members list (same filters, order and keyset cursor), each member with every column the
    export writes, their topics (sorted) and handles (by platform, handle)."""
    rows, next_cursor = await member_queries.list_members(filters, now=now, cursor=cursor, limit=limit)
    ids = [r["id"] for r in rows]
    if not ids:
        return [], None
    detail = {r["id"]: r for r in await Member.select(*MEMBER_DETAIL).where(Member.id.is_in(ids)).run()}
    topics: dict[int, list[str]] = {i: [] for i in ids}
    for t in (
        await MemberTopic.select(MemberTopic.member, MemberTopic.topic)
        .where(MemberTopic.member.is_in(ids))
        .order_by(MemberTopic.topic)
        .run()
    ):
        topics[t["member"]].append(t["topic"])
    handles: dict[int, list[dict]] = {i: [] for i in ids}
    for h in (
        await Handle.select(Handle.member, Handle.platform, Handle.handle, Handle.followers, Handle.url)
        .where(Handle.member.is_in(ids))
        .order_by(Handle.platform)
        .order_by(Handle.handle)
        .run()
    ):
        handles[h["member"]].append(h)
    return [{**r, **detail[r["id"]], "topics": topics[r["id"]], "handles": handles[r["id"]]} for r in rows], next_cursor


async def interaction_page(
    filters: member_queries.MemberFilter, *, now: datetime, after_id: int, limit: int
) -> list[dict]:
    """Interactions of the members the filters select (all live members by default) with an id above
    ``after_id``, by id, each with its member's name and email and the member's handle on its platform."""
    members = Member.select(Member.id).where(member_queries.filter_condition(filters, now))
    rows = (
        await Interaction.select(
            *Interaction.all_columns(exclude=[Interaction.logged_by]),
            Interaction.member.name.as_alias("member_name"),
            Interaction.member.email.as_alias("member_email"),
        )
        .where(Interaction.member.is_in(members) & (Interaction.id > after_id))
        .order_by(Interaction.id)
        .limit(limit)
        .run()
    )
    ids = list({r["member"] for r in rows})
    handle_of: dict[tuple[int, str], str] = {}
    if ids:
        for h in (
            await Handle.select(Handle.member, Handle.platform, Handle.handle)
            .where(Handle.member.is_in(ids))
            .order_by(Handle.id)
            .run()
        ):
            handle_of.setdefault((h["member"], h["platform"]), h["handle"])
    for r in rows:
        r["handle"] = handle_of.get((r["member"], r["platform"]), "")
    return rows
