"""``crm bench generate``: the community of community.py written into an empty database.

Members and interactions go through the import's bulk writer (``crm.members.bulk``: multi-row statements, the
engagement rollup folded in per batch, exactly as ``engagement.apply_interaction`` computes it), so the rollups
are the app's own. Incidents, talking points, links, briefings, thank-yous and FAQ entries are few and go through
their services one by one, as people would make them: they get their audit entries, FAQ search index and checks.

What it writes (``Shape`` says how many): three bench users; the members; the interaction log; resolved
incidents over the year, each with approved talking points, linked interactions, briefings (some "helped") and
thank-yous; one incident being handled now with 300 interactions in the
conversation (linked), approved talking points and a few briefings; FAQ entries spread over the incidents."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from crm import db
from crm.accounts import service as accounts
from crm.audit.service import Actor
from crm.bench.community import TOPICS, Community, MemberSpec
from crm.bench.queries import is_empty
from crm.briefings import service as briefings
from crm.errors import InvalidInput
from crm.faq import service as faq
from crm.incidents import service as incidents
from crm.incidents import talking_points
from crm.members import bulk
from crm.thanks import service as thanks

BATCH = 5_000  # interactions per bulk transaction (members: 2,000)
ADMIN, MANAGER, AGENT = "bench-admin@example.com", "bench-manager@example.com", "bench-agent@example.com"
Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True)
class Shape:
    """How many incidents, and how much around each. The benchmark's (``BENCH``) follows issue 13: an incident
    being handled with 300 linked interactions; tests and smoke runs use smaller ones."""

    past_incidents: int = 8
    past_linked: int = 60
    current_linked: int = 300
    current_briefed: int = 25
    past_briefed: int = 12
    keen_percent: int = 12  # advocates and champions among the members: the candidates for a briefing

    @classmethod
    def for_members(cls, members: int) -> Shape:
        if members >= 1_000:
            return cls()
        return cls(past_incidents=2, past_linked=10, current_linked=30, current_briefed=4, past_briefed=3)


@dataclass
class Generated:
    members: int
    interactions: int
    incidents: int
    current_incident: int
    briefings: int
    thanks: int
    faq_entries: int


async def empty_database() -> None:
    """Every table emptied (the benchmark's own database only: ``--force``)."""
    names = [t._meta.tablename for t in db.table_classes() if t._meta.tablename != "migration"]
    if db.is_sqlite():
        async with db.transaction():
            await db.engine().run_ddl("PRAGMA defer_foreign_keys = ON")
            for name in [*names, "faq_fts", "faq_words"]:  # the FAQ's FTS5 indexes are not Piccolo tables
                await db.engine().run_ddl(f"DELETE FROM {name}")
    else:
        await db.engine().run_ddl(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE")


async def generate(
    *,
    members: int,
    interactions: int,
    seed: int = 1,
    faq_entries: int | None = None,
    now: datetime,
    force: bool = False,
    shape: Shape | None = None,
    progress: Progress | None = None,
) -> Generated:
    if members < 20 or interactions < members:
        raise InvalidInput({"members": "At least 20 members, and at least as many interactions as members."})
    if not await is_empty():
        if not force:
            raise InvalidInput({"database": "The database is not empty; use --force to empty it first."})
        await empty_database()
    report = progress or (lambda stage, done, total: None)
    shape = shape or Shape.for_members(members)
    community = Community(members=members, seed=seed, now=now, keen_percent=shape.keen_percent)
    admin, manager = await _users(now)
    ids = await _members(community, now=now, actor=manager, report=report)
    linked = shape.past_incidents * shape.past_linked + shape.current_linked
    background = max(0, interactions - linked)
    await _interactions(community, ids, background, now=now, actor=manager, report=report)
    made = await _incidents(community, ids, shape, now=now, admin=admin, manager=manager, report=report)
    faq_count = members // 10 if faq_entries is None else faq_entries
    await _faq(community, made["incidents"], faq_count, now=now, actor=manager, report=report)
    return Generated(
        members=members,
        interactions=background + made["linked"],
        incidents=len(made["incidents"]),
        current_incident=made["incidents"][-1],
        briefings=made["briefings"],
        thanks=made["thanks"],
        faq_entries=faq_count,
    )


async def _users(now: datetime) -> tuple[Actor, Actor]:
    system = Actor.system("bench")
    password = secrets.token_urlsafe(18)  # nobody signs in: the benchmark uses API tokens (crm bench run)
    made = {}
    for email, role in ((ADMIN, "admin"), (MANAGER, "manager"), (AGENT, "agent")):
        user = await accounts.create_user(
            email=email, name=email.split("@")[0], role=role, password=password, actor=system, now=now
        )
        made[role] = Actor(user_id=user["id"], label=email)
    return made["admin"], made["manager"]


async def _members(community: Community, *, now: datetime, actor: Actor, report: Progress) -> dict[int, int]:
    """Spec index -> member id."""
    ids: dict[int, int] = {}
    specs = community.members
    for start in range(0, len(specs), 2_000):
        items = []
        for spec in specs[start : start + 2_000]:
            values = {
                "name": spec.name,
                "email": spec.email,
                "tier": spec.tier,
                "consent_private_briefing": spec.consent,
                "do_not_contact": spec.do_not_contact,
                "topics": spec.topics,
                "handles": spec.handles,
            }
            item, errors = bulk.clean_member(values, now)
            assert item is not None, errors
            item.index = spec.index
            items.append(item)
        result = await bulk.upsert_members(items, actor=actor, now=now, source={"bench": "members"})
        for outcome in result.outcomes:
            assert outcome.status == "created", outcome
            ids[outcome.index] = outcome.member_id  # type: ignore[assignment]
        report("members", len(ids), len(specs))
    return ids


async def _log(rows: list[dict], ids: dict[int, int], *, now: datetime, actor: Actor) -> list[int]:
    """Interactions through the bulk writer; their new ids, in order."""
    items = []
    for n, row in enumerate(rows):
        item, errors = bulk.clean_interaction({**row["values"], "member_id": ids[row["spec"].index]}, now)
        assert item is not None, errors
        item.index = n
        items.append(item)
    result = await bulk.log_interactions(items, actor=actor, now=now, source={"bench": "interactions"})
    return [o.id for o in result.outcomes]  # type: ignore[misc]


async def _interactions(
    community: Community, ids: dict[int, int], count: int, *, now: datetime, actor: Actor, report: Progress
) -> None:
    done = 0
    batch: list[dict] = []
    for row in community.interactions(count):
        batch.append(row)
        if len(batch) == BATCH:
            await _log(batch, ids, now=now, actor=actor)
            done += len(batch)
            batch = []
            report("interactions", done, count)
    if batch:
        await _log(batch, ids, now=now, actor=actor)
        report("interactions", count, count)


def _supporters(community: Community, count: int, *, skip: set[int]) -> list[MemberSpec]:
    """Advocates and champions who may be briefed (consent, not do-not-contact), drawn by activity."""
    chosen: list[MemberSpec] = []
    for _ in range(count * 50):
        spec = community.member_for()
        if spec.tier != "member" and spec.consent and not spec.do_not_contact and spec.index not in skip:
            skip.add(spec.index)
            chosen.append(spec)
            if len(chosen) == count:
                break
    return chosen


async def _incidents(
    community: Community,
    ids: dict[int, int],
    shape: Shape,
    *,
    now: datetime,
    admin: Actor,
    manager: Actor,
    report: Progress,
) -> dict:
    rng = community.rng
    made = {"incidents": [], "linked": 0, "briefings": 0, "thanks": 0}
    for n in range(shape.past_incidents + 1):
        current = n == shape.past_incidents
        start = now - timedelta(hours=5) if current else now - timedelta(days=350 - n * 40, hours=rng.randint(0, 23))
        incident = await incidents.create_incident(
            values={
                "title": f"Bench incident {n + 1}: " + community.text(6).rstrip("."),
                "severity": "high" if current else rng.choice(["low", "medium", "high"]),
                "topics": rng.sample(TOPICS, 2),
                "platforms": ["x", "instagram"],
                "summary": community.text(30),
                "detected_at": start,
            },
            actor=manager,
            now=start,
        )
        incident_id = incident["id"]
        made["incidents"].append(incident_id)
        for minutes, status in ((40, "acknowledged"), (90, "responding")):
            await incidents.transition(
                incident_id=incident_id, to=status, actor=manager, now=start + timedelta(minutes=minutes)
            )
        draft = await talking_points.create_draft(
            incident_id=incident_id,
            values={"points": [community.text(15) for _ in range(3)], "avoid": [community.text(8)]},
            actor=manager,
            now=start + timedelta(minutes=60),
        )
        await talking_points.approve(
            incident_id=incident_id, version=draft["version"], actor=admin, now=start + timedelta(minutes=75)
        )
        # The conversation: mixed sentiment, mostly in the incident's first hours (or the last five for the current).
        count = shape.current_linked if current else shape.past_linked
        hours = 5 if current else 48
        rows = [
            community.interaction(
                at=start + timedelta(seconds=rng.randint(60, hours * 3600 - 60)),
                sentiment=rng.choice(["negative", "negative", "positive", "neutral"]),
            )
            for _ in range(count)
        ]
        new_ids = await _log(rows, ids, now=now, actor=manager)
        await incidents.link_interactions(incident_id=incident_id, interaction_ids=new_ids, actor=manager, now=now)
        made["linked"] += len(new_ids)
        briefed = _supporters(community, shape.current_briefed if current else shape.past_briefed, skip=set())
        for spec in briefed:
            at = start + timedelta(minutes=rng.randint(80, hours * 60 - 1))
            briefing = await briefings.brief(
                incident_id=incident_id, member_id=ids[spec.index], channel="dm", actor=manager, now=at
            )
            made["briefings"] += 1
            if current:
                continue
            outcome = rng.choice(["helped", "helped", "acknowledged", "no_response"])
            await briefings.set_outcome(
                briefing_id=briefing["id"], outcome=outcome, actor=manager, now=at + timedelta(hours=3)
            )
            if outcome == "helped":
                await thanks.record_thanks(
                    member_id=ids[spec.index],
                    incident_id=incident_id,
                    channel=rng.choice(["dm", "email", "public_reply"]),
                    sent_at=at + timedelta(days=1),
                    actor=manager,
                    now=at + timedelta(days=1),
                )
                made["thanks"] += 1
        if not current:
            await incidents.transition(
                incident_id=incident_id, to="resolved", actor=manager, now=start + timedelta(days=3)
            )
        report("incidents", n + 1, shape.past_incidents + 1)
    return made


async def _faq(
    community: Community, incident_ids: list[int], count: int, *, now: datetime, actor: Actor, report: Progress
) -> None:
    rng = community.rng
    for n in range(count):
        await faq.create_entry(
            incident_id=incident_ids[n % len(incident_ids)],
            values={
                "question": f"Question {n}: " + community.text(rng.randint(6, 14)).rstrip(".") + "?",
                "answer": community.text(rng.randint(20, 80)),
                "tags": rng.sample(TOPICS, 2),
                "status": "published" if rng.random() < 0.9 else "draft",
            },
            actor=actor,
            now=now - timedelta(days=rng.randint(0, 300)),
            may_publish=True,
        )
        if (n + 1) % 100 == 0 or n + 1 == count:
            report("faq entries", n + 1, count)
