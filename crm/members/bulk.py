"""Many interactions or members at once: for imports, and for the bulk API to come.

The rules are those of one-at-a-time writes — ``interactions.clean``, ``service.clean_profile/clean_topics/
clean_handles``, members matched by handle on the platform (case-insensitive, without @) or by email, an
interaction seen before on the same platform + external id is a duplicate, erased people are refused, never
re-created — and so is the result; only the statements differ. A batch is planned from a few lookups (one
statement each, the keys passed as a single array parameter), then written with multi-row INSERTs, and the
engagement rollup is folded in with one UPDATE of ``member`` and one upsert of ``member_day`` per batch,
computed exactly as ``engagement.apply_interaction`` computes it row by row (same order, same arithmetic).

SQL is raw here where the ORM would bind and compile one parameter per cell (~10 µs each): multi-row statements
run on the transaction's own connection with placeholders written for the engine, in chunks under the
bound-parameter limits (32,766 on SQLite, 32,767 on asyncpg); lookups pass one array (PostgreSQL) or JSON
(SQLite) parameter. Both engines are tested (tests/imports).

Bulk writers take turns per batch (a transaction-level advisory lock on PostgreSQL; SQLite's BEGIN IMMEDIATE
already serialises writers), so two imports at once interleave whole batches and each plans against what the
other committed. A one-at-a-time write racing a batch for the same new handle or external id makes the batch
fail on the unique key; callers retry the batch (``is_unique_violation``), which then sees that row.

A dry run plans each batch against the database plus what earlier batches of the same run would have written
(``DryRun``), and writes nothing; that memory grows with the distinct people and ids in the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from crm import db, validation
from crm.audit.service import Actor, log_change
from crm.members import engagement, erasure, interactions
from crm.members.service import MAX_TOPICS, clean_handles, clean_profile, clean_topics, handle_key
from crm.preferences.tables import AppSetting

MAX_PARAMS = 30_000  # per statement: under SQLite's 32,766 and asyncpg's 32,767
BULK_LOCK = 0x63726D_696D70  # pg_advisory_xact_lock key shared by bulk writers
ROLLUP_TYPES = (
    "integer",
    "integer",
    "timestamptz",
    "timestamptz",
    "double precision",
    "double precision",
    "timestamptz",
)
TOPIC_TYPES = ("integer", "text", "text")
LABELS = ("kind", "occurred_at", "sentiment", "sentiment_reason", "troll", "text")  # compared on a duplicate


# ---- statements --------------------------------------------------------------------------------------------


def _pg() -> bool:
    return not db.is_sqlite()


def _connection():
    transaction = db.engine().current_transaction.get()
    if transaction is None:
        raise RuntimeError("bulk statements must run inside db.transaction()")
    return transaction.connection


def _sql_value(value: Any) -> Any:
    """A value as the engine's driver takes it in a JSON array (SQLite): what Piccolo's adapters store."""
    if isinstance(value, datetime):
        return str(value.astimezone(UTC))
    return value


def _any(column: str, values: Sequence[Any], pg_type: str) -> tuple[str, Any]:
    """``column`` is one of ``values``, with one bound parameter: an array on PostgreSQL, JSON on SQLite."""
    if _pg():
        return f"{column} = ANY({{}}::{pg_type}[])", list(values)
    return f"{column} IN (SELECT value FROM json_each({{}}))", json.dumps([_sql_value(v) for v in values])


def _placeholders(sql: str) -> str:
    if not _pg():
        return sql.replace("{}", "?")
    parts = sql.split("{}")
    return "".join(f"{part}${n}" if n < len(parts) else part for n, part in enumerate(parts, start=1))


async def _fetch(sql: str, *args: Any) -> list[dict]:
    """A statement with a few ``{}`` parameters on the transaction's connection."""
    connection = _connection()
    if _pg():
        return [dict(r) for r in await connection.fetch(_placeholders(sql), *args)]
    async with connection.execute(_placeholders(sql), args) as cursor:
        return list(await cursor.fetchall())


