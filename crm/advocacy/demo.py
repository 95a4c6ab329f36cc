"""Demo advocate health: an incident from about three months ago on which Ravi was briefed three times over
(three versions of the talking points) and not thanked since, before he went quiet. With the other demo people
the stay-supportive list then shows every warning: Ravi asked without thanks and quiet after an incident;
Tom and Lena active but never contacted. Safe to run twice (skipped when the incident is there)."""

from __future__ import annotations

from datetime import datetime, timedelta

from crm.audit.service import Actor
from crm.briefings import service as briefings
from crm.incidents import service as incidents
from crm.incidents import talking_points
from crm.incidents.tables import Incident
from crm.members import queries as members

TITLE = "Support chatbot promised refunds it could not give"
VERSIONS = [
    [
        "The chatbot gave wrong refund answers for two days; it is switched off.",
        "Everyone who was promised a refund gets it.",
    ],
    [
        "The chatbot gave wrong refund answers for two days; it is switched off.",
        "Everyone who was promised a refund gets it, automatically, within 10 days.",
    ],
    [
        "The chatbot gave wrong refund answers for two days; it is switched off.",
        "Everyone who was promised a refund gets it, automatically, within 10 days.",
        "A person now reviews every answer about money before the bot goes back online.",
    ],
]


async def load(now: datetime, admin: Actor, manager: Actor) -> str:
    if await Incident.exists().where(Incident.title == TITLE).run():
        return "Demo advocate health: already there."
    ravi = await members.member_id_by_email("ravi@example.org")
    if ravi is None:
        return "Demo advocate health: no demo members; skipped."
    detected = now - timedelta(days=100)
    incident = await incidents.create_incident(
        values={
            "title": TITLE,
            "severity": "medium",
            "topics": ["travel"],
            "platforms": ["x"],
            "freeze_promotion": False,
            "summary": "The support chatbot told customers they were owed refunds under a policy we do not have.",
            "detected_at": detected,
        },
        actor=manager,
        now=detected,
    )
    await incidents.transition(
        incident_id=incident["id"], to="acknowledged", actor=manager, now=detected + timedelta(minutes=40)
    )
    for n, points in enumerate(VERSIONS):
        at = detected + timedelta(days=1 + 4 * n)
        draft = await talking_points.create_draft(
            incident_id=incident["id"], values={"points": points}, actor=manager, now=at
        )
        await talking_points.approve(
            incident_id=incident["id"], version=draft["version"], actor=admin, now=at + timedelta(hours=1)
        )
        await briefings.brief(
            incident_id=incident["id"], member_id=ravi, channel="dm", actor=manager, now=at + timedelta(hours=2)
        )
    await incidents.transition(
        incident_id=incident["id"], to="responding", actor=manager, now=detected + timedelta(days=1)
    )
    await incidents.transition(
        incident_id=incident["id"], to="resolved", actor=manager, now=detected + timedelta(days=12)
    )
    return (
        "Demo advocate health: Ravi briefed three times on an incident three months ago, not thanked since "
        "(see Thank-yous \u2192 /thanks/supportive)."
    )
