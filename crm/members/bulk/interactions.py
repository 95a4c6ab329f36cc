"""Many interactions at once: planned from a few lookups, written with multi-row statements."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crm import db
from crm.audit.service import Actor, log_change
from crm.members import links
from crm.members.bulk.items import ERASED, BulkResult, DryRun, InteractionIn, Outcome, _Person
from crm.members.bulk.rollups import Event, fold_rollups
from crm.members.bulk.sql import (
    INTERACTION_COLUMNS,
    INTERACTION_TYPES,
    LABELS,
    MEMBER_COLUMNS,
    MEMBER_TYPES,
    TOPIC_TYPES,
    _any,
    _fetch,
    _insert_returning_ids,
    _rows,
    erased_among,
    take_turn,
)
from crm.members.service import handle_key


def _labels(values: dict[str, Any]) -> dict[str, Any]:
    return {k: values.get(k) for k in LABELS}


def _differs(kept: dict[str, Any], given: dict[str, Any]) -> dict[str, tuple[Any, Any]] | None:
    out = {k: (kept.get(k), given.get(k)) for k in LABELS if kept.get(k) != given.get(k)}
    return out or None


def _content_key(member_id: int, values: dict[str, Any]) -> tuple:
    return (member_id, values["platform"], values["kind"], values["occurred_at"], values["text"])


async def log_interactions(
    items: Sequence[InteractionIn],
    *,
    actor: Actor,
    now: datetime,
    dedupe_content: bool = False,
    dry_run: DryRun | None = None,
    source: dict[str, Any] | None = None,
) -> BulkResult:
    """Log cleaned ``items`` in one transaction (joining the caller's): one outcome per item, in order.

    ``dedupe_content``: an item without an external id is also a duplicate of an interaction of the same
    member, platform, kind, time and text (so a file without ids imports once). ``dry_run``: plan only, against
    the database plus what earlier batches of the run would have written; nothing is written. ``source`` goes
    into the batch's audit entry (an import job and its lines, say).
    """
    async with db.transaction():
        await take_turn()
        plan = await _plan_interactions(items, dedupe_content=dedupe_content, dry_run=dry_run)
        if dry_run is not None:
            _remember(plan, dry_run)
        else:
            await _write_interactions(plan, actor=actor, now=now, source=source)
        return plan.result


@dataclass
class _Plan:
    result: BulkResult
    people: list[_Person]  # everyone the batch creates or changes
    creates: list[tuple[InteractionIn, _Person, Outcome]]
    in_batch_duplicates: list[tuple[Outcome, Outcome]]  # (duplicate, the outcome of the item it repeats)


async def _plan_interactions(items: Sequence[InteractionIn], *, dedupe_content: bool, dry_run: DryRun | None) -> _Plan:
    incidents = await _known_incidents(items)
    external_keys = sorted(
        {f"{i.values['platform']}:{i.values['external_id']}" for i in items if i.values.get("external_id")}
    )
    stored: dict[str, dict] = {}
    if external_keys:
        where, param = _any("external_key", external_keys, "text")
        for row in await _fetch(
            "SELECT id, external_key, member, kind, occurred_at, sentiment, sentiment_reason, troll, text "
            f"FROM interaction WHERE {where}",
            param,
        ):
            stored[row["external_key"]] = row
    keys = sorted({handle_key(i.values["platform"], i.handle) for i in items if i.handle})
    by_handle: dict[str, int] = {}
    if keys:
        where, param = _any("key", keys, "text")
        by_handle = {
            r["key"]: r["member"] for r in await _fetch(f"SELECT key, member FROM member_handle WHERE {where}", param)
        }
    emails = sorted({i.email for i in items if i.email})
    by_email: dict[str, int] = {}
    if emails:
        where, param = _any("email", emails, "text")
        by_email = {r["email"]: r["id"] for r in await _fetch(f"SELECT id, email FROM member WHERE {where}", param)}
    known_ids = sorted({*by_handle.values(), *by_email.values(), *(i.member_id for i in items if i.member_id)})
    members: dict[int, dict] = {}
    topics: dict[int, list[str]] = {m: [] for m in known_ids}
    if known_ids:
        where, param = _any("id", known_ids, "integer")
        members = {
            r["id"]: r
            for r in await _fetch(
                f"SELECT id, deleted_at, erased_at, merged_into, time_zone FROM member WHERE {where}", param
            )
        }
        where, param = _any("member", known_ids, "integer")
        for r in await _fetch(f"SELECT member, topic FROM member_topic WHERE {where} ORDER BY id", param):
            topics[r["member"]].append(r["topic"])
    # Identifiers nobody has yet: are they an erased person's?
    fresh = [k for k in keys if k not in by_handle and not (dry_run and k in dry_run.handles)]
    fresh += [f"email:{e}" for e in emails if e not in by_email and not (dry_run and e in dry_run.emails)]
    erased = await erased_among(fresh)

    people: dict[int, _Person] = {}  # known members by id (stand-ins included)
    new_by_handle: dict[str, _Person] = {}
    new_by_email: dict[str, _Person] = {}
    new_people: list[_Person] = []

    def known(member_id: int) -> _Person:
        if member_id not in people:
            if dry_run is not None and member_id in dry_run.people:
                earlier = dry_run.people[member_id]
                people[member_id] = _Person(
                    id=member_id, new=False, time_zone=earlier.time_zone, topics=list(earlier.topics)
                )
            else:
                row = members[member_id]
                people[member_id] = _Person(
                    id=member_id, new=False, time_zone=row["time_zone"], topics=list(topics[member_id])
                )
        return people[member_id]

    def live(member_id: int) -> bool:
        row = members.get(member_id)
        if row is None:  # a dry run's stand-in, or a member it would have given a handle
            return dry_run is not None and member_id in dry_run.people
        return row["deleted_at"] is None and row["erased_at"] is None and row["merged_into"] is None

    def resolve(item: InteractionIn) -> _Person | Outcome:
        if item.member_id is not None:
            if not live(item.member_id):
                return Outcome(item.index, "rejected", field="member_id", error=f"No member with id {item.member_id}.")
            return known(item.member_id)
        key = handle_key(item.values["platform"], item.handle) if item.handle else None
        if key:
            member_id = by_handle.get(key) or (dry_run.handles.get(key) if dry_run else None)
            if member_id is not None:
                if not live(member_id):
                    message = f"Belongs to member {member_id} (deleted, merged or erased)."
                    return Outcome(item.index, "rejected", field="handle", error=message)
                return known(member_id)
            if key in new_by_handle:
                return new_by_handle[key]
        if item.email:
            member_id = by_email.get(item.email) or (dry_run.emails.get(item.email) if dry_run else None)
            person: _Person | None = None
            if member_id is not None:
                if not live(member_id):
                    message = f"Belongs to member {member_id} (deleted, merged or erased)."
                    return Outcome(item.index, "rejected", field="member_email", error=message)
                person = known(member_id)
            elif item.email in new_by_email:
                person = new_by_email[item.email]
            if person is not None:
                if key:  # a new handle for someone we know by email
                    if key in erased:
                        return Outcome(item.index, "erased", field="handle", error=ERASED)
                    person.add_handles[key] = (item.values["platform"], item.handle)
                    new_by_handle[key] = person
                return person
        if key in erased or (item.email and f"email:{item.email}" in erased):
            return Outcome(item.index, "erased", field="handle" if key in erased else "member_email", error=ERASED)
        person = _Person(id=None, new=True, name=item.name or item.handle or item.email or "", email=item.email)
        if key:
            person.add_handles[key] = (item.values["platform"], item.handle)
            new_by_handle[key] = person
        if item.email:
            new_by_email[item.email] = person
        new_people.append(person)
        return person

    outcomes: list[Outcome] = []
    creates: list[tuple[InteractionIn, _Person, Outcome]] = []
    in_batch: dict[str, tuple[InteractionIn, Outcome]] = {}
    in_batch_duplicates: list[tuple[Outcome, Outcome]] = []
    stored_content: set[tuple] = set()
    if dedupe_content:
        stored_content = await _stored_content(items, by_handle, by_email)
    batch_content: dict[tuple, Outcome] = {}
    for item in items:
        values = item.values
        incident_id = values.get("incident_id")
        if incident_id is not None and incident_id not in incidents:
            outcome = Outcome(item.index, "rejected", field="incident_id", error=f"No incident with id {incident_id}.")
            outcomes.append(outcome)
            continue
        key = f"{values['platform']}:{values['external_id']}" if values.get("external_id") else None
        if key and key in stored:
            row = stored[key]
            outcome = Outcome(
                item.index, "duplicate", id=row["id"], member_id=row["member"], differs=_differs(row, values)
            )
            outcomes.append(outcome)
            continue
        if key and key in in_batch:
            first, first_outcome = in_batch[key]
            outcome = Outcome(item.index, "duplicate", differs=_differs(first.values, values), kept_index=first.index)
            outcomes.append(outcome)
            in_batch_duplicates.append((outcome, first_outcome))
            continue
        if key and dry_run is not None and key in dry_run.external:
            outcomes.append(Outcome(item.index, "duplicate", differs=_differs(dry_run.external[key], values)))
            continue
        target = resolve(item)
        if isinstance(target, Outcome):
            outcomes.append(target)
            continue
        if not key and dedupe_content:
            content = _content_key(target.id, values) if target.id is not None else None
            if content is not None and (
                content in stored_content or (dry_run is not None and content in dry_run.content)
            ):
                outcomes.append(Outcome(item.index, "duplicate", member_id=target.id))
                continue
            local = (id(target), values["platform"], values["kind"], values["occurred_at"], values["text"])
            if local in batch_content:
                first_outcome = batch_content[local]
                outcome = Outcome(item.index, "duplicate", kept_index=first_outcome.index)
                outcomes.append(outcome)
                in_batch_duplicates.append((outcome, first_outcome))
                continue
        target.absorb(item)
        outcome = Outcome(item.index, "created", member_id=target.id)
        outcomes.append(outcome)
        creates.append((item, target, outcome))
        if key:
            in_batch[key] = (item, outcome)
        elif dedupe_content:
            batch_content[(id(target), values["platform"], values["kind"], values["occurred_at"], values["text"])] = (
                outcome
            )
    changed = [p for p in people.values() if p.changed]
    result = BulkResult(outcomes=outcomes, members_updated=[p.id for p in changed])
    return _Plan(result=result, people=new_people + changed, creates=creates, in_batch_duplicates=in_batch_duplicates)


async def _known_incidents(items: Sequence[InteractionIn]) -> set[int]:
    """The incidents ``items`` link to that exist, asked once per distinct id of the incidents domain's check (the
    one the single-row service asks: crm/members/links.py). A request names a few incidents at most."""
    wanted = sorted({i.values["incident_id"] for i in items if i.values.get("incident_id") is not None})
    return {incident_id for incident_id in wanted if await links.incident_exists(incident_id)}


async def _stored_content(items: Sequence[InteractionIn], by_handle: dict, by_email: dict) -> set[tuple]:
    """Content keys of stored interactions without an external id, for the known members and times of ``items``."""
    member_ids, times = set(), set()
    for item in items:
        if item.values.get("external_id"):
            continue
        key = handle_key(item.values["platform"], item.handle) if item.handle else None
        member_id = item.member_id or by_handle.get(key) or by_email.get(item.email)
        if member_id is not None:
            member_ids.add(member_id)
            times.add(item.values["occurred_at"])
    if not member_ids:
        return set()
    in_members, members_param = _any("member", sorted(member_ids), "integer")
    in_times, times_param = _any("occurred_at", sorted(times), "timestamptz")
    rows = await _fetch(
        "SELECT member, platform, kind, occurred_at, text FROM interaction "
        f"WHERE external_key IS NULL AND {in_members} AND {in_times}",
        members_param,
        times_param,
    )
    return {_content_key(r["member"], r) for r in rows}


def _remember(plan: _Plan, dry_run: DryRun) -> None:
    """A dry run's batch: remember what it would have written, give stand-in ids, count as a real run would."""
    created = []
    for person in plan.people:
        if person.new:
            person.id = dry_run.stand_in()
            created.append(person.id)
            if person.email:
                dry_run.emails[person.email] = person.id
        for key in person.add_handles:
            dry_run.handles[key] = person.id
        dry_run.people[person.id] = person
    plan.result.members_created = created
    for item, person, outcome in plan.creates:
        outcome.member_id = person.id
        values = item.values
        if values.get("external_id"):
            dry_run.external[f"{values['platform']}:{values['external_id']}"] = _labels(values)
        else:
            dry_run.content.add(_content_key(person.id, values))


