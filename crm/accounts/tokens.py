"""API tokens: shown once at creation, stored only as a SHA-256 hash."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from crm import db
from crm.accounts import queries
from crm.accounts.sessions import CurrentUser, hash_token
from crm.accounts.tables import ApiToken
from crm.audit.service import Actor, log_change
from crm.errors import Conflict, InvalidInput, NotFound

TOKEN_PREFIX = "crm_"
# Recording every use would make each API call a write; a minute's precision is enough.
LAST_USED_PRECISION = timedelta(minutes=1)
# Reads never write: a GET that wrote the last-used time could wait on (or, on SQLite, fail behind) another
# writer. Only calls with an unsafe method, which write anyway, record the use; "last used" is the last write.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def create_token(*, email: str, label: str, actor: Actor, now: datetime) -> tuple[dict, str]:
    label = " ".join(label.split())
    if len(label) > 100:
        raise InvalidInput({"label": "Use at most 100 characters."})
    user = await queries.user_by_email(email)
    if user is None:
        raise InvalidInput({"email": f"No user with email {queries.normalise_email(email)}."})
    if not user["is_active"]:
        raise Conflict("This user is deactivated.", fields={"email": "Deactivated user."})
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    prefix = token[: len(TOKEN_PREFIX) + 6]
    async with db.transaction():
        row = ApiToken(token_hash=hash_token(token), prefix=prefix, user=user["id"], label=label, created_at=now)
        await row.save().run()
        summary = {"id": row.id, "prefix": prefix, "label": label, "user": user["email"]}
        await log_change(
            actor=actor, action="token.create", entity="api_token", record_id=row.id, after=summary, at=now
        )
    return summary, token


async def revoke_token(*, token_id: int, actor: Actor, now: datetime) -> None:
    async with db.transaction():
        row = await queries.token_by_id(token_id)
        if row is None:
            raise NotFound(f"No API token with id {token_id}.")
        if row["revoked_at"] is not None:
            raise Conflict("This token is already revoked.")
        await ApiToken.update({ApiToken.revoked_at: now}).where(ApiToken.id == token_id).run()
        await log_change(
            actor=actor,
            action="token.revoke",
            entity="api_token",
            record_id=token_id,
            before={"revoked_at": None},
            after={"revoked_at": now},
            at=now,
        )


async def user_for_token(token: str, now: datetime, *, method: str) -> CurrentUser | None:
    """The token's user, or None. A call with an unsafe ``method`` records the token's last use (to the minute);
    a read only reads (READ_METHODS)."""
    row = await queries.token_with_user(hash_token(token))
    if row is None:
        return None
    stale = row["last_used_at"] is None or now - row["last_used_at"] >= LAST_USED_PRECISION
    if stale and method.upper() not in READ_METHODS:
        await ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == row["id"]).run()
    return CurrentUser(id=row["user_id"], email=row["email"], name=row["name"], role=row["role"])