async def _rows(head: str, rows: Sequence[Sequence[Any]], types: Sequence[str], tail: str = "") -> list[dict]:
    """``head <rows> tail``, where <rows> is a row source of ``rows`` typed ``types`` (PostgreSQL type names):
    multi-row VALUES on SQLite, in as few statements as its parameter limit allows; one
    ``SELECT * FROM unnest($1::type[], ...)`` on PostgreSQL (one array per column: no limit, and asyncpg binds
    arrays far faster than thousands of scalars). Returns what RETURNING gave."""
    if not rows:
        return []
    width = len(types)
    connection = _connection()
    if _pg():
        arrays = [[row[n] for row in rows] for n in range(width)]
        source = "SELECT * FROM unnest(" + ", ".join(f"${n + 1}::{t}[]" for n, t in enumerate(types)) + ")"
        return [dict(r) for r in await connection.fetch(f"{head} {source} {tail}", *arrays)]
    out: list[dict] = []
    per_statement = max(1, MAX_PARAMS // width)
    group = "(" + ", ".join("?" * width) + ")"
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        sql = f"{head} VALUES {', '.join([group] * len(chunk))} {tail}"
        async with connection.execute(sql, [value for row in chunk for value in row]) as cursor:
            out.extend(await cursor.fetchall())
    return out


async def _insert_returning_ids(
    table: str, columns: Sequence[str], types: Sequence[str], rows: Sequence[Sequence[Any]]
) -> list[int]:
    """Insert rows, returning their new ids in the order given. Ids are assigned as the rows are inserted, in
    order, within one statement, and RETURNING's own order is not promised: sorting the ids restores the order."""
    ids: list[int] = []
    per_statement = max(1, MAX_PARAMS // len(columns))
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        returned = await _rows(f"INSERT INTO {table} ({', '.join(columns)})", chunk, types, "RETURNING id")
        assert len(returned) == len(chunk)
        ids.extend(sorted(r["id"] for r in returned))
    return ids


async def erased_among(identifiers: list[str]) -> set[str]:
    """Which of ``identifiers`` (handle keys, "email:...") belong to erased people: ``erasure.is_erased`` for many
    at once, in one query (same salt, same digests)."""
    row = await AppSetting.select(AppSetting.value).where(AppSetting.key == erasure.SALT_KEY).first().run()
    if row is None or not identifiers:  # nobody was ever erased
        return set()
    by_digest = {erasure._digest(row["value"], identifier): identifier for identifier in identifiers}  # noqa: SLF001
    where, param = _any("digest", list(by_digest), "text")
    return {by_digest[r["digest"]] for r in await _fetch(f"SELECT digest FROM erased_identity WHERE {where}", param)}


async def take_turn() -> None:
    """Bulk writers take turns per batch (see the module's docstring). Call first in the batch's transaction."""
    if _pg():
        await _fetch("SELECT pg_advisory_xact_lock({})", BULK_LOCK)


# ---- the rollup, in bulk -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One interaction to fold into its member's rollup."""

    member_id: int
    kind: str
    sentiment: str
    troll: bool
    at: datetime


async def fold_rollups(events: Sequence[Event]) -> None:
    """Fold ``events`` (in the order they were logged) into the members' rollups: one read of the members
    (row-locked on PostgreSQL, in id order), one UPDATE of member and one upsert of member_day, giving what
    ``engagement.apply_interaction`` gives called once per event in the same order."""
    if not events:
        return
    if not db.in_transaction():
        raise RuntimeError("fold_rollups must run inside db.transaction()")
    ids = sorted({e.member_id for e in events})
    where, param = _any("id", ids, "integer")
    lock = " FOR NO KEY UPDATE" if _pg() else ""  # as apply_interaction: an inserted interaction holds KEY SHARE
    rows = await _fetch(
        "SELECT id, interactions_total, first_interaction_at, last_interaction_at, score_log2 "
        f"FROM member WHERE {where} ORDER BY id{lock}",
        param,
    )
    state = {
        r["id"]: [r["interactions_total"], r["first_interaction_at"], r["last_interaction_at"], r["score_log2"]]
        for r in rows
    }
    columns = ("total", *engagement.SENTIMENT_COLUMNS, "troll")
    days: dict[tuple[int, Any], dict[str, int]] = {}
    for e in events:
        s = state[e.member_id]
        s[0] += 1
        s[1] = min(filter(None, [s[1], e.at]))
        s[2] = max(filter(None, [s[2], e.at]))
        s[3] = engagement.log2_add(s[3], engagement.log2_term(e.kind, e.at))
        counts = days.setdefault((e.member_id, e.at.astimezone(UTC).date()), dict.fromkeys(columns, 0))
        counts["total"] += 1
        counts["troll" if e.troll else e.sentiment] += 1
    updates = []
    for member_id in ids:
        total, first, last, score = state[member_id]
        gap, quiet_after = engagement.derived(total, first, last)
        updates.append((member_id, total, first, last, score, gap, quiet_after))
    await _rows(
        "WITH v(id, total, first_at, last_at, score, gap, quiet) AS (",
        updates,
        ROLLUP_TYPES,
        ") UPDATE member SET interactions_total = v.total, first_interaction_at = v.first_at, "
        "last_interaction_at = v.last_at, score_log2 = v.score, usual_gap_seconds = v.gap, quiet_after = v.quiet "
        "FROM v WHERE member.id = v.id",
    )
    day_rows = sorted(
        (engagement._day_key(member_id, day), member_id, day, *counts.values())  # noqa: SLF001 (the rollup's own key)
        for (member_id, day), counts in days.items()
    )
    increments = ", ".join(f"{c} = member_day.{c} + excluded.{c}" for c in columns)
    await _rows(
        f"INSERT INTO member_day (key, member, day, {', '.join(columns)})",
        day_rows,
        ("text", "integer", "date", *["integer"] * len(columns)),
        f"ON CONFLICT (key) DO UPDATE SET {increments}",
    )


# ---- interactions ------------------------------------------------------------------------------------------


@dataclass
class InteractionIn:
    """One interaction to log, cleaned (``clean_interaction``), with who did it and what the row says about
    them: a new member gets the name, email, time zone and topics; a known one gets the time zone when they
    have none, and the topics they lack."""

    index: int  # the caller's position: a line of a file, an item of a request
    values: dict[str, Any]  # interactions.clean's fields plus sentiment_reason
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
    if values.get("incident_id") is not None:
        errors["incident_id"] = "Linking to an incident is not supported in bulk; link them from the incident."
    cleaned = interactions.clean(values, now, errors)
    cleaned.pop("incident_id", None)
    cleaned["sentiment_reason"] = validation.text(
        values.get("sentiment_reason"), "sentiment_reason", errors, max_length=200
    )
    handle = (values.get("handle") or "").strip().lstrip("@").strip()
    if len(handle) > 200:
        errors["handle"] = "Use at most 200 characters."
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
    if member_id is None and not handle and not profile.get("email"):
        errors.setdefault("handle", "Give member_id, or platform and handle (or the member's email).")
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


MEMBER_COLUMNS = ("name", "email", "time_zone", "created_at", "updated_at")
MEMBER_TYPES = ("text", "text", "text", "timestamptz", "timestamptz")
INTERACTION_COLUMNS = (
    "member",
    "platform",
    "kind",
    "occurred_at",
    "sentiment",
    "sentiment_reason",
    "text",
    "url",
    "external_id",
    "external_key",
    "troll",
    "logged_by",
    "created_at",
)
INTERACTION_TYPES = ("integer", *["text"] * 2, "timestamptz", *["text"] * 6, "boolean", "integer", "timestamptz")


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


# ---- members -----------------------------------------------------------------------------------------------

PROFILE = (
    "name",
    "email",
    "tier",
    "location",
    "language",
    "time_zone",
    "notes",
    "consent_private_briefing",
    "do_not_contact",
)


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