async def _write_interactions(plan: _Plan, *, actor: Actor, now: datetime, source: dict[str, Any] | None) -> None:
    new = [p for p in plan.people if p.new]
    ids = await _insert_returning_ids(
        "member", MEMBER_COLUMNS, MEMBER_TYPES, [(p.name, p.email, p.time_zone, now, now) for p in new]
    )
    for person, member_id in zip(new, ids, strict=True):
        person.id = member_id
    plan.result.members_created = ids
    await _write_people_extras(plan.people, now=now)
    rows = []
    for item, person, outcome in plan.creates:
        v = item.values
        outcome.member_id = person.id
        external_key = f"{v['platform']}:{v['external_id']}" if v.get("external_id") else None
        rows.append(
            (
                person.id,
                v["platform"],
                v["kind"],
                v["occurred_at"],
                v["sentiment"],
                v["sentiment_reason"],
                v["text"],
                v["url"],
                v["external_id"],
                external_key,
                v["troll"],
                v.get("incident_id"),
                actor.user_id,
                now,
            )
        )
    interaction_ids = await _insert_returning_ids("interaction", INTERACTION_COLUMNS, INTERACTION_TYPES, rows)
    for (_, _, outcome), interaction_id in zip(plan.creates, interaction_ids, strict=True):
        outcome.id = interaction_id
    for duplicate, first in plan.in_batch_duplicates:
        duplicate.id, duplicate.member_id = first.id, first.member_id
    plan.result.ids = interaction_ids
    await fold_rollups(
        [
            Event(
                person.id,
                item.values["kind"],
                item.values["sentiment"],
                item.values["troll"],
                item.values["occurred_at"],
            )
            for item, person, _ in plan.creates
        ]
    )
    await links.interactions_added(interaction_ids)  # the incidents' conversation counts: one upsert
    if interaction_ids or plan.people:
        await log_change(
            actor=actor,
            action="interaction.bulk_create",
            entity="interaction",
            after={
                "interactions": len(interaction_ids),
                "ids": interaction_ids,
                "members_created": plan.result.members_created,
                "members_updated": plan.result.members_updated,
                "duplicates": sum(1 for o in plan.result.outcomes if o.status == "duplicate"),
                "refused": sum(1 for o in plan.result.outcomes if o.status in ("rejected", "erased")),
                **(source or {}),
            },
            at=now,
        )


async def _write_people_extras(people: Iterable[_Person], *, now: datetime) -> None:
    """Handles, topics and time zones of the people a batch creates or changes (ids known)."""
    people = list(people)
    handles = [
        (p.id, platform, handle, key) for p in people for key, (platform, handle) in sorted(p.add_handles.items())
    ]
    await _rows("INSERT INTO member_handle (member, platform, handle, key)", handles, ("integer", *["text"] * 3))
    topics = [(p.id, t, f"{p.id}:{t}") for p in people for t in (p.topics if p.new else p.add_topics)]
    await _rows("INSERT INTO member_topic (member, topic, key)", topics, TOPIC_TYPES, "ON CONFLICT (key) DO NOTHING")
    zones = [(p.id, p.set_time_zone) for p in people if not p.new and p.set_time_zone]
    await _rows(
        "WITH v(id, time_zone) AS (",
        zones,
        ("integer", "text"),
        ") UPDATE member SET time_zone = v.time_zone FROM v WHERE member.id = v.id AND member.time_zone = ''",
    )
    changed = [p.id for p in people if not p.new]
    if changed:
        where, param = _any("id", changed, "integer")
        await _fetch(f"UPDATE member SET updated_at = {{}} WHERE {where}", now, param)
