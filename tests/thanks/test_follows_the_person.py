"""A person's briefings, thank-yous, dismissals and late questions follow them through a merge (and back on
undo), and an erasure drops what was said in them and in their audit entries, on both engines."""

from __future__ import annotations

from datetime import timedelta

from crm.audit.service import Actor
from crm.audit.tables import AuditEntry
from crm.briefings.tables import Briefing
from crm.members import erasure, merge
from crm.questions.tables import LateQuestion
from crm.thanks.tables import ThanksDismissal, ThankYou
from tests.thanks.conftest import START

ACTOR = Actor.system("test")


async def owners(table) -> dict[int, int]:
    return {r["id"]: r["member"] for r in await table.select(table.id, table.member).run()}


async def late_question(world, member_id: int, text: str, asker: str = "jane_dup") -> dict:
    r = await world.api.post(
        "/api/v1/late-questions",
        headers=world.h,
        json={
            "text": text,
            "member_id": member_id,
            "platform": "x",
            "asker": f"@{asker}",
            "url": f"https://x.com/{asker}/status/1",
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_a_merge_takes_the_duplicates_records_and_undo_gives_them_back(world):
    incident, other = await world.incident("Misleading ad"), await world.incident("Late refunds", topics=("refunds",))
    jane, dup = await world.member("Jane"), await world.member("Dup")
    await world.helped(incident, dup)
    assert (await world.thank(dup, incident)).status_code == 201
    await world.supportive(dup, other)
    assert (await world.dismiss(dup, other)).status_code == 201
    question = await late_question(world, dup, "Did you fix the ad?")
    assert await world.due() == []
    before = {t.__name__: await owners(t) for t in (Briefing, ThankYou, ThanksDismissal, LateQuestion)}
    assert set().union(*(set(o.values()) for o in before.values())) == {dup}

    merge_id = await merge.merge_members(keep_id=jane, merge_id=dup, actor=ACTOR, now=START)
    for table in (Briefing, ThankYou, ThanksDismissal, LateQuestion):
        assert set((await owners(table)).values()) == {jane}, table.__name__
    # The help was thanked (or dismissed) already: the merge must not make it due again.
    assert await world.due() == []
    dismissal = await ThanksDismissal.select().first().run()
    assert dismissal["key"] == f"{other}:{jane}"
    r = await world.api.get(f"/api/v1/late-questions/{question['id']}", headers=world.h)
    assert r.json()["member_id"] == jane

    await merge.undo_merge(merge_id=merge_id, actor=ACTOR, now=START + timedelta(minutes=1))
    assert {t.__name__: await owners(t) for t in (Briefing, ThankYou, ThanksDismissal, LateQuestion)} == before
    assert (await ThanksDismissal.select().first().run())["key"] == f"{other}:{dup}"
    assert await world.due() == []


async def test_a_merge_keeps_the_kept_members_own_dismissal(world):
    incident = await world.incident()
    jane, dup = await world.member("Jane"), await world.member("Dup")
    for member in (jane, dup):
        await world.supportive(member, incident)
        assert (await world.dismiss(member, incident, reason=f"not now ({member})")).status_code == 201
    merge_id = await merge.merge_members(keep_id=jane, merge_id=dup, actor=ACTOR, now=START)
    rows = {r["key"]: r["member"] for r in await ThanksDismissal.select().run()}
    assert rows == {f"{incident}:{jane}": jane, f"{incident}:{dup}": dup}  # one per member and incident
    assert await world.due() == []
    await merge.undo_merge(merge_id=merge_id, actor=ACTOR, now=START)
    assert {r["key"]: r["member"] for r in await ThanksDismissal.select().run()} == rows


async def test_erasure_drops_what_was_said_in_thanks_dismissals_and_questions(world, users):
    incident, other = await world.incident(), await world.incident("Late refunds", topics=("refunds",))
    jane, bystander = await world.member("Jane"), await world.member("Sam")
    await world.helped(incident, jane)
    r = await world.thank(jane, incident, message="Hi Jane, thanks!", gift="Mug for Jane", gift_value=12.5)
    assert r.status_code == 201, r.text
    thanks_id = r.json()["id"]
    await world.supportive(jane, other)
    assert (await world.dismiss(jane, other, reason="Jane said she moves to Lyon")).status_code == 201
    question = await late_question(world, jane, "Jane here: did you fix the ad?")
    r = await world.api.patch(
        f"/api/v1/late-questions/{question['id']}", headers=world.h, json={"answer_text": "Yes Jane, we did."}
    )
    assert r.status_code == 200, r.text
    kept = await late_question(world, bystander, "Sam asks: is it fixed?", asker="sam")

    await erasure.erase_member(member_id=jane, actor=ACTOR, now=START)

    thanks = await ThankYou.select().where(ThankYou.id == thanks_id).first().run()
    assert (thanks["message"], thanks["gift"], thanks["gift_value_cents"]) == ("", "", 1250)
    assert (await ThanksDismissal.select().where(ThanksDismissal.member == jane).first().run())["reason"] == ""
    asked = await LateQuestion.select().where(LateQuestion.id == question["id"]).first().run()
    assert (asked["text"], asked["asker"], asked["url"], asked["answer_text"]) == ("", "", None, "")
    assert asked["answered_at"] is not None  # that it was asked and answered still counts
    untouched = await LateQuestion.select().where(LateQuestion.id == kept["id"]).first().run()
    assert untouched["text"] == "Sam asks: is it fixed?"
    said = [
        e
        for e in await AuditEntry.select()
        .where(AuditEntry.entity.is_in(["thank_you", "thanks_dismissal", "late_question", "briefing"]))
        .run()
        if "Jane" in str(e["before"]) + str(e["after"]) or "jane" in str(e["before"]) + str(e["after"])
    ]
    assert said == [], [(e["action"], e["entity"], e["record_id"], e["before"], e["after"]) for e in said]
    sam = [
        e
        for e in await AuditEntry.select().where(AuditEntry.entity == "late_question").run()
        if "Sam asks" in str(e["after"])
    ]
    assert sam  # only the erased person's entries were scrubbed
