"""The edge: domain errors and HTTP errors become HTML pages or JSON problems here."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from enum import Enum
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.response import Redirect, Template

from crm.errors import DomainError

log = logging.getLogger("crm")

FLASH_COOKIE = "crm_flash"
CSRF_FAILED = "CSRF token verification failed"


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def json_error(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> Response:
    return Response(
        {"error": {"code": code, "message": message, "fields": fields or {}}},
        status_code=status,
        media_type="application/json",
    )


def _sign(secret: str, value: bytes) -> str:
    return hmac.new(secret.encode(), value, hashlib.sha256).hexdigest()[:32]


def flash_cookie(request: Request, message: str) -> Cookie:
    value = base64.urlsafe_b64encode(message.encode()).decode()
    signature = _sign(request.app.state.settings.secret_key, value.encode())
    return Cookie(
        key=FLASH_COOKIE,
        value=f"{value}.{signature}",
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.production,
        max_age=60,
        path="/",
    )


def read_flash(request: Request) -> str | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw or "." not in raw:
        return None
    value, signature = raw.rsplit(".", 1)
    if not hmac.compare_digest(signature, _sign(request.app.state.settings.secret_key, value.encode())):
        return None
    try:
        return base64.urlsafe_b64decode(value.encode()).decode()
    except ValueError:
        return None


def page(request: Request, template_name: str, *, status_code: int = 200, **context: Any) -> Template:
    """Render a full page with what base.html needs (user, flash, settings)."""
    flash = read_flash(request)
    response = Template(
        template_name=template_name,
        context={
            "user": request.scope.get("user"),
            "flash": flash,
            "request": request,
            "freeze": getattr(request.state, "freeze", None),
            "thanks_due": getattr(request.state, "thanks_due", None),
            **context,
        },
        status_code=status_code,
    )
    if flash is not None:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(request: Request, path: str, *, flash: str | None = None) -> Redirect:
    cookies = [flash_cookie(request, flash)] if flash else None
    return Redirect(path=path, status_code=303, cookies=cookies)


def _error_page(request: Request, status: int, message: str) -> Response:
    titles = {
        400: "Bad request",
        401: "Sign in needed",
        403: "Not allowed",
        404: "Page not found",
        405: "Not allowed here",
        409: "Conflict",
        413: "Too large",
        422: "Check your input",
        429: "Too many attempts",
        500: "Something went wrong",
    }
    name = (
        "errors/404.html"
        if status == 404
        else "errors/403.html"
        if status == 403
        else ("errors/500.html" if status >= 500 else "errors/error.html")
    )
    return page(request, name, status_code=status, title=titles.get(status, "Error"), message=message)


def _validation_fields(exc: ValidationException) -> dict[str, str]:
    """Field name -> message. msgspec names the body itself ("data") for unknown
    or missing fields and puts the field's name in the message instead."""
    fields: dict[str, str] = {}
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if not isinstance(item, dict) or not item.get("key"):
            continue
        message = str(item.get("message", "Invalid value."))
        key = str(item["key"])
        named = re.search(r"field `([^`]+)`", message)
        if key == "data" and named:
            key = named.group(1)
        fields[key] = message
    return fields


def handle_domain_error(request: Request, exc: DomainError) -> Response:
    if wants_json(request):
        return json_error(exc.status_code, exc.code, exc.message, exc.fields)
    return _error_page(request, exc.status_code, exc.message)


def handle_http_exception(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    if isinstance(exc, NotAuthorizedException):
        if wants_json(request):
            return json_error(401, "unauthorized", "Authentication required: send Authorization: Bearer <token>.")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect(path="/login", query_params={"next": target}, status_code=303)
    message = exc.detail
    if status == 403 and message == CSRF_FAILED:
        message = "This form has expired or did not come from this site. Go back, reload the page and try again."
    if isinstance(exc, ValidationException):
        fields = _validation_fields(exc)
        if wants_json(request):
            if fields:
                return json_error(422, "invalid_input", "Some fields need attention.", fields)
            return json_error(400, "bad_request", _plain(message))
        return _error_page(request, 400, "The form could not be read. Go back and try again.")
    if wants_json(request):
        codes = {
            400: "bad_request",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            409: "conflict",
            413: "too_large",
            415: "unsupported_media_type",
            429: "too_many_requests",
        }
        return json_error(status, codes.get(status, "http_error"), _plain(message))
    return _error_page(request, status, _plain(message))


def _plain(message: str) -> str:
    return {"Request Entity Too Large": "The request body is too large."}.get(message, message)


def handle_internal_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if wants_json(request):
        return json_error(500, "internal_error", "Something went wrong on our side. It has been logged.")
    return _error_page(request, 500, "Something went wrong on our side. It has been logged.")


def handle_unstorable_value(request: Request, exc: Exception) -> Response:
    """PostgreSQL refuses some values SQLite accepts (a NUL character, an integer beyond 64 bits):
    that is bad input, not a server fault. The transaction has rolled back, so nothing was written."""
    message = "A value could not be stored: it is out of range or contains a NUL character."
    if wants_json(request):
        return json_error(400, "bad_request", message)
    return _error_page(request, 400, message)


EXCEPTION_HANDLERS = {
    asyncpg.exceptions.DataError: handle_unstorable_value,
    OverflowError: handle_unstorable_value,  # SQLite's answer to an integer beyond 64 bits, and date arithmetic
    DomainError: handle_domain_error,
    HTTPException: handle_http_exception,
    Exception: handle_internal_error,
}


def sent_fields(struct: msgspec.Struct) -> dict[str, Any]:
    """The fields a JSON body actually sent, as the plain values services take
    (UNSET dropped, enums as their values, nested structs as dicts)."""

    def plain(value: Any) -> Any:
        if isinstance(value, msgspec.Struct):
            return {k: plain(v) for k, v in msgspec.structs.asdict(value).items() if v is not msgspec.UNSET}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value.value if isinstance(value, Enum) else value

    return plain(struct)
