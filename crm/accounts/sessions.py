"""Logging in and out: throttling, server-side sessions, password change.

The cookie carries a random token; the database keeps only its SHA-256, so a
leaked database does not hand out live sessions. An id the client made up is
never accepted: only tokens we issued and stored are found.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from crm import db
from crm.accounts import passwords, queries
from crm.accounts.roles import allowed
from crm.accounts.tables import AuthSession, LoginFailure, User
from crm.audit.service import Actor, log_change
from crm.errors import InvalidInput, Throttled

THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_IP = 20
LOGIN_REFUSED = "Email or password is incorrect."


@dataclass(frozen=True)
class CurrentUser:
    id: int
    email: str
    name: str
    role: str

    def can(self, permission: str) -> bool:
        return allowed(self.role, permission)

    def actor(self, ip: str | None = None) -> Actor:
        return Actor(user_id=self.id, label=self.email, ip=ip)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _throttled(email: str, ip: str | None, now: datetime) -> bool:
    since = now - THROTTLE_WINDOW
    if await queries.recent_failures(f"account:{email}", since) >= MAX_FAILURES_PER_ACCOUNT:
        return True
    return bool(ip) and await queries.recent_failures(f"ip:{ip}", since) >= MAX_FAILURES_PER_IP


async def _reserve_attempt(email: str, ip: str | None, actor: Actor, now: datetime) -> list[int]:
    """Count and reserve one password attempt for ``email`` (and ``ip``) in its own write transaction *before*
    the slow hash, so concurrent guesses cannot all pass the check: each one is already counted when the next
    one looks. Raises Throttled when over the limit; returns the reserved rows' ids (a success deletes them)."""
    async with db.transaction():
        if not db.is_sqlite():  # SQLite's BEGIN IMMEDIATE already serialises this
            await LoginFailure.raw("SELECT pg_advisory_xact_lock(hashtext({}))", f"login:{email}").run()
        if await _throttled(email, ip, now):
            throttled = True
            await log_change(actor=actor, action="login.throttled", entity="session", at=now)
        else:
            throttled = False
            await LoginFailure.delete().where(LoginFailure.at < now - THROTTLE_WINDOW).run()
            rows = [LoginFailure(key=f"account:{email}", at=now)] + (
                [LoginFailure(key=f"ip:{ip}", at=now)] if ip else []
            )
            reserved = [r["id"] for r in await LoginFailure.insert(*rows).returning(LoginFailure.id).run()]
    if throttled:
        raise Throttled(
            f"Too many failed sign-in attempts. Wait {int(THROTTLE_WINDOW.total_seconds() // 60)} minutes "
            "and try again."
        )
    return reserved


async def login(
    *, email: str, password: str, ip: str | None, user_agent: str | None, now: datetime, lifetime: timedelta
) -> tuple[CurrentUser, str]:
    """Check the credentials and open a new session; returns the user and the cookie token.

    Unknown email, wrong password and deactivated account all get the same
    answer (and take the same time), so the response never reveals which
    emails have accounts."""
    email = queries.normalise_email(email)[:254]
    actor = Actor(user_id=None, label=email, ip=ip)
    reserved = await _reserve_attempt(email, ip, actor, now)
    user = await queries.user_by_email(email)
    ok = await passwords.verify_password(user["password_hash"] if user else None, password)
    if not (ok and user and user["is_active"]):
        async with db.transaction():  # the reserved rows stay: they are this failure
            await log_change(
                actor=actor, action="login.failed", entity="session", record_id=user["id"] if user else None, at=now
            )
        raise InvalidInput({"password": LOGIN_REFUSED}, message=LOGIN_REFUSED)
    current = CurrentUser(id=user["id"], email=user["email"], name=user["name"], role=user["role"])
    async with db.transaction():
        # A success clears the account's failures and does not count against its IP.
        await (
            LoginFailure.delete()
            .where((LoginFailure.key == f"account:{email}") | LoginFailure.id.is_in(reserved))
            .run()
        )
        token = await _open_session(user_id=current.id, ip=ip, user_agent=user_agent, now=now, lifetime=lifetime)
        await log_change(
            actor=current.actor(ip), action="login.succeeded", entity="session", record_id=current.id, at=now
        )
    return current, token


async def _open_session(
    *, user_id: int, ip: str | None, user_agent: str | None, now: datetime, lifetime: timedelta
) -> str:
    token = secrets.token_urlsafe(32)
    await AuthSession.insert(
        AuthSession(
            token_hash=hash_token(token),
            user=user_id,
            created_at=now,
            expires_at=now + lifetime,
            ip=ip,
            user_agent=(user_agent or "")[:300] or None,
        )
    ).run()
    return token


async def current_user_for(token: str, now: datetime) -> CurrentUser | None:
    row = await queries.session_with_user(hash_token(token), now)
    if row is None:
        return None
    return CurrentUser(id=row["user_id"], email=row["email"], name=row["name"], role=row["role"])


async def logout(*, token: str, user: CurrentUser, ip: str | None, now: datetime) -> None:
    async with db.transaction():
        await AuthSession.delete().where(AuthSession.token_hash == hash_token(token)).run()
        await log_change(actor=user.actor(ip), action="logout", entity="session", record_id=user.id, at=now)


async def change_own_password(
    *,
    user: CurrentUser,
    current_password: str,
    new_password: str,
    ip: str | None,
    user_agent: str | None,
    now: datetime,
    lifetime: timedelta,
) -> str:
    """Change one's own password: ends every session, returns a fresh one for this browser."""
    # Guesses at the current password (say, from a stolen session) count like failed sign-ins.
    reserved = await _reserve_attempt(user.email, ip, user.actor(ip), now)
    row = await queries.user_by_id(user.id)
    if row is None or not await passwords.verify_password(row["password_hash"], current_password):
        raise InvalidInput({"current_password": "This is not your current password."})
    async with db.transaction():
        await LoginFailure.delete().where(LoginFailure.id.is_in(reserved)).run()
    problem = await passwords.problem(new_password, user_inputs=[user.email, user.name])
    if problem:
        raise InvalidInput({"new_password": problem})
    password_hash = await passwords.hash_password(new_password)
    async with db.transaction():
        await (
            User.update({User.password_hash: password_hash, User.password_changed_at: now, User.updated_at: now})
            .where(User.id == user.id)
            .run()
        )
        await AuthSession.delete().where(AuthSession.user == user.id).run()
        token = await _open_session(user_id=user.id, ip=ip, user_agent=user_agent, now=now, lifetime=lifetime)
        await log_change(actor=user.actor(ip), action="user.password", entity="user", record_id=user.id, at=now)
    return token
