"""The per-incident conversation rollup: for each incident and member, how many of their interactions are in the
incident's conversation, supportive (positive or neutral) and critical (negative and linked to it).

An interaction is in an incident's conversation when it is linked to it (any time, any platform) or happened on
one of its platforms at or after its detection; trolls never count. Whom to brief (crm/briefings/suggestions.py)
reads these counts instead of the interaction log, so its cost does not grow with the log.

Kept in the same transaction as every write that changes them, the way member rollups are kept:
- a new interaction (one or a bulk batch): ``add_interactions``, one upsert adding the new counts;
- a troll flag changed, a merge or its undo (interactions change member): ``recount_members``;
- a link to an incident, an incident created or its platforms or detection time changed: ``recount_incident``;
- an erasure keeps the interactions and who they belong to, so the counts stay as they are;
- ``crm rollups rebuild`` and the migration that created the table: ``rebuild_all``.
Each is one DELETE and/or one INSERT ... SELECT, set-based on both engines (members register the first two in
crm/members/links.py, through crm/wiring.py, since members sit below incidents).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from crm import db
from crm.incidents.tables import IncidentConversation

SUPPORTIVE = "CASE WHEN i.sentiment IN ('positive', 'neutral') THEN 1 ELSE 0 END"
CRITICAL = "CASE WHEN i.sentiment = 'negative' AND i.incident_id = n.id THEN 1 ELSE 0 END"


def _on_platforms() -> str:
    """The interaction ``i`` is on one of incident ``n``'s platforms (a JSON array of names)."""
    if db.is_sqlite():
        return "EXISTS (SELECT 1 FROM json_each(n.platforms) p WHERE p.value = i.platform)"
    return "EXISTS (SELECT 1 FROM jsonb_array_elements_text(n.platforms::jsonb) p(value) WHERE p.value = i.platform)"


def _among(column: str, values: Sequence[int]) -> tuple[str, object]:
    """``column`` is one of ``values`` with one parameter: an array on PostgreSQL, JSON on SQLite."""
    if db.is_sqlite():
        return f"{column} IN (SELECT value FROM json_each({{}}))", json.dumps(list(values))
    return f"{column} = ANY({{}}::integer[])", list(values)


def _counts(where: str) -> str:
    """Conversation counts per incident and member for the interactions ``where`` selects (non-zero only)."""
    return (
        "SELECT n.id, i.member, CAST(n.id AS TEXT) || ':' || CAST(i.member AS TEXT), "
        f"SUM({SUPPORTIVE}), SUM({CRITICAL}) "
        "FROM interaction i JOIN incident n "
        f"ON (i.incident_id = n.id OR (i.occurred_at >= n.detected_at AND {_on_platforms()})) "
        "WHERE NOT i.troll AND (i.sentiment IN ('positive', 'neutral') OR "
        f"(i.sentiment = 'negative' AND i.incident_id = n.id)) AND {where} "
        "GROUP BY n.id, i.member"
    )


INSERT = "INSERT INTO incident_conversation (incident, member, key, supportive, critical) "


async def _run(sql: str, *args: object) -> None:
    await IncidentConversation.raw(sql, *args).run()


def _require_transaction() -> None:
    if not db.in_transaction():
        raise RuntimeError("the conversation rollup is written inside the write's transaction")


async def add_interactions(interaction_ids: Sequence[int]) -> None:
    """Add just-inserted interactions to the counts: one upsert, whatever the batch's size."""
    if not interaction_ids:
        return
    _require_transaction()
    where, param = _among("i.id", sorted(set(interaction_ids)))
    await _run(
        INSERT + _counts(where) + " ON CONFLICT (key) DO UPDATE SET "
        "supportive = incident_conversation.supportive + excluded.supportive, "
        "critical = incident_conversation.critical + excluded.critical",
        param,
    )


async def recount_members(member_ids: Sequence[int]) -> None:
    """Recount every incident's counts of these members from their interactions."""
    if not member_ids:
        return
    _require_transaction()
    ids = sorted(set(member_ids))
    where, param = _among("member", ids)
    await _run(f"DELETE FROM incident_conversation WHERE {where}", param)
    where, param = _among("i.member", ids)
    await _run(INSERT + _counts(where), param)


async def recount_incident(incident_id: int, member_ids: Sequence[int] | None = None) -> None:
    """Recount one incident's counts, of everyone or of ``member_ids`` (those whose interactions were linked)."""
    _require_transaction()
    if member_ids is None:
        await _run("DELETE FROM incident_conversation WHERE incident = {}", incident_id)
        await _run(INSERT + _counts("n.id = {}"), incident_id)
        return
    if not member_ids:
        return
    ids = sorted(set(member_ids))
    where, param = _among("member", ids)
    await _run(f"DELETE FROM incident_conversation WHERE incident = {{}} AND {where}", incident_id, param)
    where, param = _among("i.member", ids)
    await _run(INSERT + _counts(f"n.id = {{}} AND {where}"), incident_id, param)


async def rebuild_all() -> int:
    """Recompute the whole rollup from the log (``crm rollups rebuild``); returns how many rows it holds."""
    async with db.transaction():
        await _run("DELETE FROM incident_conversation")
        await _run(INSERT + _counts("1 = 1"))
    return await IncidentConversation.count().run()


async def rows() -> dict[tuple[int, int], tuple[int, int]]:
    """The whole rollup, (incident, member) -> (supportive, critical): for checks against a rebuild."""
    return {
        (r["incident"], r["member"]): (r["supportive"], r["critical"])
        for r in await IncidentConversation.select(
            IncidentConversation.incident,
            IncidentConversation.member,
            IncidentConversation.supportive,
            IncidentConversation.critical,
        ).run()
    }
