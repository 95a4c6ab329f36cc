"""HTML pages for signing in and out, one's own account, and the admin's users and tokens."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from crm.accounts import queries, service, sessions, tokens
from crm.accounts.auth import requires
from crm.accounts.roles import DESCRIPTIONS, Role
from crm.audit.service import Actor
from crm.errors import Conflict, InvalidInput, NotFound, Throttled
from crm.forms import client_ip, read_form, safe_next, session_cookie
from crm.security import SESSION_COOKIE
from crm.web import page, redirect

ADMIN_USERS = requires("users.manage", "manage users")
ADMIN_TOKENS = requires("tokens.manage", "manage API tokens")


class LoginController(Controller):
    include_in_schema = False

    @get("/login", opt={"public": True})
    async def login_form(
        self, request: Request, next_: Annotated[str | None, QueryParameter(name="next")] = None
    ) -> Template | Redirect:
        if request.scope.get("user"):
            return Redirect(path=safe_next(next_), status_code=303)
        return page(request, "accounts/login.html", next=safe_next(next_), errors={}, email="")

    @post("/login", opt={"public": True})
    async def login(self, request: Request, now: datetime) -> Template | Redirect:
        form = await read_form(request)
        target = safe_next(form.get("next"))
        try:
            _, token = await sessions.login(
                email=form.get("email", ""),
                password=form.get("password", ""),
                ip=client_ip(request),
                user_agent=request.headers.get("user-agent"),
                now=now,
                lifetime=request.app.state.settings.session_lifetime,
            )
        except (InvalidInput, Throttled) as exc:
            return page(
                request,
                "accounts/login.html",
                status_code=exc.status_code,
                next=target,
                errors={"form": exc.message},
                email=form.get("email", ""),
            )
        response = Redirect(path=target, status_code=303)
        response.set_cookie(session_cookie(request, token))
        return response

    @post("/logout")
    async def logout(self, request: Request, now: datetime) -> Redirect:
        token = request.cookies.get(SESSION_COOKIE)
        if token and request.scope.get("auth") == "session":
            await sessions.logout(token=token, user=request.user, ip=client_ip(request), now=now)
        response = redirect(request, "/login", flash="You are signed out.")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response


class AccountController(Controller):
    path = "/account"
    include_in_schema = False

    @get("/")
    async def show(self, request: Request) -> Template:
        return page(request, "accounts/account.html", errors={}, role_description=DESCRIPTIONS[Role(request.user.role)])

    @post("/password")
    async def change_password(self, request: Request, now: datetime) -> Template | Redirect:
        form = await read_form(request)
        errors = {}
        if form.get("new_password", "") != form.get("confirm_password", ""):
            errors["confirm_password"] = "The two new passwords do not match."
        else:
            try:
                token = await sessions.change_own_password(
                    user=request.user,
                    current_password=form.get("current_password", ""),
                    new_password=form.get("new_password", ""),
                    ip=client_ip(request),
                    user_agent=request.headers.get("user-agent"),
                    now=now,
                    lifetime=request.app.state.settings.session_lifetime,
                )
            except InvalidInput as exc:
                errors = exc.fields
            else:
                response = redirect(
                    request, "/account", flash="Password changed. Your other sessions have been signed out."
                )
                response.set_cookie(session_cookie(request, token))
                return response
        return page(
            request,
            "accounts/account.html",
            status_code=422,
            errors=errors,
            role_description=DESCRIPTIONS[Role(request.user.role)],
        )


class AdminUsersController(Controller):
    path = "/admin/users"
    guards = [ADMIN_USERS]
    include_in_schema = False

    @get("/")
    async def index(self, request: Request) -> Template:
        return page(request, "admin/users.html", users=await queries.list_users())

    @get("/new")
    async def new(self, request: Request) -> Template:
        return page(request, "admin/user_new.html", roles=list(Role), values={"role": "agent"}, errors={})

    @post("/")
    async def create(self, request: Request, now: datetime, actor: Actor) -> Template:
        form = await read_form(request)
        password = form.get("password") or _generated_password()
        try:
            created = await service.create_user(
                email=form.get("email", ""),
                name=form.get("name", ""),
                role=form.get("role", ""),
                password=password,
                actor=actor,
                now=now,
            )
        except (InvalidInput, Conflict) as exc:
            return page(
                request,
                "admin/user_new.html",
                status_code=exc.status_code,
                roles=list(Role),
                values=form,
                errors=exc.fields,
            )
        return page(
            request, "admin/user_created.html", created=created, password=password if not form.get("password") else None
        )

    @get("/{user_id:int}")
    async def edit(self, request: Request, user_id: FromPath[int]) -> Template:
        target = await queries.user_by_id(user_id)
        if target is None:
            raise NotFound("No such user.")
        return page(request, "admin/user_edit.html", target=target, roles=list(Role), errors={})

    @post("/{user_id:int}")
    async def update(
        self, request: Request, now: datetime, actor: Actor, user_id: FromPath[int]
    ) -> Template | Redirect:
        form = await read_form(request)
        try:
            if form.get("action") == "reset_password":
                password = _generated_password()
                await service.set_password(user_id=user_id, password=password, actor=actor, now=now)
                target = await queries.user_by_id(user_id)
                return page(request, "admin/user_created.html", created=target, password=password, reset=True)
            await service.update_user(
                user_id=user_id,
                actor=actor,
                now=now,
                name=form.get("name"),
                role=form.get("role"),
                is_active={"activate": True, "deactivate": False}.get(form.get("action", "")),
            )
        except (InvalidInput, Conflict) as exc:
            target = await queries.user_by_id(user_id)
            return page(
                request,
                "admin/user_edit.html",
                status_code=exc.status_code,
                target=target,
                roles=list(Role),
                errors={**exc.fields, "form": exc.message},
            )
        return redirect(request, f"/admin/users/{user_id}", flash="Saved.")


class AdminTokensController(Controller):
    path = "/admin/tokens"
    guards = [ADMIN_TOKENS]
    include_in_schema = False

    @get("/")
    async def index(self, request: Request) -> Template:
        return page(
            request,
            "admin/tokens.html",
            tokens=await queries.list_tokens(),
            users=await queries.list_users(),
            errors={},
            values={},
        )

    @post("/")
    async def create(self, request: Request, now: datetime, actor: Actor) -> Template:
        form = await read_form(request)
        try:
            summary, token = await tokens.create_token(
                email=form.get("email", ""),
                label=form.get("label", ""),
                actor=actor,
                now=now,
            )
        except (InvalidInput, Conflict) as exc:
            return page(
                request,
                "admin/tokens.html",
                status_code=exc.status_code,
                tokens=await queries.list_tokens(),
                users=await queries.list_users(),
                errors=exc.fields,
                values=form,
            )
        return page(request, "admin/token_created.html", summary=summary, token=token)

    @post("/{token_id:int}/revoke")
    async def revoke(self, request: Request, now: datetime, actor: Actor, token_id: FromPath[int]) -> Redirect:
        await tokens.revoke_token(token_id=token_id, actor=actor, now=now)
        return redirect(request, "/admin/tokens", flash="Token revoked.")


def _generated_password() -> str:
    return secrets.token_urlsafe(15)
