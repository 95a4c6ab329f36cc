"""A member's thank-yous and dismissed thank-yous follow them through merges and erasures (crm/members/follow.py;
registered by crm/wiring.py).

A dismissal is one per member and incident, under the key "<incident id>:<member id>", so moving one rewrites its
key, and it moves only when the kept member has none for that incident (theirs already says not to ask)."""

from __future__ import annotations

from functools import partial

from crm.audit.service import scrub
from crm.members.follow import Handler, ids_of, move_rows, move_rows_back
from crm.thanks.tables import ThanksDismissal, ThankYou


async def erase_thank_yous(member_id: int) -> None:
    await ThankYou.update({ThankYou.message: "", ThankYou.gift: ""}).where(ThankYou.member == member_id).run()
    await scrub(entity="thank_you", record_ids=await ids_of(ThankYou, member_id))


THANK_YOUS = Handler(
    move=partial(move_rows, ThankYou), move_back=partial(move_rows_back, ThankYou), erase=erase_thank_yous
)


async def _give(row: dict, member_id: int) -> None:
    """The dismissal now belongs to ``member_id``, and so does its key."""
    await (
        ThanksDismissal.update(
            {ThanksDismissal.member: member_id, ThanksDismissal.key: f"{row['incident']}:{member_id}"}
        )
        .where(ThanksDismissal.id == row["id"])
        .run()
    )


async def move_dismissals(from_id: int, to_id: int) -> list[int]:
    taken = {
        r["incident"]
        for r in await ThanksDismissal.select(ThanksDismissal.incident).where(ThanksDismissal.member == to_id).run()
    }
    moved = []
    for row in await ThanksDismissal.select().where(ThanksDismissal.member == from_id).run():
        if row["incident"] not in taken:
            await _give(row, to_id)
            moved.append(row["id"])
    return moved


async def move_dismissals_back(ids: list[int], from_id: int, to_id: int) -> None:
    for row in (
        await ThanksDismissal.select().where(ThanksDismissal.id.is_in(ids) & (ThanksDismissal.member == from_id)).run()
    ):
        await _give(row, to_id)


async def erase_dismissals(member_id: int) -> None:
    await ThanksDismissal.update({ThanksDismissal.reason: ""}).where(ThanksDismissal.member == member_id).run()
    # Dismissals are audited under their key, not their id.
    keys = [
        r["key"]
        for r in await ThanksDismissal.select(ThanksDismissal.key).where(ThanksDismissal.member == member_id).run()
    ]
    await scrub(entity="thanks_dismissal", record_ids=keys)


DISMISSALS = Handler(move=move_dismissals, move_back=move_dismissals_back, erase=erase_dismissals)
