"""Demo thank-yous: warmer templates for two channels, two advocates thanked after last spring's incident, and a
queue with something in it: Dana (helped on today's incident, briefing outcome "helped") and Tom (supportive
replies today) are due, and Lena, who defended us about last spring's incident three days ago, is overdue."""

from __future__ import annotations

from datetime import datetime, timedelta

from crm import db
from crm.audit.service import Actor
from crm.incidents.demo import CURRENT, PAST
from crm.incidents.tables import Incident
from crm.members import interactions
from crm.members.tables import Member
from crm.thanks import service
from crm.thanks.tables import ThankYou, ThankYouTemplate

TEMPLATES = {
    "dm": "Hi {member_name}! Thank you so much for jumping in during {incident_title}. People listened to you, "
    "and the whole community team noticed. We owe you one.",
    "email": "Hi {member_name},\n\nThank you for standing with us during {incident_title}. You shared the facts "
    "calmly when it mattered most, and it made a real difference.\n\nWarm wishes,\nMorgan, Head of Community",
}


async def load(now: datetime, manager: Actor) -> str:
    async with db.transaction():  # one transaction for the batch: the services' own ones join it
        return await _load(now, manager)


async def _load(now: datetime, manager: Actor) -> str:
    incidents = {
        r["title"]: r["id"]
        for r in await Incident.select(Incident.id, Incident.title).where(Incident.title.is_in([CURRENT, PAST])).run()
    }
    people = {
        r["email"]: r
        for r in await Member.select(Member.id, Member.email, Member.name)
        .where(Member.email.is_in(["dana@example.org", "ravi@example.org", "lena@example.org", "tom@example.org"]))
        .run()
    }
    if PAST not in incidents or CURRENT not in incidents or len(people) < 4:
        return "Demo thank-yous: the demo members or incidents are missing; skipped."
    if not await ThankYouTemplate.exists().run():
        await service.update_templates(bodies=TEMPLATES, actor=manager, now=now)
    if await ThankYou.exists().where(ThankYou.incident == incidents[PAST]).run():
        return "Demo thank-yous: already there."
    past = incidents[PAST]
    for email, channel, gift, value in (
        ("dana@example.org", "email", "Lounge pass", "45.00"),
        ("ravi@example.org", "public_reply", "", None),
    ):
        await service.record_thanks(
            member_id=people[email]["id"],
            incident_id=past,
            channel=channel,
            gift=gift,
            gift_value=value,
            sent_at=now - timedelta(days=227),
            actor=manager,
            now=now,
        )
    # Support that still needs a thank-you: idempotent on external_id, like every import.
    help_given = [
        (
            "lena@example.org",
            "tiktok",
            "comment",
            past,
            now - timedelta(days=3, hours=2),
            "Seen people asking about the old fare mix-up: they fixed it and refunded everyone. Credit where due.",
        ),
        (
            "lena@example.org",
            "tiktok",
            "reply",
            past,
            now - timedelta(days=3),
            "Yes, the wrong prices were a mistake, and the fix has held since.",
        ),
        (
            "tom@example.org",
            "linkedin",
            "reply",
            incidents[CURRENT],
            now - timedelta(hours=3),
            "Their team apologised within the hour. Refunds for the Wi-Fi outage are automatic.",
        ),
        (
            "tom@example.org",
            "linkedin",
            "comment",
            incidents[CURRENT],
            now - timedelta(hours=2),
            "Fair play for owning it.",
        ),
    ]
    for n, (email, platform, kind, incident_id, at, text) in enumerate(help_given):
        await interactions.log_interaction(
            values={
                "member_id": people[email]["id"],
                "platform": platform,
                "kind": kind,
                "occurred_at": at,
                "sentiment": "positive",
                "text": text,
                "incident_id": incident_id,
                "external_id": f"demo-thanks-{n}",
            },
            actor=manager,
            now=now,
        )
    return (
        "Demo thank-yous: 2 recorded for last spring's incident; Dana and Tom are due a thank-you, "
        "Lena is overdue (see /thanks)."
    )
