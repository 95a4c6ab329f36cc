"""JSON shapes for the accounts API."""

from __future__ import annotations

from msgspec import UNSET, Struct, UnsetType

from crm.accounts.roles import Role


class UserRead(Struct):
    id: int
    email: str
    name: str
    role: Role
    is_active: bool


class UserCreate(Struct, forbid_unknown_fields=True):
    email: str
    name: str
    role: Role
    password: str


class UserUpdate(Struct, forbid_unknown_fields=True):
    name: str | UnsetType = UNSET
    role: Role | UnsetType = UNSET
    is_active: bool | UnsetType = UNSET


def user_read(row: dict) -> UserRead:
    return UserRead(
        id=row["id"], email=row["email"], name=row["name"], role=Role(row["role"]), is_active=row["is_active"]
    )
