"""The edge: domain errors and HTTP errors become HTML pages or JSON problems here."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from collections.abc import Iterable
from enum import Enum
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.params import KwargDefinition
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


def _validation_fields(request: Request, exc: ValidationException) -> dict[str, str]:
    """Field name -> message. msgspec names the body itself ("data") for unknown
    or missing fields and puts the field's name in the message instead."""
    handler = request.scope.get("route_handler")
    data = getattr(handler, "parsed_data_field", None)
    body_type = data.annotation if data is not None else None
    fields: dict[str, str] = {}
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if not isinstance(item, dict) or not item.get("key"):
            continue
        key, message = _named_field(
            str(item["key"]),
            str(item.get("message", "Invalid value.")),
            body_type if item.get("source") == "body" else None,
        )
        fields[key] = message
    return fields


def _named_field(key: str, message: str, body_type: Any) -> tuple[str, str]:
    named = re.search(r"field `([^`]+)`", message)
    if key == "data" and named:
        key = named.group(1)
    # msgspec says only "Invalid enum value 'x'": name the allowed values, as the services' checks do.
    if (
        message.startswith("Invalid enum value")
        and body_type is not None
        and (values := _allowed_values(body_type, key))
    ):
        message = f"Choose one of: {', '.join(values)}."
    return key, message


def struct_fields(exc: msgspec.ValidationError, body_type: type[msgspec.Struct]) -> dict[str, str]:
    """One item of a body that did not fit ``body_type`` (decoded by hand, as a bulk request's items are): its field
    and message as a JSON body's refusal names them (the single-item endpoints answer with ``_validation_fields``)."""
    message = str(exc)
    at = re.search(r" - at `\$(?:\.(.+))?`$", message)
    key = (at.group(1) if at else None) or "data"
    message = message[: at.start()] if at else message
    key, message = _named_field(key, message, body_type)
    return {"item" if key == "data" else key: message}


def _allowed_values(body_type: Any, key: str) -> list[str] | None:
    """The values of the Literal or Enum body field at ``key`` ("severity", "handles[0].platform"), in their
    declared order, found in the handler's body type; None for any other field."""
    hint = body_type
    for name in re.sub(r"\[\d+\]", "", key).split("."):
        hint = _named_type(hint)
        if not (isinstance(hint, type) and issubclass(hint, msgspec.Struct)):
            return None
        hint = next((f.type for f in msgspec.structs.fields(hint) if f.encode_name == name), None)
    hint = _named_type(hint)
    if get_origin(hint) is Literal:
        return [str(v) for v in get_args(hint)]
    if isinstance(hint, type) and issubclass(hint, Enum):
        return [str(m.value) for m in hint]
    return None


def _named_type(hint: Any) -> Any:
    """Through Annotated constraints, lists and "or None"/"or unset" to the type that says what a value may be."""
    while True:
        origin = get_origin(hint)
        if origin is Annotated or origin is list:
            hint = get_args(hint)[0]
        elif origin is Union or origin is UnionType:
            kept = [a for a in get_args(hint) if a is not type(None) and a is not msgspec.UnsetType]
            if len(kept) != 1:
                return hint
            hint = kept[0]
        else:
            return hint


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
        fields = _validation_fields(request, exc)
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


def one_of(values: Iterable[str]) -> KwargDefinition:
    """For a text field that the service checks together with the other fields, so that one answer names every
    bad field: ``Annotated[str, one_of(VALUES)]`` lists the values in the OpenAPI document while any text still
    reaches the service. Fields that may be refused before the service use the vocabulary's Literal instead."""
    return KwargDefinition(schema_extra={"enum": list(values)})


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
