"""A member's briefings follow them through merges and erasures (crm/members/follow.py; registered by
crm/wiring.py)."""

from __future__ import annotations

from functools import partial

from crm.audit.service import scrub
from crm.briefings.tables import Briefing
from crm.members.follow import Handler, ids_of, move_rows, move_rows_back


async def erase(member_id: int) -> None:
    # Briefings composed for them carry their name and handle; notes may carry more. That they were briefed stays.
    await Briefing.update({Briefing.message: "", Briefing.note: ""}).where(Briefing.member == member_id).run()
    await scrub(entity="briefing", record_ids=await ids_of(Briefing, member_id))


BRIEFINGS = Handler(move=partial(move_rows, Briefing), move_back=partial(move_rows_back, Briefing), erase=erase)
