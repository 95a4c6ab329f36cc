"""The CRM's own CSV format: the columns an export writes and how it writes each value, defined once here so that
``crm export`` (and the export pages) write exactly these and the ``crm`` preset reads them back unchanged.

Conventions: UTF-8 (a BOM is allowed), comma-separated, a header row with these names in this order; times in
ISO 8601 UTC with a Z (``2026-03-01T14:00:00Z``, microseconds when there are any); yes/no as ``true``/``false``;
topics joined by ``"; "``; a member's handles as a JSON list (``[{"platform": "x", "handle": "jane",
"followers": 120, "url": null}]``), which keeps followers and links. Ids, creation times and engagement figures
are the CRM's own: written for the reader, ignored on import (a person is matched by handle or email, an
interaction by platform + external id, or by member, platform, kind, time and text when it has none).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

MEMBER_COLUMNS = (
    "id",
    "name",
    "email",
    "tier",
    "location",
    "language",
    "time_zone",
    "topics",
    "handles",
    "consent_private_briefing",
    "do_not_contact",
    "notes",
    "created_at",
    "interactions_total",
    "first_interaction_at",
    "last_interaction_at",
    "score",
    "reach",
)
INTERACTION_COLUMNS = (
    "id",
    "member_id",
    "member_name",
    "member_email",
    "handle",  # the member's handle on the interaction's platform, when they have one
    "platform",
    "kind",
    "occurred_at",
    "sentiment",
    "sentiment_reason",
    "troll",
    "text",
    "url",
    "external_id",
    "incident_id",
    "created_at",
)
# What the crm preset reads back (the other columns are ignored).
MEMBER_FIELDS = {
    "name": "name",
    "email": "email",
    "tier": "tier",
    "location": "location",
    "language": "language",
    "time_zone": "time_zone",
    "topics": "topics",
    "handles": "handles",
    "consent_private_briefing": "consent_private_briefing",
    "do_not_contact": "do_not_contact",
    "notes": "notes",
}
INTERACTION_FIELDS = {
    "member_name": "member_name",
    "member_email": "member_email",
    "handle": "handle",
    "platform": "platform",
    "kind": "kind",
    "occurred_at": "occurred_at",
    "sentiment": "sentiment",
    "sentiment_reason": "sentiment_reason",
    "troll": "troll",
    "text": "text",
    "url": "url",
    "external_id": "external_id",
}


def write_datetime(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def write_bool(value: bool) -> str:
    return "true" if value else "false"


def write_topics(topics: list[str]) -> str:
    return "; ".join(topics)


def write_handles(handles: list[dict[str, Any]]) -> str:
    keep = ("platform", "handle", "followers", "url")
    return json.dumps([{k: h.get(k) for k in keep} for h in handles], ensure_ascii=False, separators=(",", ":"))


def write_cell(value: Any) -> str:
    """Any other value: text as is, None as empty, numbers as Python writes them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return write_bool(value)
    if isinstance(value, datetime):
        return write_datetime(value)
    return str(value)
