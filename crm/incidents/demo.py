"""Demo incidents: one being handled now (with the freeze on and tweets linked), one from
last spring already reviewed, so every part of the incident page has something to show."""

from __future__ import annotations

from datetime import datetime, timedelta

from crm.audit.service import Actor
from crm.incidents import queries, service, talking_points
from crm.incidents.tables import Incident
from crm.members.tables import Interaction

CURRENT = "In-flight Wi-Fi outage joke misfires"
PAST = "Holiday sale email sent with wrong prices"


async def load(now: datetime, admin: Actor, manager: Actor) -> str:
    if await Incident.exists().where(Incident.title.is_in([CURRENT, PAST])).run():
        return "Demo incidents: already there."
    past = await service.create_incident(
        values={
            "title": PAST,
            "severity": "medium",
            "topics": ["loyalty", "travel"],
            "platforms": ["x", "instagram"],
            "summary": "A promotional email listed fares 40% below the real price.",
            "detected_at": now - timedelta(days=230),
            "freeze_promotion": True,
        },
        actor=manager,
        now=now - timedelta(days=230),
    )
    for minutes, status in ((50, "acknowledged"), (120, "responding"), (60 * 30, "resolved")):
        await service.transition(
            incident_id=past["id"], to=status, actor=manager, now=now - timedelta(days=230) + timedelta(minutes=minutes)
        )
    await service.add_action(
        incident_id=past["id"],
        values={"what": "Two-person check on every price in campaigns"},
        actor=manager,
        now=now - timedelta(days=229),
    )
    await service.update_incident(
        incident_id=past["id"],
        values={
            "review_what_happened": "A spreadsheet column shifted during the export to the email tool.",
            "review_what_changed": "Prices now come from the fare API, and a second person checks every campaign.",
            "review_lessons": "Own the mistake early; our advocates explained the fix before we did.",
        },
        actor=manager,
        now=now - timedelta(days=225),
    )
    await service.transition(incident_id=past["id"], to="reviewed", actor=manager, now=now - timedelta(days=220))

    current = await service.create_incident(
        values={
            "title": CURRENT,
            "severity": "high",
            "topics": ["travel", "loyalty"],
            "platforms": ["x"],
            "summary": "A post joking about the Wi-Fi outage read as mocking stranded passengers.",
            "links": ["https://twitter.com/VirginAmerica"],
            "detected_at": now - timedelta(hours=5),
        },
        actor=manager,
        now=now - timedelta(hours=5),
    )
    await service.transition(
        incident_id=current["id"], to="acknowledged", actor=manager, now=now - timedelta(hours=4, minutes=20)
    )
    await service.add_statement(
        incident_id=current["id"],
        values={
            "kind": "apology",
            "signed_by": "Morgan Manager, Head of Community",
            "text": "Our post made light of a real problem for people stuck without Wi-Fi. "
            "That was wrong, and we are sorry.",
        },
        actor=manager,
        now=now - timedelta(hours=4),
    )
    draft = await talking_points.create_draft(
        incident_id=current["id"],
        values={
            "points": [
                "We apologised publicly and took the post down only after replying to every comment.",
                "The Wi-Fi outage affected 14 flights; refunds are automatic.",
                "We are adding a second review for posts about service problems.",
            ],
            "avoid": ["Do not speculate about the cause of the outage."],
        },
        actor=manager,
        now=now - timedelta(hours=3),
    )
    await talking_points.approve(
        incident_id=current["id"], version=draft["version"], actor=admin, now=now - timedelta(hours=2, minutes=30)
    )
    since = now - timedelta(hours=6)
    negative = (
        await Interaction.select(Interaction.id)
        .where((Interaction.sentiment == "negative") & (Interaction.occurred_at >= since))
        .limit(40)
        .run()
    )
    if negative:
        await service.link_interactions(
            incident_id=current["id"], interaction_ids=[r["id"] for r in negative], actor=manager, now=now
        )
    clock = await queries.clock(await queries.snapshot(current["id"]), now)
    return (
        f"Demo incidents: one being handled (freeze on, {len(negative)} tweets linked, acknowledged after "
        f"{clock.seconds_to_acknowledge // 60} min) and one reviewed last spring."
    )
