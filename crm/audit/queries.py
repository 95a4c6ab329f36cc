"""Reading the audit log: newest first, filtered, keyset-paginated by id."""

from __future__ import annotations

from dataclasses import dataclass

from crm import db
from crm.audit.tables import AuditEntry

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""
    entity: str = ""
    actor: str = ""  # part of the actor's email/label
    record_id: str = ""
    before_id: int | None = None  # keyset cursor: entries older than this id


async def list_entries(filters: AuditFilter, limit: int = PAGE_SIZE) -> tuple[list[dict], int | None]:
    query = AuditEntry.select().order_by(AuditEntry.id, ascending=False).limit(limit + 1)
    conditions = []
    if filters.action:
        conditions.append(AuditEntry.action == filters.action)
    if filters.entity:
        conditions.append(AuditEntry.entity == filters.entity)
    if filters.actor:
        conditions.append(db.icontains(AuditEntry.actor_label, filters.actor))
    if filters.record_id:
        conditions.append(AuditEntry.record_id == filters.record_id)
    if filters.before_id is not None:
        conditions.append(AuditEntry.id < filters.before_id)
    for condition in conditions:
        query = query.where(condition)
    rows = await query.run()
    next_cursor = rows[limit - 1]["id"] if len(rows) > limit else None
    return rows[:limit], next_cursor


async def distinct_actions() -> list[str]:
    rows = await AuditEntry.select(AuditEntry.action).distinct().order_by(AuditEntry.action).run()
    return [row["action"] for row in rows]
