"""Thanking members who helped (playbook step 5, second half): recording thank-yous, the message templates per
channel, dismissing a due thank-you with a reason, and removing one recorded in error. Every write is audited in
its own transaction; the due queue itself is a read (crm/thanks/queries.py)."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from crm import db, validation
from crm.audit.service import Actor, log_change
from crm.briefings.tables import Briefing
from crm.errors import Conflict, InvalidInput, NotFound
from crm.incidents.tables import Incident
from crm.members import queries as member_queries
from crm.thanks import queries
from crm.thanks.tables import ThanksDismissal, ThankYou, ThankYouTemplate
from crm.thanks.vocab import CHANNELS

PLACEHOLDERS = ("member_name", "incident_title")
NO_INCIDENT = "the past few days"  # what {incident_title} reads as when the thank-you is for no incident

DEFAULT_TEMPLATES = {
    "dm": "Hi {member_name}, thank you for standing with us during {incident_title}. Your replies helped people "
    "get the facts, and it meant a lot to the whole team.",
    "email": "Hi {member_name},\n\nThank you for helping during {incident_title}. You shared the right information "
    "at the moment people needed it, and the community listened.\n\nWith thanks from the whole team",
    "public_reply": "Thank you, {member_name}, for helping people get the facts during {incident_title}.",
    "phone": "Call {member_name}: thank them for their help during {incident_title}, ask how it felt, and what we "
    "could do better.",
    "in_person": "Thank {member_name} in person for their help during {incident_title}.",
    "gift": "Hi {member_name}, a small thank-you from all of us for your help during {incident_title}. "
    "It made a real difference.",
    "other": "Thank you, {member_name}, for your help during {incident_title}.",
}

MAX_MESSAGE = 5_000
MAX_GIFT = 200
MAX_TEMPLATE = 5_000
MAX_REASON = 500
MAX_GIFT_VALUE = Decimal("1000000")  # one million: a typo guard, and whole cents stay inside a 32-bit integer
PLACEHOLDER_RE = re.compile(r"\{(member_name|incident_title)\}")
ANY_PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


# ---- templates -----------------------------------------------------------------------------------


def render(body: str, *, member_name: str, incident_title: str | None) -> str:
    """Fill exactly the two placeholders in one pass, so a name that itself contains "{incident_title}" is never
    substituted again; user text never reaches str.format."""
    values = {"member_name": member_name, "incident_title": incident_title or NO_INCIDENT}
    return PLACEHOLDER_RE.sub(lambda m: values[m.group(1)], body)


async def templates() -> dict[str, dict[str, Any]]:
    """Every channel's template: the stored row, or the built-in default."""
    stored = {r["channel"]: r for r in await ThankYouTemplate.select().run()}
    out = {}
    for channel in CHANNELS:
        row = stored.get(channel)
        out[channel] = {
            "channel": channel,
            "body": row["body"] if row else DEFAULT_TEMPLATES[channel],
            "custom": row is not None,
            "updated_at": row["updated_at"] if row else None,
            "updated_by": row["updated_by"] if row else None,
        }
    return out


async def compose(channel: str, *, member_name: str, incident_title: str | None) -> str:
    body = (await templates()).get(channel, {}).get("body") or DEFAULT_TEMPLATES.get(channel, "")
    return render(body, member_name=member_name, incident_title=incident_title)


def _clean_template(channel: str, body: Any, errors: dict[str, str]) -> str:
    field = f"body_{channel}"
    if not isinstance(body, str):
        errors[field] = "Give the template as text."
        return ""
    body = validation.text(body, field, errors, max_length=MAX_TEMPLATE, required=True)
    if field not in errors:
        unknown = sorted({m.group(1) for m in ANY_PLACEHOLDER_RE.finditer(body)} - set(PLACEHOLDERS))
        if unknown:
            errors[field] = f"Unknown placeholder {{{unknown[0]}}}: use {{member_name}} or {{incident_title}}."
    return body


