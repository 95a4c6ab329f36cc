"""Incident writes: record, workflow transitions, statements, corrective actions, linked
interactions, the promotion freeze and the post-incident review. One transaction each, audited."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from crm import db, validation
from crm.audit.service import Actor, log_change
from crm.errors import Conflict, InvalidInput, NotFound
from crm.incidents import conversation, queries
from crm.incidents.tables import CorrectiveAction, Incident, Statement
from crm.incidents.vocab import (
    ACTION_STATUSES,
    FREEZE_BY_DEFAULT,
    OPEN_STATUSES,
    SEVERITIES,
    STATEMENT_KINDS,
    TRANSITIONS,
)
from crm.members.service import clean_topics
from crm.members.tables import Interaction
from crm.members.vocab import PLATFORMS

CLOCK_SKEW = timedelta(minutes=5)


def _clean_list(
    values: list | None, field: str, errors: dict[str, str], *, options: list[str] | None = None, urls: bool = False
) -> list[str]:
    out: list[str] = []
    for n, value in enumerate(values or []):
        value = str(value).strip()
        if not value:
            continue
        if options is not None and value not in options:
            errors[field] = f"Choose from: {', '.join(options)}."
        if urls:
            validation.url(value, f"{field}[{n}]", errors)
        if value not in out:
            out.append(value)
    return out


def clean_incident(values: dict[str, Any], now: datetime, errors: dict[str, str], *, partial: bool) -> dict:
    out: dict[str, Any] = {}
    if "title" in values or not partial:
        out["title"] = validation.text(values.get("title"), "title", errors, max_length=200, required=True)
    if "summary" in values:
        out["summary"] = validation.text(values.get("summary"), "summary", errors, max_length=10_000)
    if "severity" in values or not partial:
        out["severity"] = validation.choice(values.get("severity"), "severity", errors, SEVERITIES)
    if "topics" in values:
        out["topics"] = clean_topics(values.get("topics"), errors)
    if "platforms" in values:
        out["platforms"] = _clean_list(values.get("platforms"), "platforms", errors, options=PLATFORMS)
    if "links" in values:
        out["links"] = _clean_list(values.get("links"), "links", errors, urls=True)
    if "detected_at" in values and values["detected_at"] is not None:
        at = validation.aware(values["detected_at"], "detected_at", errors)
        if at is not None and at > now + CLOCK_SKEW:
            errors["detected_at"] = "Detection cannot be in the future."
        out["detected_at"] = at
    if "owner" in values:
        out["owner"] = values["owner"]
    if "freeze_promotion" in values and values["freeze_promotion"] is not None:
        out["freeze_promotion"] = bool(values["freeze_promotion"])
    return out


async def create_incident(*, values: dict[str, Any], actor: Actor, now: datetime) -> dict:
    errors: dict[str, str] = {}
    cleaned = clean_incident(values, now, errors, partial=False)
    if errors:
        raise InvalidInput(errors)
    cleaned.setdefault("detected_at", now)
    cleaned.setdefault("freeze_promotion", cleaned["severity"] in FREEZE_BY_DEFAULT)
    cleaned.setdefault("owner", actor.user_id)
    async with db.transaction():
        row = Incident(**cleaned, status="detected", created_by=actor.user_id, created_at=now, updated_at=now)
        await row.save().run()
        await conversation.recount_incident(row.id)  # detected in the past: its platforms already speak
        after = await queries.snapshot(row.id)
        await log_change(
            actor=actor, action="incident.create", entity="incident", record_id=row.id, after=after, at=now
        )
    return after


async def update_incident(*, incident_id: int, values: dict[str, Any], actor: Actor, now: datetime) -> dict:
    errors: dict[str, str] = {}
    cleaned = clean_incident(values, now, errors, partial=True)
    review = {
        k: validation.text(values.get(k), k, errors, max_length=20_000)
        for k in ("review_what_happened", "review_what_changed", "review_lessons")
        if k in values
    }
    if errors:
        raise InvalidInput(errors)
    async with db.transaction():
        before = await locked(incident_id)
        if review and before["status"] not in ("resolved", "reviewed"):
            raise Conflict("The post-incident review opens once the incident is resolved.")
        changes = {**cleaned, **review}
        if changes:
            await Incident.update({**changes, "updated_at": now}).where(Incident.id == incident_id).run()
        after = await queries.snapshot(incident_id)
        if (after["platforms"], after["detected_at"]) != (before["platforms"], before["detected_at"]):
            await conversation.recount_incident(incident_id)  # a different conversation
        if after != before:
            await log_change(
                actor=actor,
                action="incident.update",
                entity="incident",
                record_id=incident_id,
                before=before,
                after=after,
                at=now,
            )
    return after


async def locked(incident_id: int) -> dict:
    """The incident, its row locked until the caller's transaction ends, so concurrent writes to one
    incident queue instead of deciding on the same stale state (PostgreSQL: SELECT ... FOR UPDATE;
    SQLite's BEGIN IMMEDIATE already serialises writers)."""
    query = Incident.select(Incident.id).where(Incident.id == incident_id)
    if not db.is_sqlite():
        query = query.lock_rows()
    if await query.first().run() is None:
        raise NotFound(f"No incident with id {incident_id}.")
    return await queries.snapshot(incident_id)


async def transition(*, incident_id: int, to: str, actor: Actor, now: datetime) -> dict:
    """Move along detected → acknowledged → responding → resolved → reviewed (resolved may reopen)."""
    async with db.transaction():
        before = await locked(incident_id)
        allowed = TRANSITIONS.get(before["status"], [])
        if to not in allowed:
            options = ", ".join(allowed) if allowed else "none (the incident is closed)"
            raise Conflict(
                f"An incident that is {before['status']} cannot move to {to!r}. Allowed next: {options}.",
                fields={"to": f"Allowed: {options}."},
            )
        stamp = {"status": to, "updated_at": now, f"{to}_at": now, f"{to}_by": actor.user_id}
        if before["status"] == "resolved" and to == "responding":  # reopened: no longer resolved
            stamp.update({"resolved_at": None, "resolved_by": None})
        await Incident.update(stamp).where(Incident.id == incident_id).run()
        after = await queries.snapshot(incident_id)
        await log_change(
            actor=actor,
            action=f"incident.{to}",
            entity="incident",
            record_id=incident_id,
            before={"status": before["status"]},
            after={"status": to},
            at=now,
        )
    return after


async def lift_freeze(*, incident_id: int, actor: Actor, now: datetime) -> dict:
    async with db.transaction():
        before = await locked(incident_id)
        if not before["freeze_promotion"]:
            raise Conflict("Promotion is not frozen for this incident.")
        await (
            Incident.update(
                {
                    Incident.freeze_promotion: False,
                    Incident.freeze_lifted_at: now,
                    Incident.freeze_lifted_by: actor.user_id,
                    Incident.updated_at: now,
                }
            )
            .where(Incident.id == incident_id)
            .run()
        )
        await log_change(
            actor=actor,
            action="incident.freeze_lift",
            entity="incident",
            record_id=incident_id,
            before={"freeze_promotion": True},
            after={"freeze_promotion": False},
            at=now,
        )
        return await queries.snapshot(incident_id)


# ---- statements and corrective actions -----------------------------------------------------------


async def add_statement(*, incident_id: int, values: dict[str, Any], actor: Actor, now: datetime) -> dict:
    errors: dict[str, str] = {}
    kind = validation.choice(values.get("kind"), "kind", errors, STATEMENT_KINDS)
    text = validation.text(values.get("text"), "text", errors, max_length=10_000, required=True)
    signed_by = validation.text(values.get("signed_by"), "signed_by", errors, max_length=200)
    if kind == "apology" and not signed_by:
        errors["signed_by"] = "An apology is signed by a named person."
    if errors:
        raise InvalidInput(errors)
    async with db.transaction():
        await locked(incident_id)
        row = Statement(
            incident=incident_id,
            kind=kind,
            text=text,
            signed_by=signed_by,
            author=actor.user_id,
            status="draft",
            created_at=now,
        )
        await row.save().run()
        await log_change(
            actor=actor,
            action="statement.create",
            entity="statement",
            record_id=row.id,
            after={"incident": incident_id, "kind": kind, "signed_by": signed_by},
            at=now,
        )
    return row.to_dict()


async def publish_statement(*, statement_id: int, actor: Actor, now: datetime) -> None:
    async with db.transaction():
        row = await Statement.select().where(Statement.id == statement_id).first().run()
        if row is None:
            raise NotFound(f"No statement with id {statement_id}.")
        if row["status"] == "published":
            raise Conflict("This statement is already published.")
        await (
            Statement.update({Statement.status: "published", Statement.published_at: now})
            .where(Statement.id == statement_id)
            .run()
        )
        await log_change(
            actor=actor,
            action="statement.publish",
            entity="statement",
            record_id=statement_id,
            before={"status": "draft"},
            after={"status": "published"},
            at=now,
        )


async def add_action(*, incident_id: int, values: dict[str, Any], actor: Actor, now: datetime) -> dict:
    errors: dict[str, str] = {}
    what = validation.text(values.get("what"), "what", errors, max_length=2_000, required=True)
    due_on = values.get("due_on")
    if due_on is not None and not isinstance(due_on, date):
        errors["due_on"] = "Give a date like 2026-03-31."
    if errors:
        raise InvalidInput(errors)
    async with db.transaction():
        await locked(incident_id)
        row = CorrectiveAction(
            incident=incident_id, what=what, owner=values.get("owner"), due_on=due_on, status="open", created_at=now
        )
        await row.save().run()
        await log_change(
            actor=actor,
            action="action.create",
            entity="corrective_action",
            record_id=row.id,
            after={"incident": incident_id, "what": what, "due_on": due_on},
            at=now,
        )
    return row.to_dict()


async def set_action_status(*, action_id: int, status: str, actor: Actor, now: datetime) -> None:
    errors: dict[str, str] = {}
    validation.choice(status, "status", errors, ACTION_STATUSES)
    if errors:
        raise InvalidInput(errors)
    async with db.transaction():
        row = await CorrectiveAction.select().where(CorrectiveAction.id == action_id).first().run()
        if row is None:
            raise NotFound(f"No corrective action with id {action_id}.")
        await (
            CorrectiveAction.update(
                {CorrectiveAction.status: status, CorrectiveAction.done_at: now if status == "done" else None}
            )
            .where(CorrectiveAction.id == action_id)
            .run()
        )
        await log_change(
            actor=actor,
            action="action.status",
            entity="corrective_action",
            record_id=action_id,
            before={"status": row["status"]},
            after={"status": status},
            at=now,
        )


# ---- linked interactions -------------------------------------------------------------------------

MAX_LINK = 1_000


async def link_interactions(*, incident_id: int, interaction_ids: list[int], actor: Actor, now: datetime) -> int:
    ids = sorted({i for i in interaction_ids if isinstance(i, int) and not isinstance(i, bool)})
    if not ids:
        raise InvalidInput({"interaction_ids": "Choose at least one interaction."})
    if len(ids) > MAX_LINK:
        raise InvalidInput({"interaction_ids": f"At most {MAX_LINK} at a time."})
    async with db.transaction():
        await locked(incident_id)
        rows = await (
            Interaction.select(Interaction.id, Interaction.incident_id, Interaction.member)
            .where(Interaction.id.is_in(ids))
            .run()
        )
        found = {r["id"]: r["incident_id"] for r in rows}
        missing = [i for i in ids if i not in found]
        if missing:
            raise InvalidInput({"interaction_ids": f"No interaction with id {', '.join(map(str, missing[:10]))}."})
        elsewhere = sorted(i for i, linked in found.items() if linked not in (None, incident_id))
        if elsewhere:
            raise Conflict(
                f"Already linked to another incident: {', '.join(map(str, elsewhere[:10]))}. Leave them out.",
                fields={"interaction_ids": "Some are linked to another incident."},
            )
        await Interaction.update({Interaction.incident_id: incident_id}).where(Interaction.id.is_in(ids)).run()
        await conversation.recount_incident(incident_id, [r["member"] for r in rows])
        await log_change(
            actor=actor,
            action="incident.link",
            entity="incident",
            record_id=incident_id,
            after={"interaction_ids": ids},
            at=now,
        )
    return len(ids)


def is_open(incident: dict) -> bool:
    return incident["status"] in OPEN_STATUSES
