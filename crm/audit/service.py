"""Writing the audit log: the one helper every write uses to leave an entry in its own transaction, and the
scrub an erasure uses to drop what earlier entries said about the person."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from crm import db
from crm.audit.tables import AuditEntry


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user, or a system process (the CLI, the demo loader)."""

    user_id: int | None
    label: str
    ip: str | None = None

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(user_id=None, label=label)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


async def log_change(
    *,
    actor: Actor,
    action: str,
    entity: str,
    record_id: Any = None,
    before: dict | None = None,
    after: dict | None = None,
    at: datetime,
) -> None:
    """Write one audit entry. Must run inside the caller's write transaction,
    so the change and its audit entry commit (or roll back) together."""
    if not db.in_transaction():
        raise RuntimeError("audit.log_change must be called inside db.transaction()")
    await AuditEntry.insert(
        AuditEntry(
            at=at,
            actor=actor.user_id,
            actor_label=actor.label[:300],
            action=action,
            entity=entity,
            record_id=None if record_id is None else str(record_id),
            before=_jsonable(before) if before is not None else None,
            after=_jsonable(after) if after is not None else None,
            ip=actor.ip,
        )
    ).run()


SCRUB_CHUNK = 1000  # record ids per statement: well under the engines' bound-parameter limits


async def scrub(*, entity: str, record_ids: Iterable[Any]) -> None:
    """Drop what the entries about these records said (their before and after), keeping that they happened: the
    GDPR erasure of a person. Runs inside the erasure's transaction, like ``log_change``."""
    if not db.in_transaction():
        raise RuntimeError("audit.scrub must be called inside db.transaction()")
    ids = [str(i) for i in record_ids]
    for start in range(0, len(ids), SCRUB_CHUNK):
        await (
            AuditEntry.update({AuditEntry.before: None, AuditEntry.after: None})
            .where((AuditEntry.entity == entity) & AuditEntry.record_id.is_in(ids[start : start + SCRUB_CHUNK]))
            .run()
        )
