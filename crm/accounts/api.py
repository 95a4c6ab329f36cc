"""JSON API for accounts: who am I, and (admins) users."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, Request, get, patch, post
from litestar.params import FromPath, JSONBody
from msgspec import UNSET

from crm.accounts import queries, service
from crm.accounts.auth import requires
from crm.accounts.schemas import UserCreate, UserRead, UserUpdate, user_read
from crm.audit.service import Actor
from crm.errors import NotFound


class AccountsAPI(Controller):
    path = "/api/v1"
    tags = ["accounts"]

    @get("/me", summary="The user behind this token or session")
    async def me(self, request: Request) -> UserRead:
        row = await queries.user_by_id(request.user.id)
        if row is None:
            raise NotFound("No such user.")
        return user_read(row)

    @get("/users", guards=[requires("users.manage", "manage users")], summary="List users (admin)")
    async def list_users(self) -> list[UserRead]:
        return [user_read(row) for row in await queries.list_users()]

    @post("/users", guards=[requires("users.manage", "manage users")], summary="Add a user (admin)")
    async def create_user(self, request: Request, now: datetime, actor: Actor, data: JSONBody[UserCreate]) -> UserRead:
        created = await service.create_user(
            email=data.email,
            name=data.name,
            role=data.role.value,
            password=data.password,
            actor=actor,
            now=now,
        )
        return user_read(created)

    @patch(
        "/users/{user_id:int}",
        guards=[requires("users.manage", "manage users")],
        summary="Change a user's name, role or active flag (admin)",
    )
    async def update_user(
        self, request: Request, now: datetime, actor: Actor, user_id: FromPath[int], data: JSONBody[UserUpdate]
    ) -> UserRead:
        updated = await service.update_user(
            user_id=user_id,
            actor=actor,
            now=now,
            name=None if data.name is UNSET else data.name,
            role=None if data.role is UNSET else data.role.value,
            is_active=None if data.is_active is UNSET else data.is_active,
        )
        return user_read(updated)
