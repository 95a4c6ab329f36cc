"""Counts, spans of time and dates in plain words, and cells made safe for CSV: one definition each, used by
services (sentences people paste into answers), controllers and pages alike."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo
from typing import Any

# Spreadsheets run a cell as a formula when it starts with one of =+-@ (or their full-width forms, which some
# spreadsheets fold to ASCII), also after leading spaces or zero-width characters they skip, and treat a leading
# tab or carriage return as a way to smuggle one in (OWASP "CSV injection").
FORMULA_CHARACTERS = "=+-@\uff1d\uff0b\uff0d\uff20"
SKIPPED_CHARACTERS = "\u200b\u200c\u200d\u2060\ufeff"
# The quote csv_cell puts in front is also its escape: a cell that already starts with one gets another, so
# csv_plain() can take exactly one off (the "crm" import preset reads the CRM's own exports back unchanged).
_NEEDS_QUOTE = re.compile(rf"[\s{SKIPPED_CHARACTERS}]*[{re.escape(FORMULA_CHARACTERS)}]|[\t\r']")


def plural(n: int, word: str, words: str | None = None) -> str:
    """ "1 reply", "3 replies": ``words`` for a plural that is not ``word`` + "s"."""
    return f"{n} {word}" if n == 1 else f"{n} {words or word + 's'}"


def duration(seconds: int | None) -> str:
    """A span of time in plain words: "under a minute", "12 min", "2 h 05 min", "3 days 4 h"."""
    if seconds is None:
        return "—"
    seconds = max(0, int(seconds))
    minutes = seconds // 60
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} days {hours} h"


def span(delta: timedelta) -> str:
    """A length of time in its largest whole unit, rounded down: "2 days", "5 hours", "1 minute"."""
    seconds = max(int(delta.total_seconds()), 0)
    for size, unit in ((86_400, "day"), (3_600, "hour"), (60, "minute")):
        if seconds >= size:
            return plural(seconds // size, unit)
    return "less than a minute"


def long_date(at: datetime, zone: tzinfo) -> str:
    """The local day in words: "3 March 2026"."""
    local = at.astimezone(zone)
    return f"{local.day} {local:%B %Y}"


def short_date(at: datetime, zone: tzinfo) -> str:
    """The local day, month abbreviated: "3 Mar 2026"."""
    local = at.astimezone(zone)
    return f"{local.day} {local:%b %Y}"


def csv_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, made plain text with a leading quote (and a cell
    that starts with a quote given one more). Every CSV the app writes passes its cells through here; other values
    (numbers, None) are returned as they are."""
    if isinstance(value, str) and _NEEDS_QUOTE.match(value):
        return "'" + value
    return value


def csv_plain(text: str) -> str:
    """The cell csv_cell() was given: its added quote taken off again."""
    return text[1:] if text.startswith("'") else text
