"""JSON shapes for thank-yous and the due queue."""

from __future__ import annotations

from datetime import datetime

from msgspec import Struct

from crm.thanks.vocab import Channel


class ThankYouCreate(Struct, forbid_unknown_fields=True):
    member_id: int
    channel: Channel
    incident_id: int | None = None
    briefing_id: int | None = None
    message: str = ""  # empty: the channel's template, filled in
    gift: str = ""
    # A JSON number with at most two decimals, stored as whole cents (a float keeps them: str(19.99) == "19.99").
    gift_value: float | None = None
    sent_at: datetime | None = None  # with a time zone; defaults to now, never in the future


class ThankYouRead(Struct):
    id: int
    member_id: int
    member_name: str
    incident_id: int | None
    incident_title: str | None
    briefing_id: int | None
    channel: Channel
    message: str
    gift: str
    gift_value: float | None
    gift_value_cents: int | None
    sent_by_id: int | None
    sent_at: datetime
    created_at: datetime


class DueItem(Struct):
    member_id: int
    member_name: str
    incident_id: int
    incident_title: str
    reason: str
    helped_at: datetime
    due_at: datetime
    overdue: bool


class DueList(Struct):
    items: list[DueItem]


class DismissRequest(Struct, forbid_unknown_fields=True):
    member_id: int
    incident_id: int
    reason: str


class DismissalRead(Struct):
    member_id: int
    incident_id: int
    reason: str
    dismissed_at: datetime
    dismissed_by_id: int | None


def thank_you_read(row: dict) -> ThankYouRead:
    cents = row["gift_value_cents"]
    return ThankYouRead(
        id=row["id"],
        member_id=row["member"],
        member_name=row["member_name"],
        incident_id=row["incident"],
        incident_title=row["incident_title"],
        briefing_id=row["briefing"],
        channel=row["channel"],
        message=row["message"],
        gift=row["gift"],
        gift_value=None if cents is None else cents / 100,
        gift_value_cents=cents,
        sent_by_id=row["sent_by"],
        sent_at=row["sent_at"],
        created_at=row["created_at"],
    )


def due_item(item: dict) -> DueItem:
    return DueItem(
        member_id=item["member_id"],
        member_name=item["member_name"],
        incident_id=item["incident_id"],
        incident_title=item["incident_title"],
        reason=item["reason"],
        helped_at=item["helped_at"],
        due_at=item["due_at"],
        overdue=item["overdue"],
    )
