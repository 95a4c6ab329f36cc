"""Assembling what pages and the API show: a member with engagement, list pages with states."""

from __future__ import annotations

from datetime import datetime

from crm.errors import InvalidInput
from crm.members import engagement, queries
from crm.members.schemas import HandleRead, MemberListItem, MemberRead
from crm.members.vocab import PLATFORMS, STATES, TIERS


async def member_with_engagement(member_id: int, now: datetime) -> tuple[dict, engagement.Engagement, list[dict]]:
    member = await queries.member_or_404(member_id)
    days = (await queries.days_for([member_id], engagement.window_start(now, 365)))[member_id]
    return member, engagement.summarize(member, days, now), days


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


async def member_read(member_id: int, now: datetime) -> MemberRead:
    m, e, _ = await member_with_engagement(member_id, now)
    return MemberRead(
        id=m["id"],
        name=m["name"],
        email=m["email"],
        tier=m["tier"],
        topics=m["topics"],
        handles=[
            HandleRead(platform=h["platform"], handle=h["handle"], followers=h["followers"], url=h["url"])
            for h in m["handles"]
        ],
        location=m["location"],
        language=m["language"],
        time_zone=m["time_zone"],
        owner_id=m["owner"],
        notes=m["notes"],
        consent_private_briefing=m["consent_private_briefing"],
        consent_recorded_at=m["consent_recorded_at"],
        do_not_contact=m["do_not_contact"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        engagement=e,
    )


def check_filter(filters: queries.MemberFilter, limit: int) -> None:
    errors = {}
    if filters.sort not in queries.SORTS:
        errors["sort"] = f"Choose one of: {', '.join(queries.SORTS)}."
    if filters.tier and filters.tier not in TIERS:
        errors["tier"] = f"Choose one of: {', '.join(TIERS)}."
    if filters.platform and filters.platform not in PLATFORMS:
        errors["platform"] = f"Choose one of: {', '.join(PLATFORMS)}."
    if filters.state and filters.state not in STATES:
        errors["state"] = f"Choose one of: {', '.join(STATES)}."
    if filters.consent not in ("", "yes", "no"):
        errors["consent"] = "Choose yes or no."
    if len(filters.q) > 200:
        errors["q"] = "Use at most 200 characters."
    for name in ("q", "topic"):
        if "\x00" in getattr(filters, name):
            errors[name] = "Contains a NUL character, which is not allowed."
    if not 1 <= limit <= 200:
        errors["limit"] = "Between 1 and 200."
    if errors:
        raise InvalidInput(errors)


async def list_page(
    filters: queries.MemberFilter, *, now: datetime, cursor: str | None, limit: int
) -> tuple[list[MemberListItem], str | None]:
    check_filter(filters, limit)
    try:
        rows, next_cursor = await queries.list_members(filters, now=now, cursor=cursor, limit=limit)
    except (ValueError, TypeError, KeyError):
        raise InvalidInput({"cursor": "This cursor is not valid; start from the first page."}) from None
    since = engagement.window_start(now, 30)
    days = await queries.days_for([r["id"] for r in rows], since)
    items = [
        MemberListItem(
            id=r["id"],
            name=r["name"],
            email=r["email"],
            tier=r["tier"],
            reach=r["reach"],
            score=round(engagement.score_at(r["score_log2"], now), 4),
            interactions_total=r["interactions_total"],
            last_interaction_at=r["last_interaction_at"],
            state=engagement.state_of(r, engagement.count_since(days[r["id"]], since), now).value,
        )
        for r in rows
    ]
    return items, next_cursor
