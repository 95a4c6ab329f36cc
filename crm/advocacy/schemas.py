"""JSON shapes for advocate health."""

from __future__ import annotations

from datetime import datetime

from msgspec import Struct

from crm.advocacy.vocab import WarningCode
from crm.members.vocab import State


class HealthWarning(Struct):
    code: WarningCode
    message: str  # why, in plain words, naming the numbers and dates


class IncidentEffect(Struct):
    """The member's interactions in the 60 UTC days before an incident's detection day against the 60 days
    from it on. Rates are interactions per 30 days; shares are positive / (positive + neutral + negative),
    trolls and unknown sentiment left out. ``complete`` is false (and rates use ``days_observed``) while the
    60 days after are still running."""

    incident_id: int
    title: str
    detected_at: datetime
    briefed: bool
    interactions_before: int
    interactions_after: int
    rate_before: float
    rate_after: float | None
    rate_change: float | None
    positive_share_before: float | None
    positive_share_after: float | None
    positive_share_change: float | None
    complete: bool
    days_observed: int
    summary: str


class HealthRead(Struct):
    member_id: int
    state: State
    last_briefed_at: datetime | None
    last_thanked_at: datetime | None
    asks_12m: int
    thanks_12m: int
    warnings: list[HealthWarning]
    incident_effects: list[IncidentEffect]