async def update_templates(*, bodies: dict[str, Any], actor: Actor, now: datetime) -> dict[str, dict[str, Any]]:
    """Save the templates sent (channel -> body); unchanged ones are left alone. One audit entry per change."""
    errors: dict[str, str] = {}
    for channel in bodies:
        if channel not in CHANNELS:
            errors[f"body_{channel}"] = f"Unknown channel: choose one of {', '.join(CHANNELS)}."
    cleaned = {c: _clean_template(c, b, errors) for c, b in bodies.items() if c in CHANNELS}
    if errors:
        raise InvalidInput(errors)
    async with db.transaction():
        before = await templates()
        for channel, body in cleaned.items():
            if body == before[channel]["body"]:
                continue
            values = {
                ThankYouTemplate.body: body,
                ThankYouTemplate.updated_by: actor.user_id,
                ThankYouTemplate.updated_at: now,
            }
            if before[channel]["custom"]:
                await ThankYouTemplate.update(values).where(ThankYouTemplate.channel == channel).run()
            else:
                await ThankYouTemplate.insert(
                    ThankYouTemplate(channel=channel, body=body, updated_by=actor.user_id, updated_at=now)
                ).run()
            await log_change(
                actor=actor,
                action="thanks.template.update",
                entity="thank_you_template",
                record_id=channel,
                before={"body": before[channel]["body"]},
                after={"body": body},
                at=now,
            )
    return await templates()


# ---- recording a thank-you -----------------------------------------------------------------------


def gift_cents(value: Any, errors: dict[str, str], field: str = "gift_value") -> int | None:
    """A money amount with at most two decimals as whole cents; "", None -> no value."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        errors[field] = "Give an amount, like 25 or 19.99."
        return None
    try:
        amount = Decimal(value.strip()) if isinstance(value, str) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors[field] = "Give an amount, like 25 or 19.99."
        return None
    if not amount.is_finite():
        errors[field] = "Give an amount, like 25 or 19.99."
    elif amount < 0:
        errors[field] = "An amount cannot be negative."
    elif amount > MAX_GIFT_VALUE:
        errors[field] = f"At most {MAX_GIFT_VALUE:,}."
    elif amount != amount.quantize(Decimal("0.01")):
        errors[field] = "Use at most two decimals (whole cents)."
    else:
        return int(amount * 100)
    return None


def _real_id(value: Any) -> bool:
    """An id that can exist: a positive whole number inside the integer columns (PostgreSQL refuses more)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


def clean(
    *,
    channel: str,
    message: str | None,
    gift: str | None,
    gift_value: Any,
    sent_at: datetime | None,
    now: datetime,
    errors: dict[str, str],
) -> dict[str, Any]:
    """The fields' own checks (no database): the cleaned values, and messages added to ``errors``."""
    validation.choice(channel, "channel", errors, CHANNELS)
    message = validation.text(message, "message", errors, max_length=MAX_MESSAGE)
    gift = validation.text(gift, "gift", errors, max_length=MAX_GIFT)
    cents = gift_cents(gift_value, errors)
    if cents is not None and not gift and "gift" not in errors:
        errors["gift"] = "Say what the gift is."
    sent_at = validation.aware(sent_at, "sent_at", errors)
    if sent_at is not None and sent_at > now:
        errors["sent_at"] = "A thank-you cannot be sent in the future: give the time it went out."
    return {"message": message, "gift": gift, "gift_value_cents": cents, "sent_at": sent_at}


async def record_thanks(
    *,
    member_id: int,
    channel: str,
    incident_id: int | None = None,
    briefing_id: int | None = None,
    message: str | None = None,
    gift: str | None = "",
    gift_value: Any = None,
    sent_at: datetime | None = None,
    actor: Actor,
    now: datetime,
) -> dict:
    """Record a thank-you sent to a member. An empty message starts from the channel's template. A briefing ties the
    thank-you to that briefing's incident (and must be the member's, and the incident's when one is given)."""
    errors: dict[str, str] = {}
    fields = clean(
        channel=channel, message=message, gift=gift, gift_value=gift_value, sent_at=sent_at, now=now, errors=errors
    )
    message, gift, cents, sent_at = fields["message"], fields["gift"], fields["gift_value_cents"], fields["sent_at"]
    if incident_id is not None and not _real_id(incident_id):
        errors["incident_id"] = f"No incident with id {incident_id}."
    if briefing_id is not None and not _real_id(briefing_id):
        errors["briefing_id"] = f"No briefing with id {briefing_id}."
    if errors:
        raise InvalidInput(errors)
    async with db.transaction():
        member = await member_queries.get_member(member_id) if _real_id(member_id) else None
        if member is None:
            raise NotFound(f"No member with id {member_id}.")
        if member["do_not_contact"]:
            raise Conflict(
                f"{member['name']} is marked do-not-contact: no thank-you goes to them.",
                fields={"member_id": "do_not_contact"},
            )
        if briefing_id is not None:
            briefing = (
                await Briefing.select(Briefing.member, Briefing.incident)
                .where(Briefing.id == briefing_id)
                .first()
                .run()
            )
            if briefing is None:
                raise InvalidInput({"briefing_id": f"No briefing with id {briefing_id}."})
            if briefing["member"] != member_id:
                raise InvalidInput({"briefing_id": f"Briefing {briefing_id} is not {member['name']}'s."})
            if incident_id is not None and briefing["incident"] != incident_id:
                raise InvalidInput({"briefing_id": f"Briefing {briefing_id} belongs to another incident."})
            incident_id = briefing["incident"]
        incident = None
        if incident_id is not None:
            incident = (
                await Incident.select(Incident.id, Incident.title).where(Incident.id == incident_id).first().run()
            )
            if incident is None:
                raise InvalidInput({"incident_id": f"No incident with id {incident_id}."})
        if not message:
            message = await compose(
                channel, member_name=member["name"], incident_title=incident["title"] if incident else None
            )
        row = ThankYou(
            member=member_id,
            incident=incident_id,
            briefing=briefing_id,
            channel=channel,
            message=message,
            gift=gift,
            gift_value_cents=cents,
            sent_by=actor.user_id,
            sent_at=sent_at or now,
            created_at=now,
        )
        await row.save().run()
        await log_change(
            actor=actor,
            action="thanks.create",
            entity="thank_you",
            record_id=row.id,
            after={
                "member": member_id,
                "incident": incident_id,
                "briefing": briefing_id,
                "channel": channel,
                "gift": gift,
                "gift_value_cents": cents,
                "sent_at": sent_at or now,
            },
            at=now,
        )
    return await get(row.id)


