"""Request-wide security: who is calling, CSRF, and the headers on every response."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.middleware.csrf import CSRFMiddleware

from crm.accounts import sessions, tokens

if TYPE_CHECKING:
    from litestar.handlers.base import BaseRouteHandler
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "crm_session"
CSRF_COOKIE = "crm_csrf"
CSRF_HEADER = "x-csrftoken"
UNAUTHENTICATED_PREFIXES = ("/static/", "/healthz")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'; frame-ancestors 'none'"
)


def bearer_token(headers) -> str | None:
    scheme, _, credentials = (headers.get("authorization") or "").partition(" ")
    return credentials.strip() or None if scheme.lower() == "bearer" else None


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
            scope["user"] = await tokens.user_for_token(token, now)
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


class BearerAwareCSRFMiddleware(CSRFMiddleware):
    """Litestar's double-submit CSRF check, skipped only for requests that carry a
    bearer token and no session cookie: those cannot be forged by another site."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            connection = ASGIConnection(scope)
            if bearer_token(connection.headers) and SESSION_COOKIE not in connection.cookies:
                await self.app(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def security_headers(production: bool):
    """A before_send hook: it sees every response, including 404s for unknown paths."""

    async def hook(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        headers["Content-Security-Policy"] = CSP
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "same-origin"
        headers["X-Frame-Options"] = "DENY"
        if not scope["path"].startswith("/static/") and "cache-control" not in headers:
            # Pages carry personal data and one-time secrets (new passwords, tokens): never keep them in caches.
            headers["Cache-Control"] = "no-store"
        if production:
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"

    return hook
