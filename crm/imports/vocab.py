"""The fixed vocabularies of imports: what a file holds, a job's states, the fields a column can feed, and the
words a sentiment or a yes/no cell may use."""

from __future__ import annotations

from enum import Enum


class ImportKind(str, Enum):
    members = "members"
    interactions = "interactions"


class JobStatus(str, Enum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class Problem(str, Enum):
    """What an import issue is about: a rejected row, an erased person refused, or a duplicate whose labels
    differ from the row already kept (the first row wins)."""

    rejected = "rejected"
    erased = "erased"
    conflict = "conflict"


KINDS = [k.value for k in ImportKind]
STATUSES = [s.value for s in JobStatus]
IGNORE = "ignore"

# The fields a CSV column can feed, per kind, with the label pages show. Interaction files may also say things
# about the member who acted (member_*), which fill in what the member does not have yet.
INTERACTION_FIELDS: dict[str, str] = {
    "handle": "Member's handle on the platform",
    "member_email": "Member's email",
    "member_name": "Member's name (for new members)",
    "member_time_zone": "Member's time zone",
    "member_topic": "A topic for the member",
    "platform": "Platform",
    "kind": "Kind (mention, comment, ...)",
    "occurred_at": "When it happened",
    "sentiment": "Sentiment",
    "sentiment_reason": "Why (sentiment reason)",
    "text": "Text",
    "url": "Link",
    "external_id": "Id on the platform",
    "troll": "Troll (yes/no)",
}
MEMBER_FIELDS: dict[str, str] = {
    "name": "Name",
    "email": "Email",
    "tier": "Tier",
    "location": "Location",
    "language": "Language",
    "time_zone": "Time zone",
    "notes": "Notes",
    "topics": "Topics (separated by ;)",
    "handles": "Handles (platform:handle; ... or the CRM's JSON list)",
    "handle": "Handle (one, on the mapping's or the row's platform)",
    "platform": "Platform of the handle",
    "followers": "Followers of the handle",
    "handle_url": "Link to the handle's profile",
    "consent_private_briefing": "Consent to private briefings (yes/no)",
    "do_not_contact": "Do not contact (yes/no)",
}
FIELDS: dict[str, dict[str, str]] = {"interactions": INTERACTION_FIELDS, "members": MEMBER_FIELDS}

# Sentiment cells, lower-cased and trimmed. Numbers are read against the mapping's thresholds.
SENTIMENT_WORDS: dict[str, str] = {
    **dict.fromkeys(["positive", "pos", "p", "+", "good", "happy", "praise", "favourable", "favorable"], "positive"),
    **dict.fromkeys(["negative", "neg", "n", "-", "bad", "angry", "complaint", "critical", "unfavourable"], "negative"),
    **dict.fromkeys(["neutral", "neu", "mixed", "none", "meh", "ok"], "neutral"),
    **dict.fromkeys(["", "unknown", "?", "n/a", "na", "not sure", "can't tell"], "unknown"),
}
TRUE_WORDS = frozenset({"1", "true", "yes", "y", "t", "x", "on", "oui", "ja", "si", "sí"})
FALSE_WORDS = frozenset({"", "0", "false", "no", "n", "f", "off", "non", "nein"})