async def get(thank_you_id: int) -> dict:
    row = await queries.thank_you(thank_you_id) if _real_id(thank_you_id) else None
    if row is None:
        raise NotFound(f"No thank-you with id {thank_you_id}.")
    return row


async def delete_thanks(*, thank_you_id: int, actor: Actor, now: datetime) -> dict:
    """A thank-you recorded in error: kept for the record, hidden everywhere, and the help is due again."""
    async with db.transaction():
        row = await get(thank_you_id)
        await ThankYou.update({ThankYou.deleted_at: now}).where(ThankYou.id == thank_you_id).run()
        await log_change(
            actor=actor,
            action="thanks.delete",
            entity="thank_you",
            record_id=thank_you_id,
            before={
                "member": row["member"],
                "incident": row["incident"],
                "channel": row["channel"],
                "sent_at": row["sent_at"],
            },
            at=now,
        )
    return row


# ---- dismissing a due thank-you ------------------------------------------------------------------


async def dismiss(*, member_id: int, incident_id: int, reason: str, actor: Actor, now: datetime) -> dict:
    """Decide not to send a due thank-you, saying why. 404 for an unknown member or incident, 409 when nothing is
    due for the pair (never helped, already thanked, already dismissed, or do-not-contact)."""
    errors: dict[str, str] = {}
    reason = validation.text(reason, "reason", errors, max_length=MAX_REASON, required=True)
    if errors:
        raise InvalidInput(errors)
    async with db.transaction():
        if not _real_id(member_id) or not await member_queries.is_live(member_id):
            raise NotFound(f"No member with id {member_id}.")
        if not _real_id(incident_id) or not await Incident.exists().where(Incident.id == incident_id).run():
            raise NotFound(f"No incident with id {incident_id}.")
        due = await queries.due_items(now=now, member_id=member_id, incident_id=incident_id)
        if not due:
            raise Conflict(
                "No thank-you is due for this member and incident: they have not helped, were already "
                "thanked, or it was already dismissed.",
                fields={"member_id": "not_due"},
            )
        key = f"{incident_id}:{member_id}"
        row = ThanksDismissal(member=member_id, incident=incident_id, key=key, reason=reason, by=actor.user_id, at=now)
        try:
            await row.save().run()
        except Exception as exc:  # the same pair dismissed at the same moment by someone else
            if db.is_unique_violation(exc):
                raise Conflict("This thank-you was already dismissed.", fields={"member_id": "not_due"}) from None
            raise
        await log_change(
            actor=actor,
            action="thanks.dismiss",
            entity="thanks_dismissal",
            record_id=key,
            after={"member": member_id, "incident": incident_id, "reason": reason, "helped_at": due[0]["helped_at"]},
            at=now,
        )
    return {
        "member_id": member_id,
        "incident_id": incident_id,
        "reason": reason,
        "dismissed_at": now,
        "dismissed_by_id": actor.user_id,
    }
