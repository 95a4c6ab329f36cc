"""Reads for accounts: users, sessions, tokens, login failures."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from crm.accounts.roles import Role
from crm.accounts.tables import ApiToken, AuthSession, LoginFailure, User


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def user_by_email(email: str) -> dict | None:
    return await User.select().where(User.email == normalise_email(email)).first().run()


async def user_by_id(user_id: int) -> dict | None:
    return await User.select().where(User.id == user_id).first().run()


async def list_users() -> list[dict]:
    return await User.select(User.all_columns(exclude=[User.password_hash])).order_by(User.email).run()


async def user_names(ids: Iterable[int | None] | None = None) -> dict[int, str]:
    """User id -> name: every user's, or only those of ``ids`` (None and unknown ids left out)."""
    query = User.select(User.id, User.name)
    if ids is not None:
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return {}
        query = query.where(User.id.is_in(list(wanted)))
    return {row["id"]: row["name"] for row in await query.run()}


async def count_active_admins() -> int:
    return await User.count().where((User.role == Role.admin.value) & (User.is_active == True)).run()  # noqa: E712


async def count_users() -> int:
    return await User.count().run()


async def session_with_user(token_hash: str, now: datetime) -> dict | None:
    """The live session for this token hash, joined with its (active) user."""
    return await (
        AuthSession.select(
            AuthSession.id,
            AuthSession.expires_at,
            AuthSession.user.id.as_alias("user_id"),
            AuthSession.user.email.as_alias("email"),
            AuthSession.user.name.as_alias("name"),
            AuthSession.user.role.as_alias("role"),
        )
        .where(
            (AuthSession.token_hash == token_hash)
            & (AuthSession.expires_at > now)
            & (AuthSession.user.is_active == True)  # noqa: E712
        )
        .first()
        .run()
    )


# Raw: run on every API call, where building Piccolo's joined select cost more than running it (~a third of a
# logged interaction's time). Booleans are bound, so the statement serves both engines.
TOKEN_WITH_USER_SQL = (
    "SELECT t.id, t.last_used_at, u.id AS user_id, u.email, u.name, u.role "
    'FROM api_token t JOIN crm_user u ON u.id = t."user" '
    "WHERE t.token_hash = {} AND t.revoked_at IS NULL AND u.is_active = {} LIMIT 1"
)


async def token_with_user(token_hash: str) -> dict | None:
    rows = await ApiToken.raw(TOKEN_WITH_USER_SQL, token_hash, True).run()
    return rows[0] if rows else None


async def list_tokens() -> list[dict]:
    return await (
        ApiToken.select(
            ApiToken.id,
            ApiToken.prefix,
            ApiToken.label,
            ApiToken.created_at,
            ApiToken.last_used_at,
            ApiToken.revoked_at,
            ApiToken.user.id.as_alias("user_id"),
            ApiToken.user.email.as_alias("email"),
        )
        .order_by(ApiToken.created_at, ascending=False)
        .run()
    )


async def token_by_id(token_id: int) -> dict | None:
    return await ApiToken.select().where(ApiToken.id == token_id).first().run()


async def recent_failures(key: str, since: datetime) -> int:
    return await LoginFailure.count().where((LoginFailure.key == key) & (LoginFailure.at > since)).run()


async def user_choices(chosen: object = None) -> list[dict]:
    """The users a form offers: the active ones, and the one already chosen (``chosen``: its id, or the id as the
    form sent it) even when deactivated since, so showing the form again never drops the choice."""
    return [u for u in await list_users() if u["is_active"] or str(u["id"]) == str(chosen)]
