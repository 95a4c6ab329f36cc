"""Merging a duplicate into the member we keep, undoing it, and spotting likely duplicates."""

from __future__ import annotations

import json
from datetime import datetime

from piccolo.columns.combination import WhereRaw

from crm import db
from crm.audit.service import Actor, log_change
from crm.errors import Conflict, InvalidInput, NotFound
from crm.members import engagement, follow, links, queries
from crm.members.service import refresh_reach
from crm.members.tables import Handle, Interaction, Member, MemberMerge, MemberTopic
from crm.members.vocab import PLATFORMS


async def merge_members(*, keep_id: int, merge_id: int, actor: Actor, now: datetime) -> int:
    """Move the duplicate's handles, interactions and topics to ``keep_id``, and what follows the person in later
    domains (crm/members/follow.py: briefings, thank-yous, dismissals, late questions); returns the merge id."""
    if keep_id == merge_id:
        raise InvalidInput({"merge": "Choose two different members."})
    async with db.transaction():
        keep, dup = await queries.get_member(keep_id), await queries.get_member(merge_id)
        if keep is None:
            raise NotFound(f"No member with id {keep_id}.")
        if dup is None:
            raise NotFound(f"No member with id {merge_id}.")
        handle_ids = [h["id"] for h in dup["handles"]]
        interaction_ids = [
            r["id"] for r in await Interaction.select(Interaction.id).where(Interaction.member == merge_id).run()
        ]
        new_topics = [t for t in dup["topics"] if t not in keep["topics"]]
        if handle_ids:
            await Handle.update({Handle.member: keep_id}).where(Handle.id.is_in(handle_ids)).run()
        if interaction_ids:
            await Interaction.update({Interaction.member: keep_id}).where(Interaction.member == merge_id).run()
        if new_topics:
            await MemberTopic.insert(
                *[MemberTopic(member=keep_id, topic=t, key=f"{keep_id}:{t}") for t in new_topics]
            ).run()
        moved = await follow.move(from_id=merge_id, to_id=keep_id)
        await Member.update({Member.merged_into: keep_id, Member.updated_at: now}).where(Member.id == merge_id).run()
        for member_id in (keep_id, merge_id):
            await engagement.rebuild_member(member_id)
            await refresh_reach(member_id)
        await links.members_changed([keep_id, merge_id])  # the incidents' conversation counts
        row = MemberMerge(
            kept=keep_id,
            merged=merge_id,
            moved_handle_ids=json.dumps(handle_ids),
            moved_interaction_ids=json.dumps(interaction_ids),
            moved_topics=json.dumps(new_topics),
            moved_records=json.dumps(moved),
            merged_by=actor.user_id,
            merged_at=now,
        )
        await row.save().run()
        await log_change(
            actor=actor,
            action="member.merge",
            entity="member",
            record_id=keep_id,
            after={
                "merge_id": row.id,
                "kept": keep_id,
                "merged": merge_id,
                "handles": len(handle_ids),
                "interactions": len(interaction_ids),
                "topics": new_topics,
                **{name: len(ids) for name, ids in moved.items() if ids},
            },
            at=now,
        )
    return row.id


async def undo_merge(*, merge_id: int, actor: Actor, now: datetime) -> None:
    async with db.transaction():
        row = await MemberMerge.select().where(MemberMerge.id == merge_id).output(load_json=True).first().run()
        if row is None:
            raise NotFound(f"No merge with id {merge_id}.")
        if row["undone_at"] is not None:
            raise Conflict("This merge has already been undone.")
        kept, merged = row["kept"], row["merged"]
        if await Member.exists().where((Member.id == merged) & Member.erased_at.is_not_null()).run():
            raise Conflict(f"Member {merged} was erased since the merge; it cannot be undone.")
        if await queries.get_member(kept) is None:
            raise Conflict(f"Member {kept} was deleted or erased since the merge; it cannot be undone.")
        handle_ids, interaction_ids = row["moved_handle_ids"], row["moved_interaction_ids"]
        topics = row["moved_topics"]
        if handle_ids:
            await (
                Handle.update({Handle.member: merged})
                .where(Handle.id.is_in(handle_ids) & (Handle.member == kept))
                .run()
            )
        if interaction_ids:
            await (
                Interaction.update({Interaction.member: merged})
                .where(Interaction.id.is_in(interaction_ids) & (Interaction.member == kept))
                .run()
            )
        if topics:
            await MemberTopic.delete().where((MemberTopic.member == kept) & MemberTopic.topic.is_in(topics)).run()
        await follow.move_back(row["moved_records"], from_id=kept, to_id=merged)
        await Member.update({Member.merged_into: None, Member.updated_at: now}).where(Member.id == merged).run()
        for member_id in (kept, merged):
            await engagement.rebuild_member(member_id)
            await refresh_reach(member_id)
        await links.members_changed([kept, merged])
        await MemberMerge.update({MemberMerge.undone_at: now}).where(MemberMerge.id == merge_id).run()
        await log_change(
            actor=actor,
            action="member.merge_undo",
            entity="member",
            record_id=kept,
            after={"merge_id": merge_id, "restored": merged},
            at=now,
        )


async def merges_into(member_id: int) -> list[dict]:
    return (
        await MemberMerge.select()
        .where(MemberMerge.kept == member_id)
        .order_by(MemberMerge.merged_at, ascending=False)
        .run()
    )


async def likely_duplicates(member_id: int) -> list[dict]:
    """Other live members who look like the same person, each with the reason."""
    member = await queries.get_member(member_id)
    if member is None:
        return []
    found: dict[int, list[str]] = {}

    def note(other_id: int, reason: str) -> None:
        if other_id != member_id and reason not in found.setdefault(other_id, []):
            found[other_id].append(reason)

    # One query for every identifier of the member (not one per handle): their email as an email handle of
    # someone else, and each handle's name on the other platforms. key -> (handle or None for the email).
    by_key: dict[str, list[dict | None]] = {}
    if member["email"]:
        by_key[f"email:{member['email']}"] = [None]
    emails = []
    for handle in member["handles"]:
        name = handle["handle"].lower()
        if handle["platform"] == "email":
            emails.append(name)
        for platform in PLATFORMS:
            if platform != handle["platform"]:
                by_key.setdefault(f"{platform}:{name}", []).append(handle)
    if emails:
        for row in await Member.select(Member.id, Member.email).where(Member.email.is_in(emails)).run():
            note(row["id"], f"has the email {row['email']}")
    if by_key:
        others = Handle.select(Handle.member, Handle.platform, Handle.key).where(Handle.key.is_in(list(by_key)))
        for row in await others.run():
            for handle in by_key[row["key"]]:
                if handle is None:
                    note(row["member"], f"has {member['email']} as an email handle")
                elif row["member"] != member_id:
                    note(row["member"], f"same handle @{handle['handle']} on {row['platform']}")
    same_name = (
        await Member.select(Member.id)
        .where(queries.live() & (Member.id != member_id))
        .where(WhereRaw("LOWER(name) = {}", member["name"].lower()))
        .run()
    )
    for row in same_name:
        note(row["id"], "same name")
    live = {
        r["id"]: r
        for r in await Member.select(Member.id, Member.name, Member.tier)
        .where(queries.live() & Member.id.is_in(list(found) or [-1]))
        .run()
    }
    return [
        {"id": i, "name": live[i]["name"], "tier": live[i]["tier"], "reasons": reasons}
        for i, reasons in found.items()
        if i in live
    ]
