"""Member writes: create, update, soft delete, consent. Each in one transaction with its audit entry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crm import db, validation
from crm.accounts.queries import user_by_id
from crm.audit.service import Actor, log_change
from crm.errors import Conflict, InvalidInput, NotFound
from crm.members import queries
from crm.members.tables import Handle, Member, MemberTopic
from crm.members.vocab import PLATFORMS, TIERS

MAX_TOPICS = 30
PROFILE_FIELDS = (
    "name",
    "email",
    "tier",
    "location",
    "language",
    "time_zone",
    "owner",
    "notes",
    "consent_private_briefing",
    "do_not_contact",
)


def handle_key(platform: str, handle: str) -> str:
    return f"{platform}:{handle.strip().lstrip('@').lower()}"


def clean_topics(topics: list[str] | None, errors: dict[str, str]) -> list[str]:
    cleaned: list[str] = []
    for topic in topics or []:
        tag = " ".join(str(topic).split()).lower()
        if not tag:
            continue
        if len(tag) > 50:
            errors["topics"] = "Each topic may have at most 50 characters."
        elif tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TOPICS:
        errors["topics"] = f"At most {MAX_TOPICS} topics."
    return cleaned


def clean_handles(handles: list[dict] | None, errors: dict[str, str]) -> list[dict]:
    cleaned, keys = [], set()
    for n, raw in enumerate(handles or []):
        field = f"handles[{n}]"
        platform = validation.choice(raw.get("platform"), f"{field}.platform", errors, PLATFORMS)
        name = validation.text(raw.get("handle"), f"{field}.handle", errors, max_length=200, required=True)
        followers = raw.get("followers")
        if followers is not None and (isinstance(followers, bool) or not isinstance(followers, int) or followers < 0):
            errors[f"{field}.followers"] = "Followers must be a whole number, 0 or more."
        link = validation.url(raw.get("url"), f"{field}.url", errors)
        key = handle_key(platform, name)
        if key in keys:
            errors[f"{field}.handle"] = "The same handle is listed twice."
        keys.add(key)
        cleaned.append(
            {"platform": platform, "handle": name.lstrip("@"), "key": key, "followers": followers, "url": link}
        )
    return cleaned


def clean_profile(values: dict[str, Any], errors: dict[str, str], *, partial: bool) -> dict[str, Any]:
    """Validate the plain profile fields present in ``values`` (all required ones unless partial)."""
    out: dict[str, Any] = {}
    if "name" in values or not partial:
        out["name"] = validation.text(values.get("name"), "name", errors, max_length=200, required=True)
    if "email" in values:
        out["email"] = validation.email(values.get("email"), "email", errors)
    if "tier" in values or not partial:
        out["tier"] = validation.choice(values.get("tier", "member"), "tier", errors, TIERS)
    for field, limit in (("location", 200), ("language", 35), ("time_zone", 64), ("notes", 10_000)):
        if field in values:
            out[field] = validation.text(values.get(field), field, errors, max_length=limit)
    if values.get("time_zone") and "time_zone" not in errors:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(values["time_zone"].strip())
        except (ZoneInfoNotFoundError, ValueError, OSError):
            errors["time_zone"] = "Unknown time zone; use a name like Europe/Paris."
    if "owner" in values:
        out["owner"] = values.get("owner")
    for flag in ("consent_private_briefing", "do_not_contact"):
        if flag in values:
            out[flag] = bool(values[flag])
    return out


async def _check_unique(*, email: str | None, handle_keys: list[str], member_id: int | None) -> None:
    if email:
        existing = await queries.member_id_by_email(email)
        if existing is not None and existing != member_id:
            raise Conflict(
                f"A member with this email already exists (member {existing}).",
                fields={"email": f"Already used by member {existing}."},
            )
    for key in handle_keys:
        existing = await queries.member_id_by_handle_key(key)
        if existing is not None and existing != member_id:
            raise Conflict(
                f"A member with the handle {key} already exists (member {existing}).",
                fields={"handles": f"{key} is already used by member {existing}."},
            )


async def _check_owner(owner: Any, errors: dict[str, str]) -> None:
    if owner is None:
        return
    if not isinstance(owner, int) or isinstance(owner, bool) or await user_by_id(owner) is None:
        errors["owner"] = "Choose an existing user."


async def _write_topics(member_id: int, topics: list[str]) -> None:
    await MemberTopic.delete().where(MemberTopic.member == member_id).run()
    if topics:
        await MemberTopic.insert(
            *[MemberTopic(member=member_id, topic=t, key=f"{member_id}:{t}") for t in topics]
        ).run()


async def _write_handles(member_id: int, handles: list[dict]) -> None:
    """Make the member's handles exactly ``handles``, keeping rows whose key is unchanged."""
    existing = {h["key"]: h for h in await Handle.select().where(Handle.member == member_id).run()}
    wanted = {h["key"]: h for h in handles}
    gone = [h["id"] for key, h in existing.items() if key not in wanted]
    if gone:
        await Handle.delete().where(Handle.id.is_in(gone)).run()
    for key, h in wanted.items():
        if key in existing:
            await (
                Handle.update({Handle.handle: h["handle"], Handle.followers: h["followers"], Handle.url: h["url"]})
                .where(Handle.id == existing[key]["id"])
                .run()
            )
        else:
            await Handle.insert(
                Handle(
                    member=member_id,
                    platform=h["platform"],
                    handle=h["handle"],
                    key=key,
                    followers=h["followers"],
                    url=h["url"],
                )
            ).run()
    await refresh_reach(member_id)


