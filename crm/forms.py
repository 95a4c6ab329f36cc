"""Small helpers for reading HTML forms in controllers."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from litestar import Request
from litestar.datastructures import Cookie

from crm.security import SESSION_COOKIE


async def read_form(request: Request) -> dict[str, str]:
    """The submitted form as plain strings (missing fields are simply absent)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def is_id(text: str) -> bool:
    """A whole number that fits the database's integer columns. Plain str.isdigit() accepts "²",
    which int() refuses, and unbounded digits overflow SQLite and PostgreSQL alike."""
    return bool(re.fullmatch(r"[0-9]{1,9}", text))


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a freshly signed-in user off-site. Browsers drop tabs and newlines
    from URLs (so "/<tab>/evil.example" becomes "//evil.example") and read a backslash as "/", so any control
    character, whitespace or backslash refuses the whole target."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target)
    ):
        return "/"
    return target


def session_cookie(request: Request, token: str) -> Cookie:
    settings = request.app.state.settings
    return Cookie(
        key=SESSION_COOKIE,
        value=token,
        httponly=True,
        samesite="lax",
        secure=settings.production,
        max_age=int(settings.session_lifetime.total_seconds()),
        path="/",
    )


def local_input(at: datetime, zone: ZoneInfo) -> str:
    """A time as a datetime-local field's value, in the CRM's zone."""
    return at.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def parse_local(raw: str | None, zone: ZoneInfo, field: str, errors: dict[str, str]) -> datetime | None:
    """A datetime-local field read in the CRM's zone, as an aware UTC time; blank is None (the caller decides
    what blank means), unreadable or out-of-range values add a message to ``errors[field]``."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        errors[field] = "Enter a date and time, like 2026-03-01 14:00."
        return None
    if not 1990 <= at.year <= 9998:
        errors[field] = "Give a date between 1990 and 9998."
        return None
    return (at.replace(tzinfo=zone) if at.tzinfo is None else at).astimezone(UTC)


def local_zone(request: Request) -> ZoneInfo:
    """The zone the CRM shows times in (CRM_TIMEZONE); times are stored in UTC."""
    return ZoneInfo(request.app.state.settings.timezone)


# Two rules for yes/no fields, kept apart because they disagree on odd values ("no", "x"): a checkbox is ticked
# unless it says one of OFF_WORDS (the member and interaction forms); a switch or filter is on only when it says
# one of ON_WORDS (the FAQ's filters and its public switch).
OFF_WORDS = ("", "0", "off", "false")
ON_WORDS = ("1", "on", "true", "yes")


def checked(form: dict[str, str], name: str) -> bool:
    return form.get(name, "") not in OFF_WORDS


def is_on(value: str | None) -> bool:
    return (value or "").strip().lower() in ON_WORDS


def lines(text: str | None) -> list[str]:
    """A textarea with one item per line: the non-blank lines, stripped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def list_errors(fields: dict[str, str]) -> dict[str, str]:
    """Service names like "links[2]" -> the textarea ("links"), saying which line is wrong."""
    errors: dict[str, str] = {}
    for key, message in fields.items():
        if "[" in key and key.endswith("]"):
            name, index = key[:-1].split("[", 1)
            if is_id(index):
                errors.setdefault(name, f"Line {int(index) + 1}: {message}")
                continue
        errors[key] = message
    return errors
