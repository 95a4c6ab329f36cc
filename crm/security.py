"""Request-wide security below the domains: the cookie names, CSRF, and the headers on every response.
Who is calling (sessions, tokens, roles) is decided in crm/accounts/auth.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.middleware.csrf import CSRFMiddleware

if TYPE_CHECKING:
    from litestar.types import Message, Receive, Scope, Send

SESSION_COOKIE = "crm_session"
CSRF_COOKIE = "crm_csrf"
CSRF_HEADER = "x-csrftoken"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'; frame-ancestors 'none'"
)


def bearer_token(headers) -> str | None:
    scheme, _, credentials = (headers.get("authorization") or "").partition(" ")
    return credentials.strip() or None if scheme.lower() == "bearer" else None


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
