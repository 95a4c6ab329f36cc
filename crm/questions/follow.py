"""A member's late questions follow them through merges and erasures (crm/members/follow.py; registered by
crm/wiring.py)."""

from __future__ import annotations

from functools import partial

from crm.audit.service import scrub
from crm.members.follow import Handler, ids_of, move_rows, move_rows_back
from crm.questions.tables import LateQuestion


async def erase(member_id: int) -> None:
    # What they asked and what we answered them go; that they asked (and were answered) stays for the report.
    await (
        LateQuestion.update(
            {LateQuestion.text: "", LateQuestion.asker: "", LateQuestion.url: None, LateQuestion.answer_text: ""}
        )
        .where(LateQuestion.member == member_id)
        .run()
    )
    await scrub(entity="late_question", record_ids=await ids_of(LateQuestion, member_id))


LATE_QUESTIONS = Handler(
    move=partial(move_rows, LateQuestion), move_back=partial(move_rows_back, LateQuestion), erase=erase
)
