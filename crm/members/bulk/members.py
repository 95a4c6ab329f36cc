"""Many members at once: matched by handle or email, created or updated with multi-row statements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crm import db
from crm.audit.service import Actor, log_change
from crm.members.bulk.items import ERASED, BulkResult, DryRun, Outcome
from crm.members.bulk.sql import (
    PROFILE,
    TOPIC_TYPES,
    _any,
    _fetch,
    _insert_returning_ids,
    _rows,
    erased_among,
    take_turn,
)
from crm.members.service import MAX_TOPICS, clean_handles, clean_profile, clean_topics


@dataclass
class MemberIn:
    """One member to create or update, cleaned (``clean_member``). Only the fields present are written: an
    import never blanks what a member has. Topics and handles are added to theirs."""

    index: int
    profile: dict[str, Any]
    topics: list[str] = field(default_factory=list)
    handles: list[dict[str, Any]] = field(default_factory=list)  # clean_handles' dicts (platform, handle, key, ...)


def clean_member(values: dict[str, Any], now: datetime) -> tuple[MemberIn | None, dict[str, str]]:
    """Validate one member as ``service.create_member``/``update_member`` do (``clean_profile``, ``clean_topics``,
    ``clean_handles``), only for the fields present. A member needs an email or a handle, to be found again."""
    errors: dict[str, str] = {}
    present = {k: v for k, v in values.items() if k in PROFILE and v not in (None, "")}
    profile = clean_profile(present, errors, partial=True)
    topics = clean_topics(values.get("topics"), errors) if values.get("topics") else []
    handles = clean_handles(values.get("handles"), errors) if values.get("handles") else []
    if (
        not profile.get("email")
        and not handles
        and "email" not in errors
        and not any(k.startswith("handles") for k in errors)
    ):
        errors["email"] = "Give an email or a handle, so the member can be found again."
    if errors:
        return None, errors
    return MemberIn(index=-1, profile=profile, topics=topics, handles=handles), {}


@dataclass
class _Member:
    """A member a batch of member rows creates or updates: what they have, and what the batch changes."""

    id: int | None
    new: bool
    profile: dict[str, Any]
    topics: list[str]
    handles: dict[str, dict[str, Any]]  # key -> handle (id when stored)
    before: dict[str, Any] = field(default_factory=dict)  # changed fields, as they were
    add_topics: list[str] = field(default_factory=list)
    add_handles: list[str] = field(default_factory=list)  # keys
    update_handles: list[str] = field(default_factory=list)  # keys whose followers or link changed

    @property
    def changed(self) -> bool:
        return bool(self.before or self.add_topics or self.add_handles or self.update_handles)

    def apply(self, item: MemberIn) -> bool:
        """Fold a row into the member; True when it changed anything."""
        changed = False
        for name, value in item.profile.items():
            if self.profile.get(name) != value:
                if not self.new and name not in self.before:
                    self.before[name] = self.profile.get(name)
                self.profile[name] = value
                changed = True
        for topic in item.topics:
            if topic not in self.topics and len(self.topics) < MAX_TOPICS:
                self.topics.append(topic)
                if not self.new:
                    self.add_topics.append(topic)
                changed = True
        for handle in item.handles:
            key = handle["key"]
            have = self.handles.get(key)
            if have is None:
                self.handles[key] = dict(handle)
                if not self.new:
                    self.add_handles.append(key)
                changed = True
                continue
            for name in ("followers", "url"):
                if handle.get(name) is not None and have.get(name) != handle[name]:
                    have[name] = handle[name]
                    if not self.new and key not in self.add_handles and key not in self.update_handles:
                        self.update_handles.append(key)
                    changed = True
        return changed


async def upsert_members(
    items: Sequence[MemberIn],
    *,
    actor: Actor,
    now: datetime,
    dry_run: DryRun | None = None,
    source: dict[str, Any] | None = None,
) -> BulkResult:
    """Create or update the members ``items`` describe, matched by email or by any of their handles; one
    outcome per item (created, updated, unchanged, rejected, erased). A row matching two different members is
    refused (merge them first). Each updated member gets its own audit entry (before and after, as
    ``update_member`` writes); the batch gets one summary entry."""
    async with db.transaction():
        await take_turn()
        plan = await _plan_members(items, dry_run=dry_run)
        if dry_run is not None:
            for person in plan.members:
                if person.new:
                    person.id = dry_run.stand_in()
                    plan.result.members_created.append(person.id)
                dry_run.people[person.id] = person  # type: ignore[assignment]
                if person.profile.get("email"):
                    dry_run.emails[person.profile["email"]] = person.id
                for key in person.handles:
                    dry_run.handles[key] = person.id
        else:
            await _write_members(plan, actor=actor, now=now, source=source)
        return plan.result


@dataclass
class _MemberPlan:
    result: BulkResult
    members: list[_Member]  # created or changed
    outcomes: list[tuple[Outcome, _Member]]


async def _plan_members(items: Sequence[MemberIn], *, dry_run: DryRun | None) -> _MemberPlan:
    emails = sorted({i.profile["email"] for i in items if i.profile.get("email")})
    keys = sorted({h["key"] for i in items for h in i.handles})
    by_email: dict[str, int] = {}
    if emails:
        where, param = _any("email", emails, "text")
        by_email = {r["email"]: r["id"] for r in await _fetch(f"SELECT id, email FROM member WHERE {where}", param)}
    by_handle: dict[str, int] = {}
    if keys:
        where, param = _any("key", keys, "text")
        by_handle = {
            r["key"]: r["member"] for r in await _fetch(f"SELECT key, member FROM member_handle WHERE {where}", param)
        }
    known_ids = sorted({*by_email.values(), *by_handle.values()})
    rows: dict[int, dict] = {}
    topics: dict[int, list[str]] = {m: [] for m in known_ids}
    handles: dict[int, dict[str, dict]] = {m: {} for m in known_ids}
    if known_ids:
        where, param = _any("id", known_ids, "integer")
        columns = ", ".join(PROFILE)
        rows = {
            r["id"]: r
            for r in await _fetch(
                f"SELECT id, {columns}, deleted_at, erased_at, merged_into FROM member WHERE {where}", param
            )
        }
        where, param = _any("member", known_ids, "integer")
        for r in await _fetch(f"SELECT member, topic FROM member_topic WHERE {where} ORDER BY id", param):
            topics[r["member"]].append(r["topic"])
        for r in await _fetch(
            f"SELECT id, member, platform, handle, key, followers, url FROM member_handle WHERE {where}", param
        ):
            handles[r["member"]][r["key"]] = r
    fresh = [f"email:{e}" for e in emails if e not in by_email and not (dry_run and e in dry_run.emails)]
    fresh += [k for k in keys if k not in by_handle and not (dry_run and k in dry_run.handles)]
    erased = await erased_among(fresh)

    states: dict[int, _Member] = {}
    pending_email: dict[str, _Member] = {}
    pending_handle: dict[str, _Member] = {}
    created: list[_Member] = []

    def known(member_id: int) -> _Member | None:
        """The member's state, or None when they are deleted, merged or erased."""
        if member_id in states:
            return states[member_id]
        if member_id not in rows:  # a dry run's stand-in, or a member it changed
            earlier = dry_run.people[member_id] if dry_run else None
            state = _Member(
                id=member_id,
                new=False,
                profile=dict(earlier.profile),  # type: ignore[union-attr]
                topics=list(earlier.topics),  # type: ignore[union-attr]
                handles={k: dict(v) for k, v in earlier.handles.items()},  # type: ignore[union-attr]
            )
        else:
            row = rows[member_id]
            if row["deleted_at"] is not None or row["erased_at"] is not None or row["merged_into"] is not None:
                return None
            if dry_run is not None and member_id in dry_run.people:
                earlier = dry_run.people[member_id]
                profile, member_topics = dict(earlier.profile), list(earlier.topics)  # type: ignore[attr-defined]
                member_handles = {k: dict(v) for k, v in earlier.handles.items()}  # type: ignore[attr-defined]
            else:
                profile = {name: row[name] for name in PROFILE}
                member_topics, member_handles = list(topics[member_id]), handles[member_id]
            state = _Member(id=member_id, new=False, profile=profile, topics=member_topics, handles=member_handles)
        states[member_id] = state
        return state

    outcomes: list[tuple[Outcome, _Member | None]] = []
    for item in items:
        email = item.profile.get("email")
        matches: dict[int, tuple[str, _Member | None]] = {}  # id(state) or member id -> (identifier, state)
        refused: Outcome | None = None
        for identifier, pending, stored, stand_in in (
            [
                (
                    f"email {email}",
                    pending_email.get(email),
                    by_email.get(email),
                    dry_run.emails.get(email) if dry_run else None,
                )
            ]
            if email
            else []
        ) + [
            (
                h["key"],
                pending_handle.get(h["key"]),
                by_handle.get(h["key"]),
                dry_run.handles.get(h["key"]) if dry_run else None,
            )
            for h in item.handles
        ]:
            if pending is not None:
                matches[id(pending)] = (identifier, pending)
                continue
            member_id = stored if stored is not None else stand_in
            if member_id is None:
                continue
            state = known(member_id)
            if state is None:
                field_name = "email" if identifier.startswith("email ") else "handles"
                message = f"{identifier} belongs to member {member_id} (deleted, merged or erased)."
                refused = Outcome(item.index, "rejected", field=field_name, error=message)
                break
            matches[id(state)] = (identifier, state)
        if refused is not None:
            outcomes.append((refused, None))
            continue
        if len(matches) > 1:
            found = "; ".join(f"{ident} is member {s.id or 'new in this file'}" for ident, s in matches.values())
            message = f"This row matches two members ({found}): merge them first."
            outcomes.append(
                (Outcome(item.index, "rejected", field="email" if email else "handles", error=message), None)
            )
            continue
        target = next(iter(matches.values()))[1] if matches else None
        identifiers = (
            [f"email:{email}"] if email and (target is None or target.profile.get("email") != email) else []
        ) + [h["key"] for h in item.handles if target is None or h["key"] not in target.handles]
        hit = next((i for i in identifiers if i in erased), None)
        if hit is not None:
            field_name = "email" if hit.startswith("email:") else "handles"
            outcomes.append((Outcome(item.index, "erased", field=field_name, error=ERASED), None))
            continue
        if target is None:
            name = item.profile.get("name") or (item.handles[0]["handle"] if item.handles else (email or ""))
            target = _Member(id=None, new=True, profile={"name": name}, topics=[], handles={})
            created.append(target)
            target.apply(item)
            status = "created"
        else:
            status = "updated" if target.apply(item) else "unchanged"
        if email:
            pending_email[email] = target
        for key in target.handles:
            pending_handle[key] = target
        outcomes.append((Outcome(item.index, status, member_id=target.id), target))
    changed = [s for s in states.values() if s.changed]
    result = BulkResult(outcomes=[o for o, _ in outcomes], members_updated=[s.id for s in changed])
    return _MemberPlan(result=result, members=created + changed, outcomes=[(o, s) for o, s in outcomes if s])


