"""FAQ entries: proposing, writing, publishing, retiring, reviewing; each write records a revision, an audit
entry, and brings the search index in step, all in one transaction. Also which incidents show their FAQ on
the public page.

Review due: answers go stale. A published entry is "review due" once its last review is ``faq_review_days``
(Admin → Settings, 90 by default) or more in the past. Publishing counts as a review (the publisher vouches
for the answer), so an entry written as a draft long ago and published today is not due at once; an entry
never reviewed (older data) counts from its creation."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from crm import db, validation
from crm.audit.service import Actor, log_change
from crm.errors import InvalidInput, NotFound, PermissionDenied
from crm.faq import queries, search
from crm.faq.tables import FaqEntry, FaqRevision
from crm.faq.vocab import STATUSES
from crm.incidents.tables import Incident, TalkingPoints
from crm.preferences import queries as preferences

MAX_QUESTION = 500
MAX_ANSWER = 20_000
MAX_TAGS = 20
MAX_TAG = 40
EDITABLE = ("question", "answer", "tags", "status", "talking_points_version")

# Control characters other than tab and newlines: never meaningful in an answer, and the search snippets
# use two of them as highlight sentinels.
CONTROL_RE = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _text(value: Any, field: str, errors: dict[str, str], *, max_length: int) -> str:
    if value is not None and not isinstance(value, str):
        errors[field] = "Must be text."
        return ""
    return validation.text(CONTROL_RE.sub("", value or ""), field, errors, max_length=max_length, required=True)


def normal_tag(raw: Any) -> str:
    """A tag as stored: lower case, single spaces, no control characters (filters use the same form)."""
    return " ".join(CONTROL_RE.sub("", str(raw)).lower().split())


def _tags(value: Any, errors: dict[str, str]) -> list[str]:
    out: list[str] = []
    for raw in value or []:
        tag = normal_tag(raw)
        if "\x00" in tag:
            errors["tags"] = "Contains a NUL character, which is not allowed."
        elif len(tag) > MAX_TAG:
            errors["tags"] = f"Each tag may have at most {MAX_TAG} characters."
        elif tag and tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        errors["tags"] = f"At most {MAX_TAGS} tags."
    return out


def _clean(values: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """The sent fields, checked; raises InvalidInput naming every bad field."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    if not partial or "question" in values:
        out["question"] = " ".join(_text(values.get("question"), "question", errors, max_length=MAX_QUESTION).split())
    if not partial or "answer" in values:
        out["answer"] = _text(values.get("answer"), "answer", errors, max_length=MAX_ANSWER)
    if not partial or "tags" in values:
        out["tags"] = _tags(values.get("tags"), errors)
    if not partial or "status" in values:
        out["status"] = validation.choice(values.get("status", "draft"), "status", errors, STATUSES)
    if "talking_points_version" in values:
        version = values["talking_points_version"]
        if version is not None and (not isinstance(version, int) or version < 1):
            errors["talking_points_version"] = "A talking-points version number (1 or more)."
        out["talking_points_version"] = version
    if errors:
        raise InvalidInput(errors)
    return out


def may_see(entry: dict, *, can_write: bool, user_id: int | None) -> bool:
    """Drafts are not approved answers: only their author and the people who publish see them (pages and API
    alike). Published and retired entries are readable by every signed-in user."""
    return entry["status"] != "draft" or can_write or (user_id is not None and entry["author"] == user_id)


def validate(values: dict[str, Any], *, partial: bool) -> dict[str, str]:
    """The field messages the service would give for ``values`` (nothing written): for page forms that already
    found a problem of their own and still want to show every message at once."""
    try:
        _clean(values, partial=partial)
    except InvalidInput as exc:
        return dict(exc.fields)
    return {}


# ---- review due ------------------------------------------------------------------------------------


async def review_days() -> int:
    return int(await preferences.get("faq_review_days"))


def due_before(now: datetime, days: int) -> datetime:
    """Entries last reviewed at or before this time are review due."""
    return now - timedelta(days=days)


def review_due(entry: dict, *, now: datetime, days: int) -> bool:
    if entry["status"] != "published":
        return False
    return (entry["reviewed_at"] or entry["created_at"]) <= due_before(now, days)


async def _locked(entry_id: int) -> dict:
    """The entry, its row locked until the transaction ends on PostgreSQL (SQLite's BEGIN IMMEDIATE already
    serialises writers)."""
    query = FaqEntry.select().where(FaqEntry.id == entry_id).output(load_json=True)
    if not db.is_sqlite():
        query = query.lock_rows()
    row = await query.first().run()
    if row is None:
        raise NotFound(f"No FAQ entry with id {entry_id}.")
    return row


async def _check_talking_points(incident_id: int, version: int | None) -> None:
    if version is None:
        return
    found = (
        await TalkingPoints.exists()
        .where((TalkingPoints.incident == incident_id) & (TalkingPoints.version == version))
        .run()
    )
    if not found:
        raise InvalidInput(
            {"talking_points_version": f"Incident {incident_id} has no talking points version {version}."}
        )


