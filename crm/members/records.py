"""What follows a person through a merge and an erasure, beyond the members package: their briefings,
thank-yous, dismissed thank-yous and late questions. Those domains build on members, so their tables are
imported inside the functions (members must not import them at module level)."""

from __future__ import annotations

from crm.audit.service import scrub


def _movable():
    from crm.briefings.tables import Briefing
    from crm.questions.tables import LateQuestion
    from crm.thanks.tables import ThankYou

    return {"briefing": Briefing, "thank_you": ThankYou, "late_question": LateQuestion}


async def move(*, from_id: int, to_id: int) -> dict[str, list[int]]:
    """Give ``to_id`` the records of ``from_id``; returns what moved, for undo. A dismissal moves only when
    ``to_id`` has none for that incident (one per member and incident; theirs already says not to ask)."""
    from crm.thanks.tables import ThanksDismissal

    moved: dict[str, list[int]] = {}
    for name, table in _movable().items():
        ids = [r["id"] for r in await table.select(table.id).where(table.member == from_id).run()]
        if ids:
            await table.update({table.member: to_id}).where(table.id.is_in(ids)).run()
        moved[name] = ids
    taken = {
        r["incident"]
        for r in await ThanksDismissal.select(ThanksDismissal.incident).where(ThanksDismissal.member == to_id).run()
    }
    moved["thanks_dismissal"] = []
    for row in await ThanksDismissal.select().where(ThanksDismissal.member == from_id).run():
        if row["incident"] not in taken:
            await (
                ThanksDismissal.update(
                    {ThanksDismissal.member: to_id, ThanksDismissal.key: f"{row['incident']}:{to_id}"}
                )
                .where(ThanksDismissal.id == row["id"])
                .run()
            )
            moved["thanks_dismissal"].append(row["id"])
    return moved


async def move_back(moved: dict[str, list[int]], *, from_id: int, to_id: int) -> None:
    """Undo ``move``: the listed records still held by ``from_id`` (the kept member) go back to ``to_id``."""
    from crm.thanks.tables import ThanksDismissal

    for name, table in _movable().items():
        ids = moved.get(name) or []
        if ids:
            await table.update({table.member: to_id}).where(table.id.is_in(ids) & (table.member == from_id)).run()
    for row in (
        await ThanksDismissal.select()
        .where(ThanksDismissal.id.is_in(moved.get("thanks_dismissal") or [-1]) & (ThanksDismissal.member == from_id))
        .run()
    ):
        await (
            ThanksDismissal.update({ThanksDismissal.member: to_id, ThanksDismissal.key: f"{row['incident']}:{to_id}"})
            .where(ThanksDismissal.id == row["id"])
            .run()
        )


async def erase(member_id: int) -> None:
    """Drop what was said to and by the person in those records, and in their audit entries; keep that they
    happened (briefed, thanked, asked, answered) for the anonymous counts."""
    from crm.briefings.tables import Briefing
    from crm.questions.tables import LateQuestion
    from crm.thanks.tables import ThanksDismissal, ThankYou

    # Briefings composed for them carry their name and handle; notes may carry more.
    await Briefing.update({Briefing.message: "", Briefing.note: ""}).where(Briefing.member == member_id).run()
    await ThankYou.update({ThankYou.message: "", ThankYou.gift: ""}).where(ThankYou.member == member_id).run()
    await ThanksDismissal.update({ThanksDismissal.reason: ""}).where(ThanksDismissal.member == member_id).run()
    await (
        LateQuestion.update(
            {LateQuestion.text: "", LateQuestion.asker: "", LateQuestion.url: None, LateQuestion.answer_text: ""}
        )
        .where(LateQuestion.member == member_id)
        .run()
    )
    for entity, table in (("thank_you", ThankYou), ("late_question", LateQuestion), ("briefing", Briefing)):
        ids = [r["id"] for r in await table.select(table.id).where(table.member == member_id).run()]
        await scrub(entity=entity, record_ids=ids)
    # Dismissals are audited under their "<incident>:<member>" key.
    keys = [
        r["key"]
        for r in await ThanksDismissal.select(ThanksDismissal.key).where(ThanksDismissal.member == member_id).run()
    ]
    await scrub(entity="thanks_dismissal", record_ids=keys)
