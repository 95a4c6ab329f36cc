"""Briefing members privately with the approved talking points, and what came of it."""

from __future__ import annotations

import json
from datetime import datetime

from crm import db, validation
from crm.audit.service import Actor, log_change
from crm.briefings import queries
from crm.briefings.tables import Briefing, SuggestionFeedback
from crm.briefings.vocab import CHANNELS, OUTCOMES, VERDICTS
from crm.errors import Conflict, InvalidInput, NotFound
from crm.incidents import service as incident_service
from crm.incidents import talking_points
from crm.members import queries as member_queries
from crm.members.tables import Interaction


def compose(member: dict, points: dict, incident: dict) -> str:
    """The brief for one member, ready to copy: their name and preferred handle, the points, what to avoid."""
    # The same choice as the suggestion's preferred handle: an affected platform first, then the widest reach.
    handle = max(
        member["handles"], key=lambda h: (h["platform"] in incident["platforms"], h["followers"] or 0), default=None
    )
    greeting = f"Hi {member['name']}" + (f" (@{handle['handle']})" if handle else "") + ","
    lines = [
        greeting,
        "",
        f"Thank you for being part of our community. Before anything else reaches you about "
        f'"{incident["title"]}", here is what we can share:',
        "",
    ]
    lines += [f"{n}. {point}" for n, point in enumerate(points["points"], 1)]
    if points["avoid"]:
        lines += ["", "Please don't:"] + [f"- {item}" for item in points["avoid"]]
    if points["links"]:
        lines += ["", "More:"] + [f"- {link}" for link in points["links"]]
    lines += ["", "Thank you for helping people get the facts."]
    return "\n".join(lines)


async def brief(*, incident_id: int, member_id: int, channel: str, note: str = "", actor: Actor, now: datetime) -> dict:
    errors: dict[str, str] = {}
    validation.choice(channel, "channel", errors, CHANNELS)
    note = validation.text(note, "note", errors, max_length=2_000)
    if errors:
        raise InvalidInput(errors)
    async with db.transaction():
        incident = await incident_service.locked(incident_id)
        points = await talking_points.current(incident_id)
        if points is None:
            raise Conflict("No talking points are approved for this incident yet: approve a version first.")
        member = await member_queries.get_member(member_id)
        if member is None:
            raise NotFound(f"No member with id {member_id}.")
        if member["do_not_contact"]:
            raise Conflict(f"{member['name']} is marked do-not-contact.", fields={"member_id": "do_not_contact"})
        if not member["consent_private_briefing"]:
            raise Conflict(
                f"{member['name']} has not consented to private contact; record their consent first.",
                fields={"member_id": "no_consent"},
            )
        if (
            await Briefing.exists()
            .where((Briefing.member == member_id) & (Briefing.talking_points == points["id"]))
            .run()
        ):
            raise Conflict(
                f"{member['name']} was already briefed on version {points['version']}.",
                fields={"member_id": "already_briefed"},
            )
        message = compose(member, points, incident)
        row = Briefing(
            member=member_id,
            incident=incident_id,
            talking_points=points["id"],
            version=points["version"],
            channel=channel,
            note=note,
            message=message,
            briefed_by=actor.user_id,
            briefed_at=now,
            outcome="sent",
        )
        await row.save().run()
        await log_change(
            actor=actor,
            action="briefing.create",
            entity="briefing",
            record_id=row.id,
            after={"incident": incident_id, "member": member_id, "version": points["version"], "channel": channel},
            at=now,
        )
    return await queries.get(row.id)


async def set_outcome(
    *, briefing_id: int, outcome: str, evidence: list[int] | None = None, actor: Actor, now: datetime
) -> dict:
    errors: dict[str, str] = {}
    validation.choice(outcome, "outcome", errors, OUTCOMES)
    if errors:
        raise InvalidInput(errors)
    async with db.transaction():
        before = await queries.get(briefing_id)
        ids = sorted(set(evidence or []))
        if ids:
            mine = {
                r["id"]
                for r in await Interaction.select(Interaction.id)
                .where(Interaction.id.is_in(ids) & (Interaction.member == before["member"]))
                .run()
            }
            if set(ids) - mine:
                raise InvalidInput({"evidence_interaction_ids": "Evidence must be interactions of the briefed member."})
        changes = {Briefing.outcome: outcome, Briefing.outcome_at: now}
        if evidence is not None:
            changes[Briefing.evidence] = json.dumps(ids)
        await Briefing.update(changes).where(Briefing.id == briefing_id).run()
        await log_change(
            actor=actor,
            action="briefing.outcome",
            entity="briefing",
            record_id=briefing_id,
            before={"outcome": before["outcome"]},
            after={"outcome": outcome, "evidence": ids},
            at=now,
        )
    return await queries.get(briefing_id)


async def give_feedback(*, incident_id: int, member_id: int, verdict: str, actor: Actor, now: datetime) -> None:
    errors: dict[str, str] = {}
    validation.choice(verdict, "verdict", errors, VERDICTS)
    if errors:
        raise InvalidInput(errors)
    async with db.transaction():
        await incident_service.locked(incident_id)
        if await member_queries.get_member(member_id) is None:
            raise NotFound(f"No member with id {member_id}.")
        key = f"{incident_id}:{member_id}"
        if await SuggestionFeedback.exists().where(SuggestionFeedback.key == key).run():
            await (
                SuggestionFeedback.update(
                    {
                        SuggestionFeedback.verdict: verdict,
                        SuggestionFeedback.by: actor.user_id,
                        SuggestionFeedback.at: now,
                    }
                )
                .where(SuggestionFeedback.key == key)
                .run()
            )
        else:
            await SuggestionFeedback.insert(
                SuggestionFeedback(
                    incident=incident_id, member=member_id, key=key, verdict=verdict, by=actor.user_id, at=now
                )
            ).run()
        await log_change(
            actor=actor,
            action="suggestion.feedback",
            entity="incident",
            record_id=incident_id,
            after={"member": member_id, "verdict": verdict},
            at=now,
        )
