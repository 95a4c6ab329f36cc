"""Versioned talking points: drafts, approval (one approved version at a time), differences."""

from __future__ import annotations

import difflib
import json
from datetime import datetime
from typing import Any

from crm import db, validation
from crm.audit.service import Actor, log_change
from crm.audit.tables import AuditEntry
from crm.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from crm.incidents import service
from crm.incidents.tables import TalkingPoints
from crm.preferences import queries as preferences

MAX_ITEMS = 50


def _items(values: Any, field: str, errors: dict[str, str], *, required: bool = False, urls: bool = False) -> list[str]:
    items = [" ".join(str(v).split()) for v in (values or []) if str(v).strip()]
    if required and not items:
        errors[field] = "Give at least one point."
    if len(items) > MAX_ITEMS:
        errors[field] = f"At most {MAX_ITEMS}."
    for n, item in enumerate(items):
        if len(item) > 2_000:
            errors[field] = "Each item may have at most 2,000 characters."
        if urls:
            validation.url(item, f"{field}[{n}]", errors)
    return items


def _clean(values: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, str] = {}
    out = {
        "points": _items(values.get("points"), "points", errors, required=True),
        "avoid": _items(values.get("avoid"), "avoid", errors),
        "links": _items(values.get("links"), "links", errors, urls=True),
    }
    if errors:
        raise InvalidInput(errors)
    return out


async def create_draft(*, incident_id: int, values: dict[str, Any], actor: Actor, now: datetime) -> dict:
    cleaned = _clean(values)
    async with db.transaction():
        await service.locked(incident_id)  # one writer per incident: versions and approvals stay consistent
        latest = (
            await TalkingPoints.select(TalkingPoints.version)
            .where(TalkingPoints.incident == incident_id)
            .order_by(TalkingPoints.version, ascending=False)
            .first()
            .run()
        )
        version = (latest["version"] if latest else 0) + 1
        row = TalkingPoints(
            incident=incident_id,
            version=version,
            key=f"{incident_id}:{version}",
            status="draft",
            author=actor.user_id,
            created_at=now,
            updated_at=now,
            **{k: json.dumps(v) for k, v in cleaned.items()},
        )
        await row.save().run()
        await log_change(
            actor=actor,
            action="talking_points.create",
            entity="talking_points",
            record_id=row.id,
            after={"incident": incident_id, "version": version, **cleaned},
            at=now,
        )
    return await get_version(incident_id, version)


async def get_version(incident_id: int, version: int) -> dict:
    row = (
        await TalkingPoints.select()
        .where((TalkingPoints.incident == incident_id) & (TalkingPoints.version == version))
        .output(load_json=True)
        .first()
        .run()
    )
    if row is None:
        raise NotFound(f"Incident {incident_id} has no talking points version {version}.")
    return row


async def update_draft(*, incident_id: int, version: int, values: dict[str, Any], actor: Actor, now: datetime) -> dict:
    cleaned = _clean(values)
    async with db.transaction():
        await service.locked(incident_id)  # not approved meanwhile
        current = await get_version(incident_id, version)
        if current["status"] != "draft":
            raise Conflict(
                f"Version {version} is {current['status']}; approved versions are never edited. "
                "Write a new version instead."
            )
        await (
            TalkingPoints.update({**{k: json.dumps(v) for k, v in cleaned.items()}, "updated_at": now})
            .where(TalkingPoints.id == current["id"])
            .run()
        )
        await log_change(
            actor=actor,
            action="talking_points.update",
            entity="talking_points",
            record_id=current["id"],
            before={k: current[k] for k in cleaned},
            after=cleaned,
            at=now,
        )
    return await get_version(incident_id, version)


async def approve(*, incident_id: int, version: int, actor: Actor, now: datetime) -> dict:
    """Make this draft the one approved version; the previous approved one becomes superseded."""
    async with db.transaction():
        await service.locked(incident_id)
        current = await get_version(incident_id, version)
        if current["status"] != "draft":
            raise Conflict(f"Version {version} is {current['status']}; only a draft can be approved.")
        if await preferences.get("two_person_approval") and await _wrote(current, actor):
            raise PermissionDenied(
                "Two-person approval is on: the author of a version, or anyone who edited "
                "it, cannot approve it; someone else must."
            )
        previous = (
            await TalkingPoints.select(TalkingPoints.id, TalkingPoints.version)
            .where((TalkingPoints.incident == incident_id) & (TalkingPoints.status == "approved"))
            .run()
        )
        if previous:
            await (
                TalkingPoints.update({TalkingPoints.status: "superseded", TalkingPoints.superseded_at: now})
                .where(TalkingPoints.id.is_in([p["id"] for p in previous]))
                .run()
            )
        await (
            TalkingPoints.update(
                {
                    TalkingPoints.status: "approved",
                    TalkingPoints.approved_by: actor.user_id,
                    TalkingPoints.approved_at: now,
                }
            )
            .where(TalkingPoints.id == current["id"])
            .run()
        )
        await log_change(
            actor=actor,
            action="talking_points.approve",
            entity="talking_points",
            record_id=current["id"],
            after={"incident": incident_id, "version": version, "superseded": [p["version"] for p in previous]},
            at=now,
        )
    return await get_version(incident_id, version)


async def _wrote(version: dict, actor: Actor) -> bool:
    """Did this user write the version or edit its draft? (Edits are known from the audit log.)"""
    if actor.user_id is None:  # system actors (the demo loader, the CLI) are nobody's second pair of eyes
        return False
    if version["author"] == actor.user_id:
        return True
    return (
        await AuditEntry.exists()
        .where(
            (AuditEntry.action == "talking_points.update")
            & (AuditEntry.record_id == str(version["id"]))
            & (AuditEntry.actor == actor.user_id)
        )
        .run()
    )


async def current(incident_id: int) -> dict | None:
    return (
        await TalkingPoints.select()
        .where((TalkingPoints.incident == incident_id) & (TalkingPoints.status == "approved"))
        .output(load_json=True)
        .first()
        .run()
    )


async def versions(incident_id: int) -> list[dict]:
    return (
        await TalkingPoints.select()
        .where(TalkingPoints.incident == incident_id)
        .order_by(TalkingPoints.version, ascending=False)
        .output(load_json=True)
        .run()
    )


def diff(old: dict, new: dict) -> dict[str, list[tuple[str, str]]]:
    """Per section, lines marked "+" (added), "-" (removed) or " " (kept)."""
    out: dict[str, list[tuple[str, str]]] = {}
    for section in ("points", "avoid", "links"):
        lines = []
        for line in difflib.ndiff(old[section], new[section]):
            if line[:1] in ("+", "-", " "):
                lines.append((line[:1], line[2:]))
        out[section] = lines
    return out