MEMBER_INSERT = (
    "name",
    "email",
    "tier",
    "location",
    "language",
    "time_zone",
    "notes",
    "consent_private_briefing",
    "consent_recorded_at",
    "consent_recorded_by",
    "do_not_contact",
    "reach",
    "created_at",
    "updated_at",
)
MEMBER_INSERT_TYPES = (
    *["text"] * 7,
    "boolean",
    "timestamptz",
    "integer",
    "boolean",
    "integer",
    "timestamptz",
    "timestamptz",
)


async def _write_members(plan: _MemberPlan, *, actor: Actor, now: datetime, source: dict[str, Any] | None) -> None:
    new = [m for m in plan.members if m.new]
    rows = []
    for m in new:
        p = m.profile
        consent = bool(p.get("consent_private_briefing"))
        rows.append(
            (
                p["name"],
                p.get("email"),
                p.get("tier", "member"),
                p.get("location", ""),
                p.get("language", ""),
                p.get("time_zone", ""),
                p.get("notes", ""),
                consent,
                now if consent else None,
                actor.user_id if consent else None,
                bool(p.get("do_not_contact")),
                sum(h.get("followers") or 0 for h in m.handles.values()),
                now,
                now,
            )
        )
    ids = await _insert_returning_ids("member", MEMBER_INSERT, MEMBER_INSERT_TYPES, rows)
    for m, member_id in zip(new, ids, strict=True):
        m.id = member_id
    plan.result.members_created = ids
    for outcome, state in plan.outcomes:
        outcome.member_id = state.id
    handle_rows = []
    for m in plan.members:
        for key in m.handles if m.new else m.add_handles:
            h = m.handles[key]
            handle_rows.append((m.id, h["platform"], h["handle"], key, h.get("followers"), h.get("url")))
    await _rows(
        "INSERT INTO member_handle (member, platform, handle, key, followers, url)",
        handle_rows,
        ("integer", "text", "text", "text", "integer", "text"),
    )
    topic_rows = [(m.id, t, f"{m.id}:{t}") for m in plan.members for t in (m.topics if m.new else m.add_topics)]
    await _rows(
        "INSERT INTO member_topic (member, topic, key)", topic_rows, TOPIC_TYPES, "ON CONFLICT (key) DO NOTHING"
    )
    changed = [m for m in plan.members if not m.new]
    for m in changed:
        for key in m.update_handles:
            h = m.handles[key]
            await _fetch(
                "UPDATE member_handle SET followers = {}, url = {} WHERE key = {}",
                h.get("followers"),
                h.get("url"),
                key,
            )
        if m.before:
            values = {name: m.profile[name] for name in m.before}
            if "consent_private_briefing" in values:
                values["consent_recorded_at"], values["consent_recorded_by"] = now, actor.user_id
            assignments = ", ".join(f"{name} = {{}}" for name in values)
            await _fetch(
                f"UPDATE member SET {assignments}, updated_at = {{}} WHERE id = {{}}", *values.values(), now, m.id
            )
        elif m.changed:
            await _fetch("UPDATE member SET updated_at = {} WHERE id = {}", now, m.id)
    reach = [m.id for m in changed if m.add_handles or m.update_handles]
    if reach:
        where, param = _any("id", reach, "integer")
        await _fetch(
            "UPDATE member SET reach = (SELECT COALESCE(SUM(h.followers), 0) FROM member_handle h "
            f"WHERE h.member = member.id) WHERE {where}",
            param,
        )
    for m in changed:
        before, after = dict(m.before), {name: m.profile[name] for name in m.before}
        if m.add_topics:
            after["topics_added"] = m.add_topics
        if m.add_handles or m.update_handles:
            after["handles"] = [
                {k: m.handles[key].get(k) for k in ("platform", "handle", "followers", "url")}
                for key in [*m.add_handles, *m.update_handles]
            ]
        await log_change(
            actor=actor, action="member.update", entity="member", record_id=m.id, before=before, after=after, at=now
        )
    if plan.members:
        await log_change(
            actor=actor,
            action="member.bulk_import",
            entity="member",
            after={
                "created": plan.result.members_created,
                "updated": plan.result.members_updated,
                "unchanged": sum(1 for o in plan.result.outcomes if o.status == "unchanged"),
                "refused": sum(1 for o in plan.result.outcomes if o.status in ("rejected", "erased")),
                **(source or {}),
            },
            at=now,
        )
