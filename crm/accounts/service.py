"""User accounts: create, change role, (de)activate, set passwords.

Every write runs in one transaction with its audit entry.
"""

from __future__ import annotations

import re
from datetime import datetime

from crm import db
from crm.accounts import passwords, queries
from crm.accounts.roles import Role
from crm.accounts.tables import AuthSession, User
from crm.audit.service import Actor, log_change
from crm.errors import Conflict, InvalidInput, NotFound

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")
PUBLIC_FIELDS = ("id", "email", "name", "role", "is_active")


def _public(row: dict) -> dict:
    return {k: row[k] for k in PUBLIC_FIELDS if k in row}


def _check_email(email: str, errors: dict[str, str]) -> str:
    email = queries.normalise_email(email)
    if not email:
        errors["email"] = "Enter an email address."
    elif len(email) > 254 or not EMAIL_RE.match(email) or "\x00" in email:
        errors["email"] = "Enter a valid email address, like name@example.com."
    return email


def _check_name(name: str, errors: dict[str, str]) -> str:
    name = " ".join(name.split())
    if not name:
        errors["name"] = "Enter a name."
    elif len(name) > 200:
        errors["name"] = "Use at most 200 characters."
    elif "\x00" in name:
        errors["name"] = "Contains a NUL character, which is not allowed."
    return name


def _check_role(role: str, errors: dict[str, str]) -> str:
    if role not in {r.value for r in Role}:
        errors["role"] = f"Choose one of: {', '.join(r.value for r in Role)}."
    return role


async def create_user(*, email: str, name: str, role: str, password: str, actor: Actor, now: datetime) -> dict:
    errors: dict[str, str] = {}
    email = _check_email(email, errors)
    name = _check_name(name, errors)
    role = _check_role(role, errors)
    problem = await passwords.problem(password, user_inputs=[email, name])
    if problem:
        errors["password"] = problem
    if errors:
        raise InvalidInput(errors)
    if await queries.user_by_email(email):
        raise Conflict("A user with this email already exists.", fields={"email": "Already in use."})
    password_hash = await passwords.hash_password(password)
    try:
        async with db.transaction():
            row = User(
                email=email,
                name=name,
                role=role,
                password_hash=password_hash,
                is_active=True,
                created_at=now,
                updated_at=now,
                password_changed_at=now,
            )
            await row.save().run()
            created = _public(row.to_dict())
            await log_change(actor=actor, action="user.create", entity="user", record_id=row.id, after=created, at=now)
    except Exception as exc:
        if db.is_unique_violation(exc):  # lost a race with another request
            raise Conflict("A user with this email already exists.", fields={"email": "Already in use."}) from exc
        raise
    return created


async def update_user(
    *,
    user_id: int,
    actor: Actor,
    now: datetime,
    name: str | None = None,
    role: str | None = None,
    is_active: bool | None = None,
) -> dict:
    errors: dict[str, str] = {}
    changes: dict = {}
    if name is not None:
        changes["name"] = _check_name(name, errors)
    if role is not None:
        changes["role"] = _check_role(role, errors)
    if is_active is not None:
        changes["is_active"] = is_active
    if errors:
        raise InvalidInput(errors)
    async with db.transaction():
        current = await queries.user_by_id(user_id)
        if current is None:
            raise NotFound("No such user.")
        before = _public(current)
        changes = {k: v for k, v in changes.items() if before.get(k) != v}
        if not changes:
            return before
        loses_admin = (
            before["role"] == Role.admin.value
            and before["is_active"]
            and (changes.get("role", Role.admin.value) != Role.admin.value or changes.get("is_active") is False)
        )
        if loses_admin and await queries.count_active_admins() <= 1:
            raise Conflict("At least one active admin must remain.", fields={"role": "This is the last active admin."})
        await User.update({**changes, User.updated_at: now}).where(User.id == user_id).run()
        if changes.get("is_active") is False:
            await AuthSession.delete().where(AuthSession.user == user_id).run()
        after = {**before, **changes}
        action = "user.deactivate" if changes.get("is_active") is False else "user.update"
        await log_change(
            actor=actor, action=action, entity="user", record_id=user_id, before=before, after=after, at=now
        )
    return after


async def set_password(*, user_id: int, password: str, actor: Actor, now: datetime) -> None:
    """Set a new password and end every session of that user."""
    current = await queries.user_by_id(user_id)
    if current is None:
        raise NotFound("No such user.")
    problem = await passwords.problem(password, user_inputs=[current["email"], current["name"]])
    if problem:
        raise InvalidInput({"password": problem})
    password_hash = await passwords.hash_password(password)
    async with db.transaction():
        await (
            User.update({User.password_hash: password_hash, User.password_changed_at: now, User.updated_at: now})
            .where(User.id == user_id)
            .run()
        )
        await AuthSession.delete().where(AuthSession.user == user_id).run()
        await log_change(actor=actor, action="user.password", entity="user", record_id=user_id, at=now)
