"""A bulk request of interactions (``POST /api/v1/interactions/bulk``): up to 1,000 items, read from a JSON array
or NDJSON, each decoded into the single endpoint's ``InteractionCreate`` the way Litestar decodes that endpoint's
body (``strict=False``) and checked by the same rules, then written by the bulk writer in one transaction.

A body that cannot be read as a whole (empty, not JSON or NDJSON, a line of NDJSON that is not JSON, a wrong
content type, more than 1,000 items) is refused before anything is written. An item that is read but wrong (a
field of the wrong type, an unknown field, a value the rules refuse, an unknown incident or member, an erased
person) is ``rejected`` with its fields named, and the others are written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from crm import db
from crm.audit.service import Actor
from crm.errors import DomainError, TooLarge, UnsupportedMediaType
from crm.members import queries
from crm.members.bulk.interactions import log_interactions
from crm.members.bulk.items import InteractionIn, clean_interaction, storable_id
from crm.members.schemas import BulkItemResult, InteractionCreate
from crm.web import sent_fields, struct_fields

MAX_ITEMS = 1_000
JSON = "application/json"
NDJSON = "application/x-ndjson"
RETRIES = 3  # a request that lost a race on a unique key (a new handle or id written at the same moment) is replanned


def read_items(body: bytes, content_type: str) -> list[Any]:
    """The items of a body, as decoded JSON values, in the order sent. Raises a DomainError (4xx) naming the
    problem for a body that cannot be read as a whole."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type not in (JSON, NDJSON):
        raise UnsupportedMediaType(
            f"Send Content-Type: {JSON} (a JSON array) or {NDJSON} (one JSON object per line), "
            f"not {media_type or 'none'}.",
            fields={"content-type": f"Use {JSON} or {NDJSON}."},
        )
    if not body.strip():
        raise DomainError("The body is empty: send up to 1,000 interactions.", fields={"body": "Empty."})
    if media_type == JSON:
        try:
            items = msgspec.json.decode(body, type=list[msgspec.Raw])
        except msgspec.DecodeError as exc:
            raise DomainError(
                f"The body is not a JSON array of interactions: {exc}.", fields={"body": str(exc)}
            ) from None
        _check_count(len(items))
        return [msgspec.json.decode(raw) for raw in items]
    lines = [(number, line) for number, line in enumerate(body.split(b"\n"), start=1) if line.strip()]
    _check_count(len(lines))
    items = []
    for index, (number, line) in enumerate(lines):
        try:
            items.append(msgspec.json.decode(line))
        except msgspec.DecodeError as exc:
            raise DomainError(
                f"Item {index} (line {number}) is not JSON: {exc}. Nothing was written.",
                fields={f"items[{index}]": f"Line {number} is not JSON: {exc}."},
            ) from None
    return items


def _check_count(count: int) -> None:
    if count == 0:
        raise DomainError("The body holds no interactions: send up to 1,000.", fields={"body": "No items."})
    if count > MAX_ITEMS:
        raise TooLarge(
            f"{count:,} interactions in one request: send at most {MAX_ITEMS:,} (split them into several requests).",
            fields={"body": f"{count:,} items; at most {MAX_ITEMS:,}."},
        )


async def log_bulk(*, items: list[Any], actor: Actor, now: datetime) -> list[BulkItemResult]:
    """Log ``items`` (``read_items``' values) as the single endpoint logs each one, in one transaction with one
    audit entry; one result per item, in order."""
    results: dict[int, BulkItemResult] = {}
    decoded: dict[int, dict[str, Any]] = {}
    for index, item in enumerate(items):
        try:
            decoded[index] = sent_fields(msgspec.convert(item, InteractionCreate, strict=False))
        except msgspec.ValidationError as exc:
            results[index] = BulkItemResult(index=index, status="rejected", error=struct_fields(exc, InteractionCreate))
    # Logged by member id alone: on the platform of their first handle, as the single endpoint does.
    alone = [v["member_id"] for v in decoded.values() if storable_id(v.get("member_id")) and not v.get("platform")]
    platforms = await queries.usual_platforms(alone)  # other ids are refused by clean_interaction
    cleaned: list[InteractionIn] = []
    for index, values in decoded.items():
        if values.get("member_id") is not None and not values.get("platform"):
            values["platform"] = platforms.get(values["member_id"], "other")
        item, errors = clean_interaction(values, now)
        if item is None:
            results[index] = BulkItemResult(index=index, status="rejected", error=errors)
            continue
        item.index = index
        cleaned.append(item)
    for attempt in range(1, RETRIES + 1):
        try:
            async with db.transaction():
                written = await log_interactions(cleaned, actor=actor, now=now, source={"api": "interactions/bulk"})
            break
        except Exception as exc:
            if attempt < RETRIES and db.is_unique_violation(exc):
                continue
            raise
    for outcome in written.outcomes:
        if outcome.status in ("created", "duplicate"):
            results[outcome.index] = BulkItemResult(index=outcome.index, status=outcome.status, id=outcome.id)
        else:  # rejected, or erased: refused naming the field, as the single endpoint refuses it
            error = {outcome.field or "item": outcome.error or "Refused."}
            results[outcome.index] = BulkItemResult(index=outcome.index, status="rejected", error=error)
    return [results[index] for index in range(len(items))]
