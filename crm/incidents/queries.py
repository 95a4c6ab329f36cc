"""Incident reads: one incident, lists, the response clock, linked-interaction counts, the freeze."""

from __future__ import annotations

from datetime import datetime, timedelta

from msgspec import Struct

from crm import db
from crm.errors import NotFound
from crm.incidents.tables import CorrectiveAction, Incident, Statement
from crm.incidents.vocab import FREEZING_STATUSES, OPEN_STATUSES
from crm.members.tables import Interaction
from crm.preferences import queries as preferences


async def exists(incident_id: int) -> bool:
    """Members ask this when an interaction names an incident (registered by crm/wiring.py)."""
    return await Incident.exists().where(Incident.id == incident_id).run()


async def snapshot(incident_id: int) -> dict | None:
    return await Incident.select().where(Incident.id == incident_id).output(load_json=True).first().run()


async def list_incidents(
    *, status: str = "", severity: str = "", open_: bool | None = None, limit: int = 200
) -> list[dict]:
    query = Incident.select().order_by(Incident.detected_at, ascending=False).limit(limit).output(load_json=True)
    if status:
        query = query.where(Incident.status == status)
    if severity:
        query = query.where(Incident.severity == severity)
    if open_ is True:
        query = query.where(Incident.status.is_in(OPEN_STATUSES))
    elif open_ is False:
        query = query.where(Incident.status.not_in(OPEN_STATUSES))
    return await query.run()


async def statements(incident_id: int) -> list[dict]:
    return await Statement.select().where(Statement.incident == incident_id).order_by(Statement.created_at).run()


async def actions(incident_id: int) -> list[dict]:
    return (
        await CorrectiveAction.select()
        .where(CorrectiveAction.incident == incident_id)
        .order_by(CorrectiveAction.created_at)
        .run()
    )


class Clock(Struct):
    """The response clock, as pages show it and the API returns it (schemas.ClockRead is this)."""

    detected_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    seconds_since_detection: int
    seconds_to_acknowledge: int | None
    seconds_to_resolve: int | None
    ack_target_seconds: int
    ack_target_missed: bool


async def clock(incident: dict, now: datetime) -> Clock:
    target = int(await preferences.get(f"ack_target_minutes.{incident['severity']}")) * 60
    detected, acked, resolved = incident["detected_at"], incident["acknowledged_at"], incident["resolved_at"]

    def seconds(a: datetime, b: datetime | None) -> int | None:
        return None if b is None else int((b - a).total_seconds())

    waited = seconds(detected, acked) if acked else seconds(detected, now)
    return Clock(
        detected_at=detected,
        acknowledged_at=acked,
        resolved_at=resolved,
        seconds_since_detection=int((now - detected).total_seconds()),
        seconds_to_acknowledge=seconds(detected, acked),
        seconds_to_resolve=seconds(detected, resolved),
        ack_target_seconds=target,
        ack_target_missed=waited > target,
    )


async def sentiment_counts(incident: dict) -> dict[str, int]:
    """Linked interactions since detection, by sentiment; trolls counted apart, never hidden."""
    rows = (
        await Interaction.select(Interaction.sentiment, Interaction.troll)
        .where((Interaction.incident_id == incident["id"]) & (Interaction.occurred_at >= incident["detected_at"]))
        .run()
    )
    counts = {"positive": 0, "neutral": 0, "negative": 0, "unknown": 0, "troll": 0}
    for row in rows:
        counts["troll" if row["troll"] else row["sentiment"]] += 1
    return counts


async def freezing_incidents() -> list[dict]:
    rows = (
        await Incident.select(Incident.id, Incident.title, Incident.severity, Incident.status)
        .where(
            Incident.status.is_in(FREEZING_STATUSES) & (Incident.freeze_promotion == True)  # noqa: E712
        )
        .order_by(Incident.detected_at)
        .run()
    )
    return rows


async def find_interactions(
    *, platforms: list[str], since: datetime, until: datetime, text: str = "", limit: int = 200
) -> list[dict]:
    query = Interaction.select(
        Interaction.id,
        Interaction.platform,
        Interaction.kind,
        Interaction.occurred_at,
        Interaction.sentiment,
        Interaction.text,
        Interaction.troll,
        Interaction.incident_id,
        Interaction.member.name.as_alias("member_name"),
        Interaction.member.id.as_alias("member_id"),
    ).where((Interaction.occurred_at >= since) & (Interaction.occurred_at <= until))
    if platforms:
        query = query.where(Interaction.platform.is_in(platforms))
    if text:
        query = query.where(db.icontains(Interaction.text, text))
    return await query.order_by(Interaction.occurred_at, ascending=False).limit(limit).run()


def window(incident: dict, now: datetime) -> tuple[datetime, datetime]:
    """The default search window for interactions about an incident: a day before detection until now."""
    return incident["detected_at"] - timedelta(days=1), now


async def incident_or_404(incident_id: int) -> dict:
    """The incident as snapshot() returns it; NotFound when there is none."""
    incident = await snapshot(incident_id)
    if incident is None:
        raise NotFound(f"No incident with id {incident_id}.")
    return incident
