"""A mapping checked against a file's header, then used to turn each row into the values the members services
take (``crm.members.bulk``): dates read as the mapping says, sentiment words and numbers, yes/no cells, time zone
names, topics and handles. Problems in a cell are reported against the CSV column that fed the field."""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm import validation
from crm.errors import InvalidInput
from crm.formatting import csv_plain
from crm.imports import zones
from crm.imports.csvfile import DELIMITERS, ENCODINGS, invalid, refuse
from crm.imports.schemas import Mapping
from crm.imports.vocab import FALSE_WORDS, FIELDS, IGNORE, KINDS, SENTIMENT_WORDS, TRUE_WORDS
from crm.members.vocab import KINDS as INTERACTION_KINDS
from crm.members.vocab import PLATFORMS, SENTIMENTS

PLATFORM_ALIASES = {
    "twitter": "x",
    "x.com": "x",
    "tweet": "x",
    "ig": "instagram",
    "insta": "instagram",
    "fb": "facebook",
    "meta": "facebook",
    "yt": "youtube",
    "tik tok": "tiktok",
    "e-mail": "email",
    "mail": "email",
}
URL_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
# strptime formats that datetime.fromisoformat reads as well once the space before the offset is gone.
ISO_LIKE = frozenset({"%Y-%m-%d %H:%M:%S %z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%d %H:%M:%S"})
REQUIRED_ANY = {
    "interactions": ("handle", "member_email"),
    "members": ("name", "email", "handle", "handles"),
}
# A link made from the mapping's template, set after the row is cleaned: it is made of percent-encoded parts of
# the row and a template checked once (compile_mapping), so it is not checked again for every row.
BUILT_URL = "_built_url"
# Errors of the members services are keyed by their own names; the column that fed them is found through this.
FIELD_OF_ERROR = {"member_topics": "member_topic", "topics": "topics", "handles": "handles"}


def parse_zone(name: str) -> tzinfo:
    """An IANA zone, UTC, or a fixed offset such as +02:00, -0800 or UTC+1."""
    text = name.strip()
    match = re.fullmatch(r"(?:UTC|GMT)?\s*([+-])(\d{1,2}):?(\d{2})?", text, re.IGNORECASE)
    if match:
        sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
        if hours > 14 or minutes > 59:
            raise ValueError(f"Offset out of range: {name!r}.")
        offset = timedelta(hours=hours, minutes=minutes)
        return timezone(-offset if sign == "-" else offset)
    if text.upper() in ("UTC", "GMT", "Z"):
        return UTC
    try:
        return ZoneInfo(zones.to_iana(text) or text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"Unknown time zone {name!r}: use a name like Europe/Paris or an offset like +02:00."
        ) from None


def parse_bool(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"Cannot read {text!r} as yes or no.")


