"""Reads for the FAQ: one entry and its history, an incident's entries, the public incidents, the tags in use."""

from __future__ import annotations

from crm.errors import NotFound
from crm.faq.tables import FaqEntry, FaqRevision
from crm.incidents import queries as incidents
from crm.incidents.tables import Incident

MAX_TAGS_LISTED = 200


async def get_or_none(entry_id: int) -> dict | None:
    return await FaqEntry.select().where(FaqEntry.id == entry_id).output(load_json=True).first().run()


async def get(entry_id: int) -> dict:
    row = await get_or_none(entry_id)
    if row is None:
        raise NotFound(f"No FAQ entry with id {entry_id}.")
    return row


async def history(entry_id: int) -> list[dict]:
    """The entry's revisions, oldest first."""
    return (
        await FaqRevision.select()
        .where(FaqRevision.entry == entry_id)
        .order_by(FaqRevision.id)
        .output(load_json=True)
        .run()
    )


async def for_incident(incident_id: int, *, statuses: list[str]) -> list[dict]:
    """The incident's entries with one of ``statuses``, oldest first (the order they were written in)."""
    return (
        await FaqEntry.select()
        .where((FaqEntry.incident == incident_id) & FaqEntry.status.is_in(statuses))
        .order_by(FaqEntry.id)
        .output(load_json=True)
        .run()
    )


async def drafts_by(incident_id: int, author_id: int) -> list[dict]:
    return (
        await FaqEntry.select()
        .where((FaqEntry.incident == incident_id) & (FaqEntry.status == "draft") & (FaqEntry.author == author_id))
        .order_by(FaqEntry.id)
        .output(load_json=True)
        .run()
    )


async def public_incidents() -> list[dict]:
    """Incidents a manager put on the public FAQ, newest first (topics decoded, as record_since wants)."""
    return (
        await Incident.select()
        .where(Incident.faq_public.eq(True))
        .order_by(Incident.detected_at, ascending=False)
        .output(load_json=True)
        .run()
    )


async def public_incident(incident_id: int) -> dict | None:
    incident = await incidents.snapshot(incident_id)
    return incident if incident and incident["faq_public"] else None


async def published_for(incident_ids: list[int]) -> dict[int, list[dict]]:
    """Published entries per incident, oldest first: the only entries a public page may show."""
    out: dict[int, list[dict]] = {i: [] for i in incident_ids}
    if not incident_ids:
        return out
    rows = (
        await FaqEntry.select(FaqEntry.id, FaqEntry.incident, FaqEntry.question, FaqEntry.answer)
        .where(FaqEntry.incident.is_in(incident_ids) & (FaqEntry.status == "published"))
        .order_by(FaqEntry.id)
        .run()
    )
    for r in rows:
        out[r["incident"]].append(r)
    return out


async def tags_in_use(*, include_drafts: bool) -> list[str]:
    """Tags of the searchable entries, for the tag filter's suggestions."""
    statuses = ["published", "draft"] if include_drafts else ["published"]
    rows = (
        await FaqEntry.select(FaqEntry.tags)
        .where(FaqEntry.status.is_in(statuses))
        .order_by(FaqEntry.id, ascending=False)
        .limit(1000)
        .output(load_json=True)
        .run()
    )
    seen: set[str] = set()
    for r in rows:
        seen.update(r["tags"])
    return sorted(seen)[:MAX_TAGS_LISTED]


async def incident_choices() -> list[dict]:
    """Incidents for the filters and forms, newest first."""
    return (
        await Incident.select(Incident.id, Incident.title, Incident.detected_at)
        .order_by(Incident.detected_at, ascending=False)
        .limit(500)
        .run()
    )