async def refresh_reach(member_id: int) -> None:
    rows = await Handle.select(Handle.followers).where(Handle.member == member_id).run()
    await Member.update({Member.reach: sum(r["followers"] or 0 for r in rows)}).where(Member.id == member_id).run()


async def create_member(*, values: dict[str, Any], actor: Actor, now: datetime) -> dict:
    """Create a member from ``values`` (profile fields plus ``topics`` and ``handles``)."""
    errors: dict[str, str] = {}
    profile = clean_profile(values, errors, partial=False)
    topics = clean_topics(values.get("topics"), errors)
    handles = clean_handles(values.get("handles"), errors)
    await _check_owner(profile.get("owner"), errors)
    if errors:
        raise InvalidInput(errors)
    try:
        async with db.transaction():
            await _check_unique(email=profile.get("email"), handle_keys=[h["key"] for h in handles], member_id=None)
            if profile.get("consent_private_briefing"):
                profile["consent_recorded_at"], profile["consent_recorded_by"] = now, actor.user_id
            member = Member(**profile, created_at=now, updated_at=now)
            await member.save().run()
            await _write_topics(member.id, topics)
            await _write_handles(member.id, handles)
            after = await queries.member_snapshot(member.id)
            await log_change(
                actor=actor, action="member.create", entity="member", record_id=member.id, after=after, at=now
            )
    except Exception as exc:
        if db.is_unique_violation(exc):
            raise Conflict("A member with this email or handle already exists.") from exc
        raise
    return after


async def update_member(*, member_id: int, values: dict[str, Any], actor: Actor, now: datetime) -> dict:
    """Change only the fields present in ``values``; ``topics``/``handles`` replace the whole list."""
    errors: dict[str, str] = {}
    profile = clean_profile(values, errors, partial=True)
    topics = clean_topics(values.get("topics"), errors) if "topics" in values else None
    handles = clean_handles(values.get("handles"), errors) if "handles" in values else None
    await _check_owner(profile.get("owner"), errors)
    if errors:
        raise InvalidInput(errors)
    try:
        async with db.transaction():
            before = await queries.member_snapshot(member_id)
            if before is None or await queries.get_member(member_id) is None:  # deleted, merged or erased
                raise NotFound(f"No member with id {member_id}.")
            await _check_unique(
                email=profile.get("email"), handle_keys=[h["key"] for h in handles or []], member_id=member_id
            )
            if (
                "consent_private_briefing" in profile
                and profile["consent_private_briefing"] != before["consent_private_briefing"]
            ):
                profile["consent_recorded_at"], profile["consent_recorded_by"] = now, actor.user_id
            if profile:
                await Member.update({**profile, "updated_at": now}).where(Member.id == member_id).run()
            if topics is not None:
                await _write_topics(member_id, topics)
            if handles is not None:
                await _write_handles(member_id, handles)
            after = await queries.member_snapshot(member_id)
            if after != before:
                await log_change(
                    actor=actor,
                    action="member.update",
                    entity="member",
                    record_id=member_id,
                    before=before,
                    after=after,
                    at=now,
                )
    except Exception as exc:
        if db.is_unique_violation(exc):
            raise Conflict("A member with this email or handle already exists.") from exc
        raise
    return after


async def delete_member(*, member_id: int, actor: Actor, now: datetime) -> None:
    """Soft delete: hidden from lists and lookups, kept (with its interactions) for the record."""
    async with db.transaction():
        before = await queries.member_snapshot(member_id)
        if before is None:
            raise NotFound(f"No member with id {member_id}.")
        await Member.update({Member.deleted_at: now, Member.updated_at: now}).where(Member.id == member_id).run()
        await log_change(
            actor=actor, action="member.delete", entity="member", record_id=member_id, before=before, at=now
        )
