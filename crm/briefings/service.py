"""Briefing members privately with the approved talking points, and what came of it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from crm import db, validation
from crm.audit.service import Actor, record
from crm.briefings.tables import Briefing, SuggestionFeedback
from crm.errors import Conflict, InvalidInput, NotFound
from crm.incidents import queries as incident_queries
from crm.incidents import service as incident_service
from crm.incidents import talking_points
from crm.members import queries as member_queries
from crm.members.tables import Interaction

CHANNELS = ["dm", "email", "phone", "in_person", "other"]
OUTCOMES = ["sent", "acknowledged", "declined", "no_response", "helped"]
VERDICTS = ["accepted", "skipped", "bad_fit"]


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
        await record(
            actor=actor,
            action="briefing.create",
            entity="briefing",
            record_id=row.id,
            after={"incident": incident_id, "member": member_id, "version": points["version"], "channel": channel},
            at=now,
        )
    return await get(row.id)


async def get(briefing_id: int) -> dict:
    row = await Briefing.select().where(Briefing.id == briefing_id).first().run()
    if row is None:
        raise NotFound(f"No briefing with id {briefing_id}.")
    return {**row, "evidence": json.loads(row["evidence"]) if isinstance(row["evidence"], str) else row["evidence"]}


async def set_outcome(
    *, briefing_id: int, outcome: str, evidence: list[int] | None = None, actor: Actor, now: datetime
) -> dict:
    errors: dict[str, str] = {}
    validation.choice(outcome, "outcome", errors, OUTCOMES)
    if errors:
        raise InvalidInput(errors)
    async with db.transaction():
        before = await get(briefing_id)
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
        await record(
            actor=actor,
            action="briefing.outcome",
            entity="briefing",
            record_id=briefing_id,
            before={"outcome": before["outcome"]},
            after={"outcome": outcome, "evidence": ids},
            at=now,
        )
    return await get(briefing_id)


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
        await record(
            actor=actor,
            action="suggestion.feedback",
            entity="incident",
            record_id=incident_id,
            after={"member": member_id, "verdict": verdict},
            at=now,
        )


async def briefings_for(incident_id: int) -> list[dict]:
    rows = (
        await Briefing.select(
            *Briefing.all_columns(),
            Briefing.member.name.as_alias("member_name"),
        )
        .where(Briefing.incident == incident_id)
        .order_by(Briefing.briefed_at, Briefing.id)
        .run()
    )  # several at once
    return rows


async def rebrief_queue(incident_id: int) -> list[dict]:
    """Members briefed on an older version than the approved one and not re-briefed since,
    each with what changed between their version and the current one."""
    current = await talking_points.current(incident_id)
    if current is None:
        return []
    latest: dict[int, dict] = {}
    for row in await briefings_for(incident_id):
        if row["member"] not in latest or row["version"] > latest[row["member"]]["version"]:
            latest[row["member"]] = row
    queue = []
    for row in latest.values():
        if row["version"] < current["version"]:
            old = await talking_points.get_version(incident_id, row["version"])
            queue.append({**row, "current_version": current["version"], "changes": talking_points.diff(old, current)})
    return sorted(queue, key=lambda r: (r["briefed_at"], r["id"]))


async def figures(incident: dict) -> dict[str, Any]:
    rows = await briefings_for(incident["id"])
    members = {r["member"] for r in rows}
    first = min((r["briefed_at"] for r in rows), default=None)
    return {
        "briefed": len(members),
        "acknowledged": len({r["member"] for r in rows if r["outcome"] in ("acknowledged", "helped")}),
        "helped": len({r["member"] for r in rows if r["outcome"] == "helped"}),
        "seconds_to_first_briefing": int((first - incident["detected_at"]).total_seconds()) if first else None,
    }


async def briefings_of_member(
    member_id: int, *, since: datetime | None = None, before: datetime | None = None
) -> list[dict]:
    """A member's briefings, newest first; ``since <= briefed_at < before`` when given (the member timeline's
    window, crm/pages/timeline.py)."""
    query = Briefing.select(
        *Briefing.all_columns(),
        Briefing.incident.title.as_alias("incident_title"),
    ).where(Briefing.member == member_id)
    if since is not None:
        query = query.where(Briefing.briefed_at >= since)
    if before is not None:
        query = query.where(Briefing.briefed_at < before)
    return await query.order_by(Briefing.briefed_at, ascending=False).order_by(Briefing.id, ascending=False).run()


async def incident_or_404(incident_id: int) -> dict:
    incident = await incident_queries.snapshot(incident_id)
    if incident is None:
        raise NotFound(f"No incident with id {incident_id}.")
    return incident
