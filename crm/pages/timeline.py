"""The member page's one timeline: interactions, briefings, thank-yous and late questions, newest first.

Pages follow the interactions (keyset on (occurred_at, id), crm/members/queries.timeline); the other events ride
along by time. A page holding interactions down to time ``oldest`` after a previous page that ended at ``upper``
shows every other event with ``oldest <= at < upper``: the first page has no upper bound (everything newer), the
last page no lower bound (everything older too). The pages' windows meet end to end, so each event lands on
exactly one page, and none is lost when interactions are few or absent (then the one page holds everything).

It lives here, above the domains, because the events come from four of them: members keeps only the query of its
own interactions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crm.briefings.queries import briefings_of_member
from crm.members import queries
from crm.questions.queries import of_member as questions_of_member
from crm.thanks.queries import thanks_of_member

# Among events at the same instant: interactions first (as the oldest page boundary is one), then by kind.
KIND_ORDER = {"interaction": 3, "briefing": 2, "thanks": 1, "question": 0}


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
    events = [Event("interaction", r["occurred_at"], r) for r in interactions]
    events += [
        Event("briefing", r["briefed_at"], r) for r in await briefings_of_member(member_id, since=lower, before=upper)
    ]
    events += [Event("thanks", r["sent_at"], r) for r in await thanks_of_member(member_id, since=lower, before=upper)]
    events += [
        Event("question", r["asked_at"], r)
        for r in await questions_of_member(member_id, None, since=lower, before=upper)
    ]
    return sorted(events, key=Event.key, reverse=True), older
