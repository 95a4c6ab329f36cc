"""The member page's one timeline: interactions, briefings, thank-yous and late questions, newest first.

Pages follow the interactions (keyset on (occurred_at, id), crm/members/queries.timeline); the other events ride
along by time. A page holding interactions down to time ``oldest`` after a previous page that ended at ``upper``
shows every other event with ``oldest <= at < upper``: the first page has no upper bound (everything newer), the
last page no lower bound (everything older too). The pages' windows meet end to end, so each event lands on
exactly one page, and none is lost when interactions are few or absent (then the one page holds everything).

The other events come from the domains built on members, which sit above them in the layers: each registers the
reader of its events at start-up (crm/wiring.py), so members never import them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crm.members import queries

# Among events at the same instant: interactions first (as the oldest page boundary is one), then by kind. The
# kinds are the ones templates/members/show.html renders.
KIND_ORDER = {"interaction": 3, "briefing": 2, "thanks": 1, "question": 0}


@dataclass(frozen=True)
class Source:
    at: str  # the rows' time field
    # (member_id, since=, before=) -> the member's rows with ``since <= at < before`` (either bound may be None)
    rows: Callable[..., Awaitable[list[dict[str, Any]]]]


_sources: dict[str, Source] = {}


def register(kind: str, *, at: str, rows: Callable[..., Awaitable[list[dict[str, Any]]]]) -> None:
    """Events of ``kind`` on the timeline. Registering a kind again replaces its source."""
    if kind not in KIND_ORDER or kind == "interaction":
        raise ValueError(f"The member page does not show {kind!r} events.")
    _sources[kind] = Source(at=at, rows=rows)


@dataclass(frozen=True)
class Event:
    kind: str  # interaction, briefing, thanks or question: the partial that renders it
    at: datetime
    row: dict[str, Any]

    def key(self) -> tuple:
        return (self.at, KIND_ORDER[self.kind], self.row["id"])


async def page(
    member_id: int, *, cursor: str | None = None, limit: int = queries.PAGE_SIZE
) -> tuple[list[Event], str | None]:
    """One page of the member's timeline, newest first, and the cursor of the next (older) page or None.
    Raises ValueError (or TypeError, KeyError) for a cursor we did not make, as queries.timeline does."""
    interactions, older = await queries.timeline(member_id, cursor=cursor, limit=limit)
    upper = queries.decode_cursor(cursor, "last_interaction")[0] if cursor else None
    lower = interactions[-1]["occurred_at"] if older else None
    if not _sources:  # a timeline of interactions alone would quietly drop the rest
        raise RuntimeError("No timeline events are registered: call crm.wiring.connect().")
    events = [Event("interaction", r["occurred_at"], r) for r in interactions]
    for kind, source in _sources.items():
        events += [Event(kind, r[source.at], r) for r in await source.rows(member_id, since=lower, before=upper)]
    return sorted(events, key=Event.key, reverse=True), older
