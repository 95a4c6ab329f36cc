"""What the bulk writers take and give back: cleaned rows, outcomes, and a dry run's memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crm import validation
from crm.members import interactions
from crm.members.service import MAX_TOPICS, clean_profile, clean_topics


@dataclass
class InteractionIn:
    """One interaction to log, cleaned (``clean_interaction``), with who did it and what the row says about
    them: a new member gets the name, email, time zone and topics; a known one gets the time zone when they
    have none, and the topics they lack."""

    index: int  # the caller's position: a line of a file, an item of a request
    values: dict[str, Any]  # interactions.clean's fields (incident_id checked by the writer) plus sentiment_reason
    handle: str = ""  # without @
    email: str | None = None
    member_id: int | None = None
    name: str = ""
    time_zone: str = ""
    topics: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    index: int
    status: str  # created | duplicate | rejected | erased
    id: int | None = None  # the interaction created, or the one kept
    member_id: int | None = None
    field: str | None = None  # rejected or erased: the field at fault
    error: str | None = None
    differs: dict[str, tuple[Any, Any]] | None = None  # duplicate: label -> (kept, given), when they differ
    kept_index: int | None = None  # duplicate of an item of the same batch


@dataclass
class BulkResult:
    outcomes: list[Outcome]
    members_created: list[int] = field(default_factory=list)
    members_updated: list[int] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)  # interactions created


ERASED = "This person asked to be erased (GDPR); they are not re-created automatically."


def clean_interaction(values: dict[str, Any], now: datetime) -> tuple[InteractionIn | None, dict[str, str]]:
    """Validate one item as the single-row service does (``interactions.clean``), plus who did it: ``member_id``,
    or ``handle`` (with ``platform``) and/or ``member_email``; ``member_name``, ``member_time_zone`` (IANA) and
    ``member_topics`` describe them. Errors are keyed by those field names."""
    errors: dict[str, str] = {}
    cleaned = interactions.clean(values, now, errors)
    incident_id = cleaned["incident_id"]
    if incident_id is not None and not storable_id(incident_id):
        errors["incident_id"] = f"No incident with id {incident_id}."  # as the single-row service says
    cleaned["sentiment_reason"] = validation.text(
        values.get("sentiment_reason"), "sentiment_reason", errors, max_length=200
    )
    handle = (values.get("handle") or "").strip().lstrip("@").strip()
    if len(handle) > 200:
        errors["handle"] = "Use at most 200 characters."
    elif "\x00" in handle:  # PostgreSQL cannot store it (nor look it up): refused on both engines alike
        errors["handle"] = "Contains a NUL character, which is not allowed."
    member_errors: dict[str, str] = {}
    profile = clean_profile(
        {k: values[f"member_{k}"] for k in ("email", "time_zone") if values.get(f"member_{k}") not in (None, "")},
        member_errors,
        partial=True,
    )
    name = validation.text(values.get("member_name"), "name", member_errors, max_length=200)
    topics = clean_topics(values.get("member_topics"), member_errors)
    for key, message in member_errors.items():
        errors[f"member_{key}"] = message
    member_id = values.get("member_id")
    if member_id is not None and (not isinstance(member_id, int) or isinstance(member_id, bool)):
        errors["member_id"] = "Give a member id (a whole number)."
    elif member_id is not None and not storable_id(member_id):
        errors["member_id"] = f"No member with id {member_id}."
    if member_id is None and not handle and not profile.get("email"):
        by_email = " (or the member's email)" if "member_email" in values else ""  # the API has no such field
        errors.setdefault("handle", f"Give member_id, or platform and handle{by_email}.")
    if errors:
        return None, errors
    item = InteractionIn(
        index=-1,
        values=cleaned,
        handle=handle,
        email=profile.get("email"),
        member_id=member_id,
        name=name,
        time_zone=profile.get("time_zone", ""),
        topics=topics,
    )
    return item, {}


def storable_id(value: Any) -> bool:
    """A whole number an id column can hold (PostgreSQL's integer): a bigger one is nobody's id, and is refused
    here rather than by PostgreSQL in the middle of a batch (SQLite would take it)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


@dataclass
class _Person:
    """A member a batch writes to: new (id set once inserted), or known (a real id, or a dry run's stand-in)."""

    id: int | None
    new: bool
    name: str = ""
    email: str | None = None
    time_zone: str = ""  # what they have (or will have)
    topics: list[str] = field(default_factory=list)  # what they have (or will have)
    add_topics: list[str] = field(default_factory=list)
    set_time_zone: str = ""
    add_handles: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (platform, handle)

    @property
    def changed(self) -> bool:
        return bool(self.add_topics or self.set_time_zone or self.add_handles)

    def absorb(self, item: InteractionIn) -> None:
        if item.time_zone and not self.time_zone:
            self.time_zone = item.time_zone
            if not self.new:
                self.set_time_zone = item.time_zone
        for topic in item.topics:
            if topic not in self.topics and len(self.topics) < MAX_TOPICS:
                self.topics.append(topic)
                if not self.new:
                    self.add_topics.append(topic)


@dataclass
class DryRun:
    """What earlier batches of a dry run would have written, so later batches are planned as a real run would
    plan them. Stand-in ids for members that would be created are negative."""

    external: dict[str, dict[str, Any]] = field(default_factory=dict)  # external key -> labels
    content: set[tuple] = field(default_factory=set)
    handles: dict[str, int] = field(default_factory=dict)
    emails: dict[str, int] = field(default_factory=dict)
    people: dict[int, _Person] = field(default_factory=dict)  # stand-ins, and known members changed so far
    next_id: int = -1

    def stand_in(self) -> int:
        self.next_id -= 1
        return self.next_id + 1