def _stored(values: dict[str, Any]) -> dict[str, Any]:
    return {k: json.dumps(v) if k == "tags" else v for k, v in values.items()}


async def create_entry(
    *, incident_id: int, values: dict[str, Any], actor: Actor, now: datetime, may_publish: bool
) -> dict:
    """A new entry (a draft unless ``status`` says otherwise; only ``may_publish`` callers may say so)."""
    cleaned = _clean(values, partial=False)
    if cleaned["status"] != "draft" and not may_publish:
        raise PermissionDenied("Your role may only propose drafts; a manager publishes them.")
    async with db.transaction():
        if not await Incident.exists().where(Incident.id == incident_id).run():
            raise NotFound(f"No incident with id {incident_id}.")
        await _check_talking_points(incident_id, cleaned.get("talking_points_version"))
        reviewed = {"reviewed_by": actor.user_id, "reviewed_at": now} if cleaned["status"] == "published" else {}
        row = FaqEntry(
            incident=incident_id, author=actor.user_id, created_at=now, updated_at=now, **reviewed, **_stored(cleaned)
        )
        await row.save().run()
        entry = await queries.get(row.id)
        await search.reindex(entry)
        changes = {k: {"before": None, "after": entry[k]} for k in EDITABLE if entry.get(k) is not None}
        await (
            FaqRevision(entry=row.id, at=now, by=actor.user_id, action="create", changes=json.dumps(changes))
            .save()
            .run()
        )
        await log_change(
            actor=actor,
            action="faq.create",
            entity="faq_entry",
            record_id=row.id,
            after={"incident": incident_id, **cleaned},
            at=now,
        )
    return entry


async def update_entry(*, entry_id: int, values: dict[str, Any], actor: Actor, now: datetime) -> dict:
    """Change some fields; ``reviewed: true`` marks the entry reviewed by the actor now, and so does publishing
    (see the module docstring); on an entry that is (or becomes) a draft or retired it is refused, naming
    ``reviewed``. Retiring removes the entry from search; publishing a retired entry again brings it back."""
    reviewed = bool(values.get("reviewed"))
    cleaned = _clean({k: v for k, v in values.items() if k != "reviewed"}, partial=True)
    async with db.transaction():
        before = await _locked(entry_id)
        if "talking_points_version" in cleaned:
            await _check_talking_points(before["incident"], cleaned["talking_points_version"])
        changed = {k: v for k, v in cleaned.items() if before[k] != v}
        if reviewed and changed.get("status", before["status"]) != "published":
            # Reviewing vouches for a published answer; a draft or retired one is not being given out.
            raise InvalidInput({"reviewed": "Only a published entry can be marked reviewed."})
        reviewed = reviewed or changed.get("status") == "published"
        if not changed and not reviewed:
            return before
        update: dict[str, Any] = {**_stored(changed), "updated_at": now}
        if reviewed:
            update.update(reviewed_by=actor.user_id, reviewed_at=now)
        await FaqEntry.update(update).where(FaqEntry.id == entry_id).run()
        entry = await queries.get(entry_id)
        await search.reindex(entry)
        changes = {k: {"before": before[k], "after": entry[k]} for k in changed}
        if reviewed:
            changes["reviewed_at"] = {"before": before["reviewed_at"], "after": now}
        action = "retire" if changed.get("status") == "retired" else "update"
        await (
            FaqRevision(entry=entry_id, at=now, by=actor.user_id, action=action, changes=json.dumps(_jsonable(changes)))
            .save()
            .run()
        )
        await log_change(
            actor=actor,
            action=f"faq.{action}",
            entity="faq_entry",
            record_id=entry_id,
            before={k: before[k] for k in changed},
            after={**changed, **({"reviewed": True} if reviewed else {})},
            at=now,
        )
    return entry


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


async def retire(*, entry_id: int, actor: Actor, now: datetime) -> dict:
    return await update_entry(entry_id=entry_id, values={"status": "retired"}, actor=actor, now=now)


async def set_public(*, incident_id: int, public: bool, actor: Actor, now: datetime) -> bool:
    """Show (or stop showing) an incident's published FAQ on the public page; returns the new setting."""
    async with db.transaction():
        query = Incident.select(Incident.id, Incident.faq_public).where(Incident.id == incident_id)
        if not db.is_sqlite():
            query = query.lock_rows()
        row = await query.first().run()
        if row is None:
            raise NotFound(f"No incident with id {incident_id}.")
        if bool(row["faq_public"]) != public:
            await Incident.update({Incident.faq_public: public}).where(Incident.id == incident_id).run()
            await log_change(
                actor=actor,
                action="incident.faq_public",
                entity="incident",
                record_id=incident_id,
                before={"faq_public": bool(row["faq_public"])},
                after={"faq_public": public},
                at=now,
            )
    return public
