"""Who is calling: the session cookie or a bearer token becomes ``scope["user"]``; the guards that
let a request through by sign-in and by role."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException

from crm.accounts import sessions, tokens
from crm.security import SESSION_COOKIE, bearer_token

if TYPE_CHECKING:
    from litestar.handlers.base import BaseRouteHandler
    from litestar.types import ASGIApp, Receive, Scope, Send

UNAUTHENTICATED_PREFIXES = ("/static/", "/healthz")


class AuthMiddleware:
    """Sets scope["user"] (CurrentUser or None) and scope["auth"] ("session"/"token"/None).

    Never refuses by itself: the app-wide guard below decides, so public pages
    still know who is looking."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope["user"], scope["auth"] = None, None
            if not scope["path"].startswith(UNAUTHENTICATED_PREFIXES):
                await self._authenticate(scope)
        await self.app(scope, receive, send)

    async def _authenticate(self, scope: Scope) -> None:
        connection = ASGIConnection(scope)
        now = connection.app.state.clock()
        token = bearer_token(connection.headers)
        if token is not None:
            scope["user"] = await tokens.user_for_token(token, now, method=scope["method"])
            scope["auth"] = "token" if scope["user"] else None
            return
        cookie = connection.cookies.get(SESSION_COOKIE)
        if cookie:
            scope["user"] = await sessions.current_user_for(cookie, now)
            scope["auth"] = "session" if scope["user"] else None


def login_required(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """App-wide guard: everything needs a signed-in user unless marked public."""
    if handler.opt.get("public"):
        return
    if connection.scope.get("user") is None:
        raise NotAuthorizedException("Sign in to continue.")


def requires(permission: str, what: str):
    """Guard factory: the user's role must grant ``permission``; ``what`` names the action for the message."""

    def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        user = connection.scope.get("user")
        if user is None:
            raise NotAuthorizedException("Sign in to continue.")
        if not user.can(permission):
            raise PermissionDeniedException(f"Your role ({user.role}) cannot {what}.")

    return guard
