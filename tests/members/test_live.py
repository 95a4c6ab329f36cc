"""One rule for a live member (not deleted, erased or merged away), spelled for Piccolo and for raw SQL by
crm/members/queries.py, and the two spellings agree. Both engines."""

from __future__ import annotations

from crm.audit.service import Actor
from crm.members import erasure, merge, queries, service
from crm.members.tables import Handle, Member

ACTOR = Actor.system("test")


async def test_live_members_are_the_same_in_piccolo_and_in_raw_sql(engine, clock):
    async def member(name: str) -> int:
        values = {"name": name, "handles": [{"platform": "x", "handle": name.lower()}]}
        return (await service.create_member(values=values, actor=ACTOR, now=clock()))["id"]

    kept, deleted, erased, merged = [await member(n) for n in ("Kept", "Deleted", "Erased", "Merged")]
    await service.delete_member(member_id=deleted, actor=ACTOR, now=clock())
    await erasure.erase_member(member_id=erased, actor=ACTOR, now=clock())
    await merge.merge_members(keep_id=kept, merge_id=merged, actor=ACTOR, now=clock())

    orm = {r["id"] for r in await Member.select(Member.id).where(queries.live()).run()}
    raw = {r["id"] for r in await Member.raw(f"SELECT m.id FROM member m WHERE {queries.live_sql('m')}").run()}
    assert orm == raw == {kept}
    # Through a foreign key: the deleted member keeps their handle, the merged one's moved to the kept member.
    handles = await Handle.select(Handle.member).where(queries.live(Handle.member)).run()
    assert {r["member"] for r in handles} == {kept}
    assert {r["member"] for r in await Handle.select(Handle.member).run()} == {kept, deleted}
