"""GDPR erasure: personal data and interaction text gone for good; anonymous counts kept;
salted hashes of the identifiers kept so the person is not re-created silently."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from crm import db
from crm.audit.service import Actor, log_change, scrub
from crm.errors import Conflict, NotFound
from crm.members import follow
from crm.members.tables import ErasedIdentity, Handle, Interaction, Member, MemberTopic
from crm.preferences.queries import kept_value
from crm.preferences.service import keep_value_once

SALT_KEY = "erasure_salt"


async def _salt() -> str:
    """Made at the first erasure and kept: the same identifier must always give the same digest."""
    return await keep_value_once(key=SALT_KEY, value=secrets.token_hex(32))


def digest(salt: str, identifier: str) -> str:
    return hashlib.sha256(f"{salt}:{identifier}".encode()).hexdigest()


async def is_erased(identifier: str) -> bool:
    """``identifier`` is a handle key ("x:jane") or "email:jane@example.com"."""
    salt = await kept_value(SALT_KEY)
    if salt is None:  # nobody was ever erased
        return False
    return await ErasedIdentity.exists().where(ErasedIdentity.digest == digest(salt, identifier)).run()


async def erase_member(*, member_id: int, actor: Actor, now: datetime) -> None:
    async with db.transaction():
        member = (
            await Member.select(Member.id, Member.email, Member.erased_at, Member.merged_into)
            .where(Member.id == member_id)
            .first()
            .run()
        )
        if member is None:
            raise NotFound(f"No member with id {member_id}.")
        if member["erased_at"] is not None:
            raise Conflict("This member has already been erased.")
        if member["merged_into"] is not None:
            raise Conflict(
                f"This member was merged into member {member['merged_into']}, which now holds their "
                "handles and interactions: erase that member (or undo the merge first)."
            )
        salt = await _salt()
        identifiers = [h["key"] for h in await Handle.select(Handle.key).where(Handle.member == member_id).run()]
        if member["email"]:
            identifiers.append(f"email:{member['email']}")
        for identifier in identifiers:
            hashed = digest(salt, identifier)
            if not await ErasedIdentity.exists().where(ErasedIdentity.digest == hashed).run():
                await ErasedIdentity.insert(ErasedIdentity(digest=hashed, erased_at=now)).run()
        await Handle.delete().where(Handle.member == member_id).run()
        await MemberTopic.delete().where(MemberTopic.member == member_id).run()
        await (
            Member.update(
                {
                    Member.name: f"Erased member {member_id}",
                    Member.email: None,
                    Member.location: "",
                    Member.language: "",
                    Member.time_zone: "",
                    Member.notes: "",
                    Member.owner: None,
                    Member.consent_private_briefing: False,
                    Member.consent_recorded_at: None,
                    Member.consent_recorded_by: None,
                    Member.do_not_contact: True,
                    Member.reach: 0,
                    Member.erased_at: now,
                    Member.updated_at: now,
                }
            )
            .where(Member.id == member_id)
            .run()
        )
        # Interactions stay (anonymous counts and the rollup); their content goes.
        await (
            Interaction.update(
                {
                    Interaction.text: "",
                    Interaction.url: None,
                    Interaction.external_id: None,
                    Interaction.external_key: None,
                }
            )
            .where(Interaction.member == member_id)
            .run()
        )
        await follow.erase(member_id)  # what later domains keep about them (crm/members/follow.py)
        # Earlier audit entries held this person's details, and so did the entries of their interactions (the
        # external ids erased above): keep that they happened, drop what they said.
        await scrub(entity="member", record_ids=[member_id])
        ids = [r["id"] for r in await Interaction.select(Interaction.id).where(Interaction.member == member_id).run()]
        await scrub(entity="interaction", record_ids=ids)
        await log_change(
            actor=actor,
            action="member.erase",
            entity="member",
            record_id=member_id,
            after={"identifiers_hashed": len(identifiers)},
            at=now,
        )
