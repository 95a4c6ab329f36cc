"""Demo late questions: customers still asking about last spring's pricing email weeks and months later (some
answered from the FAQ, some waiting, some the FAQ has no full answer for (gaps), one from Dana, a known member), and one
about today's incident. Run after the FAQ demo so the suggestions have entries to find; without any FAQ
entries every question is a gap, which the report shows too. Safe to run twice."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from crm.audit.service import Actor
from crm.incidents.demo import CURRENT, PAST
from crm.incidents.tables import Incident
from crm.questions import service
from crm.questions.tables import LateQuestion
from crm.settings import ConfigError, Settings

# days ago, incident, text, platform, asker, answer: "faq" (the best suggestion, else free text), "text" or None
QUESTIONS = [
    (190, PAST, "Did you honour the prices in the sale email?", "x", "@fareseeker", "faq"),
    (150, PAST, "Are the prices in your emails right now? I am not sure.", "instagram", "milesandmore", "faq"),
    (96, PAST, "Will you honour the wrong fare from the sale email?", "x", "@DanaW", "faq"),
    (60, PAST, "Why did the sale email show the wrong prices?", "facebook", "Jo Baker", "text"),
    (33, PAST, "Baggage allowance?", "x", "@packlight", None),
    (12, PAST, "Did anything change after the pricing email mistake?", "x", "@skeptic_sam", None),
    (4, PAST, "Is the price in your newsletter correct this time?", "email", "k.oduya@example.net", None),
    (0, CURRENT, "Is the Wi-Fi working on flights again?", "x", "@wifi_or_bust", None),
]
FREE_TEXT = (
    "A spreadsheet column shifted when the campaign was exported, so the email listed fares 40% below "
    "the real price. Prices now come from the fare system and a second person checks every campaign."
)


def _zone() -> ZoneInfo:
    """The CRM's zone, for the dates in the record-since sentences of the answers."""
    try:
        return ZoneInfo(Settings.from_env().timezone)
    except ConfigError:
        return ZoneInfo("UTC")


async def load(now: datetime, agent: Actor) -> str:
    incidents = {
        r["title"]: r["id"]
        for r in await Incident.select(Incident.id, Incident.title).where(Incident.title.is_in([CURRENT, PAST])).run()
    }
    if not incidents:
        return "Demo late questions: no demo incidents; skipped."
    if await LateQuestion.exists().where(LateQuestion.incident.is_in(list(incidents.values()))).run():
        return "Demo late questions: already there."
    logged = answered = gaps = 0
    zone = _zone()
    for days, title, text, platform, asker, answer in QUESTIONS:
        if title not in incidents:
            continue
        asked_at = now - timedelta(days=days, hours=3)
        question, suggestions = await service.log_question(
            values={
                "text": text,
                "platform": platform,
                "asker": asker,
                "asked_at": asked_at,
                "incident_id": incidents[title],
            },
            actor=agent,
            now=asked_at + timedelta(minutes=20),
        )
        logged += 1
        gaps += not suggestions
        if answer is None:
            continue
        values = {"faq_id": suggestions[0]["id"]} if answer == "faq" and suggestions else {"answer_text": FREE_TEXT}
        await service.answer_question(
            question_id=question["id"], values=values, actor=agent, now=asked_at + timedelta(hours=2), zone=zone
        )
        answered += 1
    return (
        f"Demo late questions: {logged} logged ({answered} answered, {logged - answered} waiting, "
        f"{gaps} with no FAQ entry); see /questions and each incident's late-question report."
    )
