"""Logging interactions: validated, idempotent on external_id, rolled up in the same transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from crm import db, validation
from crm.audit.service import Actor, log_change
from crm.errors import Conflict, InvalidInput, NotFound
from crm.members import engagement, erasure, links, queries
from crm.members.service import handle_key
from crm.members.tables import Handle, Interaction, Member
from crm.members.vocab import KINDS, PLATFORMS, SENTIMENTS

MAX_TEXT = 10_000
FUTURE_TOLERANCE = timedelta(days=1)


def clean(values: dict[str, Any], now: datetime, errors: dict[str, str]) -> dict[str, Any]:
    out = {
        "platform": validation.choice(values.get("platform"), "platform", errors, PLATFORMS),
        "kind": validation.choice(values.get("kind"), "kind", errors, KINDS),
        "sentiment": validation.choice(values.get("sentiment") or "unknown", "sentiment", errors, SENTIMENTS),
        "text": validation.text(values.get("text"), "text", errors, max_length=MAX_TEXT),
        "url": validation.url(values.get("url"), "url", errors),
        "external_id": validation.text(values.get("external_id"), "external_id", errors, max_length=200) or None,
        "incident_id": values.get("incident_id"),
        "troll": bool(values.get("troll", False)),
    }
    occurred_at = values.get("occurred_at")
    if occurred_at is None:
        errors["occurred_at"] = "Say when it happened."
    elif validation.aware(occurred_at, "occurred_at", errors) and occurred_at > now + FUTURE_TOLERANCE:
        errors["occurred_at"] = "This is more than a day in the future."
    out["occurred_at"] = occurred_at
    return out


async def _resolve_member(
    values: dict[str, Any], platform: str, actor: Actor, now: datetime, errors: dict[str, str]
) -> int | None:
    member_id = values.get("member_id")
    if member_id is not None:
        if not await queries.is_live(member_id):
            raise NotFound(f"No member with id {member_id}.")
        return member_id
    handle = (values.get("handle") or "").strip().lstrip("@")
    if not handle:
        errors["handle"] = "Give member_id, or platform and handle."
        return None
    if len(handle) > 200:
        errors["handle"] = "Use at most 200 characters."
        return None
    key = handle_key(platform, handle)
    existing = await queries.member_id_by_handle_key(key)
    if existing is not None:
        if not await queries.is_live(existing):
            raise Conflict(
                f"The handle {key} belongs to member {existing}, which was deleted or merged.",
                fields={"handle": f"Belongs to member {existing} (deleted or merged)."},
            )
        return existing
    if await erasure.is_erased(key):
        raise Conflict(
            "This person asked to be erased (GDPR); they are not re-created automatically.",
            fields={"handle": "Erased under GDPR."},
        )
    member = Member(name=handle, tier="member", created_at=now, updated_at=now)
    await member.save().run()
    await Handle.insert(Handle(member=member.id, platform=platform, handle=handle, key=key)).run()
    await log_change(
        actor=actor,
        action="member.create",
        entity="member",
        record_id=member.id,
        after={"name": handle, "handles": [{"platform": platform, "handle": handle}], "source": "interaction"},
        at=now,
    )
    return member.id


async def log_interaction(*, values: dict[str, Any], actor: Actor, now: datetime) -> tuple[dict, bool]:
    """Record one interaction. Returns (interaction, created); an external_id seen before on the
    same platform returns the existing interaction with created=False and changes nothing."""
    errors: dict[str, str] = {}
    if values.get("member_id") is not None and not values.get("platform"):
        values = {**values, "platform": await _usual_platform(values["member_id"])}
    cleaned = clean(values, now, errors)
    if values.get("member_id") is None and values.get("platform") is None:
        errors.setdefault("platform", "Give member_id, or platform and handle.")
    if cleaned["incident_id"] is not None and not await _incident_exists(cleaned["incident_id"]):
        errors["incident_id"] = f"No incident with id {cleaned['incident_id']}."
    if errors:
        raise InvalidInput(errors)
    external_key = f"{cleaned['platform']}:{cleaned['external_id']}" if cleaned["external_id"] else None
    if external_key and (existing := await _by_external_key(external_key)):
        return existing, False
    for attempt in (1, 2):
        try:
            async with db.transaction():
                member_id = await _resolve_member(values, cleaned["platform"], actor, now, errors)
                if errors:
                    raise InvalidInput(errors)
                row = Interaction(
                    member=member_id, external_key=external_key, logged_by=actor.user_id, created_at=now, **cleaned
                )
                await row.save().run()
                await engagement.apply_interaction(
                    member_id=member_id,
                    kind=cleaned["kind"],
                    sentiment=cleaned["sentiment"],
                    troll=cleaned["troll"],
                    at=cleaned["occurred_at"],
                )
                await links.interactions_added([row.id])  # the incidents' conversation counts
                created = await _by_id(row.id)
                await log_change(
                    actor=actor,
                    action="interaction.create",
                    entity="interaction",
                    record_id=row.id,
                    after={
                        k: created[k]
                        for k in ("member", "platform", "kind", "occurred_at", "sentiment", "external_id", "troll")
                    },
                    at=now,
                )
        except Exception as exc:
            if not db.is_unique_violation(exc):
                raise
            if external_key:  # the same external_id arrived twice at once
                existing = await _by_external_key(external_key)
                if existing:
                    return existing, False
            if attempt == 2:
                raise
            continue  # another request created the member for this new handle at the same moment: use it
        return created, True


async def set_troll(*, interaction_id: int, troll: bool, actor: Actor, now: datetime) -> dict:
    """Flag or unflag a troll: kept, never deleted, only left out of sentiment."""
    async with db.transaction():
        row = await _by_id(interaction_id)
        if row is None:
            raise NotFound(f"No interaction with id {interaction_id}.")
        if row["troll"] != troll:
            await Interaction.update({Interaction.troll: troll}).where(Interaction.id == interaction_id).run()
            await engagement.move_day_count(
                member_id=row["member"],
                at=row["occurred_at"],
                from_column="troll" if row["troll"] else row["sentiment"],
                to_column="troll" if troll else row["sentiment"],
            )
            await links.members_changed([row["member"]])  # trolls leave the incidents' conversations
            await log_change(
                actor=actor,
                action="interaction.troll",
                entity="interaction",
                record_id=interaction_id,
                before={"troll": row["troll"]},
                after={"troll": troll},
                at=now,
            )
        return await _by_id(interaction_id)


async def _usual_platform(member_id: int) -> str:
    """Logged by member id alone: the platform of their first handle, else "other"."""
    return (await queries.usual_platforms([member_id]))[member_id]


async def _incident_exists(incident_id: Any) -> bool:
    if not isinstance(incident_id, int) or isinstance(incident_id, bool):
        return False
    return await links.incident_exists(incident_id)  # the incidents domain's check (crm/members/links.py)


async def _by_id(interaction_id: int) -> dict | None:
    return await Interaction.select().where(Interaction.id == interaction_id).first().run()


async def _by_external_key(key: str) -> dict | None:
    return await Interaction.select().where(Interaction.external_key == key).first().run()
