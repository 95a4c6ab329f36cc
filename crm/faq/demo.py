"""Demo FAQ entries on the demo incidents (crm/incidents/demo.py): answers agents can search, a draft an agent
proposed, one answer due for review, and last spring's incident shown on the public FAQ page."""

from __future__ import annotations

from datetime import datetime, timedelta

from crm.audit.service import Actor
from crm.faq import service
from crm.faq.tables import FaqEntry
from crm.incidents.demo import CURRENT, PAST
from crm.incidents.tables import Incident

MARKER = "Did you delete negative comments?"

# (incident, question, answer, tags, status, days ago written, days ago last reviewed or None)
ENTRIES = [
    (
        CURRENT,
        MARKER,
        "No. We did not delete or hide any comment, negative or not. We replied to the comments first and only then "
        "took **our own post** down, because it made light of a real problem.\n\n"
        "Every comment people wrote is still on their own timelines.",
        ["moderation", "comments"],
        "published",
        0,
        None,
    ),
    (
        CURRENT,
        "Will I get a refund for the Wi-Fi I could not use?",
        "Yes. Refunds for in-flight Wi-Fi are **automatic** for the 14 affected flights: the money is back on the "
        "card you paid with within 7 days.\n\n"
        "Nothing arrived? Write to [our support team](mailto:support@example.com).",
        ["refunds", "wi-fi"],
        "published",
        0,
        None,
    ),
    (
        CURRENT,
        "Who approved the joke about the outage?",
        "A member of our social team wrote it; posts about service problems now need a second person's review.",
        ["process"],
        "draft",
        0,
        None,
    ),
    (
        PAST,
        "Will you honour the wrong prices from the sale email?",
        "We honoured every booking made at the wrong price before we corrected the email: 312 bookings in all. "
        "Bookings after the correction were at the real fares.",
        ["prices", "sale"],
        "published",
        228,
        40,
    ),
    (
        PAST,
        "How do you make sure prices in emails are right now?",
        "Prices in campaigns now come straight from our fare system, and a second person checks every campaign "
        "before it is sent.\n\n- No more copying prices by hand\n- Two people sign off every price",
        ["prices", "process"],
        "published",
        225,
        None,
    ),
]


async def load(now: datetime, manager: Actor, agent: Actor) -> str:
    if await FaqEntry.exists().where(FaqEntry.question == MARKER).run():
        return "Demo FAQ: already there."
    incidents = {
        r["title"]: r["id"]
        for r in await Incident.select(Incident.id, Incident.title).where(Incident.title.is_in([CURRENT, PAST])).run()
    }
    if len(incidents) < 2:
        return "Demo FAQ: skipped (the demo incidents are missing)."
    for title, question, answer, tags, status, written, reviewed in ENTRIES:
        author = agent if status == "draft" else manager
        entry = await service.create_entry(
            incident_id=incidents[title],
            values={"question": question, "answer": answer, "tags": tags, "status": status},
            actor=author,
            now=now - timedelta(days=written, hours=2),
            may_publish=status != "draft",
        )
        if reviewed is not None:
            await service.update_entry(
                entry_id=entry["id"], values={"reviewed": True}, actor=manager, now=now - timedelta(days=reviewed)
            )
    await service.set_public(incident_id=incidents[PAST], public=True, actor=manager, now=now)
    return (
        f'Demo FAQ: {len(ENTRIES)} entries (one draft, one due for review); "{PAST}" is on the public FAQ '
        "page at /public/faq."
    )