class Compiled:
    """A mapping fitted to one header: which cell feeds which field, and how each is read."""

    def __init__(self, mapping: Mapping, header: list[str]) -> None:
        self.mapping = mapping
        self.kind = mapping.kind
        self.header = header
        self.index: dict[str, int] = {}
        self.column_of: dict[str, str] = {}
        position = {name: n for n, name in enumerate(header)}
        for column, target in mapping.columns.items():
            if target and target != IGNORE and column in position:
                self.index[target] = position[column]
                self.column_of[target] = column
        self.zone = parse_zone(mapping.default_zone)
        self.sentiment_values = {k.strip().lower(): v for k, v in mapping.sentiment_values.items()}
        low, high = mapping.sentiment_thresholds
        self.low, self.high = low, high
        self.iso_like = mapping.date_format in ISO_LIKE
        # Links built from the template are made of percent-encoded parts: checked once here, not per row.
        self.url_template = mapping.url_template

    # ---- reading cells ----

    def column(self, field: str) -> str:
        """The CSV column that fed ``field`` (or the field's name when none did, e.g. a platform from the mapping)."""
        field = FIELD_OF_ERROR.get(field, field)
        if field.startswith("handles[") or field.startswith("handles."):
            field = "handles" if "handles" in self.column_of else "handle"
        return self.column_of.get(field, field)

    def read_date(self, text: str) -> datetime:
        fmt = self.mapping.date_format
        try:
            if fmt == "iso":
                at = datetime.fromisoformat(text)
            elif self.iso_like:  # strptime costs ~10 µs a call; this format is ISO with a space before the offset
                at = datetime.fromisoformat(text.replace(" +", "+").replace(" -", "-"))
            else:
                at = datetime.strptime(text, fmt)
        except ValueError:
            expected = "ISO 8601, like 2026-03-01T14:00:00+01:00" if fmt == "iso" else f"the format {fmt}"
            raise ValueError(f"Cannot read {text!r} as a date and time (expected {expected}).") from None
        if at.tzinfo is None:
            at = at.replace(tzinfo=self.zone)
        return at

    def read_sentiment(self, text: str) -> str:
        word = " ".join(text.split()).lower()
        if word in self.sentiment_values:
            return self.sentiment_values[word]
        if word in SENTIMENT_WORDS:
            return SENTIMENT_WORDS[word]
        try:
            number = float(word)
        except ValueError:
            number = math.nan
        if math.isfinite(number):
            return "negative" if number < self.low else "positive" if number > self.high else "neutral"
        raise ValueError(
            f"Unknown sentiment {text!r}: use positive, negative or neutral, a number, or map the word in the mapping."
        )

    @staticmethod
    def _cell(cells: dict[str, str], field: str) -> str | None:
        """The trimmed cell feeding ``field`` ("" when the row is short), None when no column feeds it."""
        return cells.get(field)

    def convert(self, cells: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
        """The values a row gives (for ``bulk.clean_interaction`` or ``bulk.clean_member``), and the cells that
        could not be read (field -> reason)."""
        width = len(cells)
        if width > len(self.header) and any(c.strip() for c in cells[len(self.header) :]):
            return {}, {"": f"This row has {width} cells; the header has {len(self.header)}."}
        fed = {field: cells[n].strip() if n < width else "" for field, n in self.index.items()}
        if self.mapping.csv_quoted:
            fed = {field: csv_plain(text) for field, text in fed.items()}
        return self._interaction(fed) if self.kind == "interactions" else self._member(fed)

    def _read(self, cells: dict[str, str], field: str, errors: dict[str, str], reader: Callable[[str], Any]) -> Any:
        text = self._cell(cells, field)
        if not text:
            return None
        try:
            return reader(text)
        except ValueError as exc:
            errors[field] = str(exc)
            return None

    def _platform(self, cells: dict[str, str]) -> str:
        text = (self._cell(cells, "platform") or "").lower()
        return PLATFORM_ALIASES.get(text, text) or self.mapping.platform

    def _interaction(self, cells: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
        errors: dict[str, str] = {}
        cell = self._cell
        values: dict[str, Any] = {
            "platform": self._platform(cells),
            "kind": (cell(cells, "kind") or "").lower() or self.mapping.kind_default,
            "handle": cell(cells, "handle") or "",
            "member_email": cell(cells, "member_email") or None,
            "member_name": cell(cells, "member_name") or "",
            "member_time_zone": zones.to_iana(cell(cells, "member_time_zone") or ""),
            "member_topics": [t] if (t := cell(cells, "member_topic")) else [],
            "external_id": cell(cells, "external_id") or None,
            "sentiment_reason": cell(cells, "sentiment_reason") or "",
            "url": cell(cells, "url") or None,
        }
        text = self._cell(cells, "text") or ""
        values["text"] = html.unescape(text) if self.mapping.html_unescape else text
        if "occurred_at" in self.index:
            values["occurred_at"] = self._read(cells, "occurred_at", errors, self.read_date)
        values["sentiment"] = self._read(cells, "sentiment", errors, self.read_sentiment) or "unknown"
        values["troll"] = bool(self._read(cells, "troll", errors, parse_bool))
        if not values["url"] and self.url_template and values["handle"] and values["external_id"]:
            values[BUILT_URL] = self.url_template.replace("{handle}", quote(values["handle"].lstrip("@"))).replace(
                "{external_id}", quote(values["external_id"])
            )
        return values, errors

    def _member(self, cells: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        for name in ("name", "email", "location", "language", "notes"):
            if text := self._cell(cells, name):
                values[name] = text
        if tier := (self._cell(cells, "tier") or "").lower():
            values["tier"] = tier
        if zone := self._cell(cells, "time_zone"):
            values["time_zone"] = zones.to_iana(zone)
            if not values["time_zone"]:
                errors["time_zone"] = f"Unknown time zone {zone!r}; use a name like Europe/Paris."
        if topics := self._cell(cells, "topics"):
            values["topics"] = [t for t in re.split(r"[;|]", topics) if t.strip()]
        handles = self._read(cells, "handles", errors, read_handles) or []
        if handle := self._cell(cells, "handle"):
            one: dict[str, Any] = {"platform": self._platform(cells), "handle": handle}
            if (followers := self._read(cells, "followers", errors, _whole_number)) is not None:
                one["followers"] = followers
            if url := self._cell(cells, "handle_url"):
                one["url"] = url
            handles.append(one)
        if handles:
            values["handles"] = handles
        for flag in ("consent_private_briefing", "do_not_contact"):
            if (value := self._read(cells, flag, errors, parse_bool)) is not None:
                values[flag] = value
        return values, errors


def _whole_number(text: str) -> int:
    try:
        number = int(text.replace(",", "").replace("_", "").strip())
    except ValueError:
        raise ValueError(f"Cannot read {text!r} as a whole number.") from None
    if number < 0:
        raise ValueError("Followers must be 0 or more.")
    return number


def read_handles(text: str) -> list[dict[str, Any]]:
    """The CRM's JSON list (``[{"platform": "x", "handle": "jane", "followers": 10, "url": null}]``), or
    ``platform:handle`` entries separated by ``;``."""
    if text.startswith("["):
        try:
            items = json.loads(text)
        except ValueError:
            raise ValueError("Cannot read the handles as JSON.") from None
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ValueError('Handles in JSON are a list of {"platform": ..., "handle": ...}.')
        return [{k: i.get(k) for k in ("platform", "handle", "followers", "url") if k in i} for i in items]
    handles = []
    for entry in re.split(r"[;|]", text):
        entry = entry.strip()
        if not entry:
            continue
        platform, sep, handle = entry.partition(":")
        if not sep or not handle.strip():
            raise ValueError(f"Write each handle as platform:handle (got {entry!r}).")
        platform = platform.strip().lower()
        handles.append({"platform": PLATFORM_ALIASES.get(platform, platform), "handle": handle.strip()})
    return handles


def compile_mapping(mapping: Mapping, header: list[str]) -> Compiled:
    """Check ``mapping`` (fields, options) and fit it to ``header``; InvalidInput names what is wrong. A header
    that names none of the mapping's columns is a file without a header."""
    errors: dict[str, str] = {}
    if mapping.kind not in KINDS:
        raise invalid("kind", f"Choose one of: {', '.join(KINDS)}.")
    fields = FIELDS[mapping.kind]
    fed: dict[str, str] = {}
    for column, target in mapping.columns.items():
        if not target or target == IGNORE:
            continue
        if target not in fields:
            errors[f"columns.{column}"] = f"Unknown field {target!r} for {mapping.kind}: use {', '.join(fields)}."
        elif target in fed:
            errors[f"columns.{column}"] = f"Both {fed[target]!r} and {column!r} feed {target}: choose one."
        else:
            fed[target] = column
    if not any(f in fed for f in REQUIRED_ANY[mapping.kind]):
        names = " or ".join(REQUIRED_ANY[mapping.kind])
        errors["columns"] = f"Map a column to {names}, to know who each row is about."
    if mapping.kind == "interactions":
        if "occurred_at" not in fed:
            errors["columns"] = "Map a column to occurred_at (when it happened)."
        if "platform" not in fed and not mapping.platform:
            errors["platform"] = "The file has no platform column: say which platform it is from."
        if mapping.kind_default not in INTERACTION_KINDS:
            errors["kind_default"] = f"Choose one of: {', '.join(INTERACTION_KINDS)}."
    if mapping.platform and mapping.platform not in PLATFORMS:
        errors["platform"] = f"Choose one of: {', '.join(PLATFORMS)}."
    if mapping.date_format != "iso":
        if "%" not in mapping.date_format:
            errors["date_format"] = 'Use "iso" or a format with % codes, like %d/%m/%Y %H:%M.'
        else:
            try:
                datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC).strftime(mapping.date_format)
            except ValueError:
                errors["date_format"] = "This date format is not valid."
    try:
        parse_zone(mapping.default_zone)
    except ValueError as exc:
        errors["default_zone"] = str(exc)
    for word, sentiment in mapping.sentiment_values.items():
        if sentiment not in SENTIMENTS:
            errors["sentiment_values"] = f"{word!r} maps to {sentiment!r}: use one of {', '.join(SENTIMENTS)}."
    low, high = mapping.sentiment_thresholds
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        errors["sentiment_thresholds"] = "Give two numbers, the lower first."
    if bad := [p for p in URL_PLACEHOLDER.findall(mapping.url_template) if p not in ("handle", "external_id")]:
        errors["url_template"] = f"Only {{handle}} and {{external_id}} can be filled in (not {{{bad[0]}}})."
    elif mapping.url_template:
        sample = mapping.url_template.replace("{handle}", "jane").replace("{external_id}", "123")
        validation.url(sample, "url_template", errors)
    if mapping.encoding not in ENCODINGS:
        errors["encoding"] = f"Choose one of: {', '.join(ENCODINGS)}."
    if mapping.delimiter and mapping.delimiter not in DELIMITERS:
        errors["delimiter"] = "Use a comma, a semicolon, a tab or |."
    if errors:
        raise InvalidInput(errors, " ".join(dict.fromkeys(errors.values())))
    present = set(header)
    missing = [column for column in fed.values() if column not in present]
    if missing and len(missing) == len(fed):
        names = ", ".join(list(fed.values())[:6])
        message = (
            f"The first row is not a header: it names none of the columns this mapping reads ({names}). "
            "Add a header row naming the columns."
        )
        raise refuse(message)
    if missing:
        message = f"The file has no column {', '.join(repr(m) for m in missing)}, which the mapping reads."
        raise refuse(message)
    return Compiled(mapping, header)
