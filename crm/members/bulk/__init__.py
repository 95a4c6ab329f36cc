"""Many interactions or members at once: for imports and the bulk API. sql.py holds the statements, rollups.py
the rollup folded in per batch, interactions.py and members.py the two writers, request.py the bulk API's
request (its body read, its items checked by the single endpoint's schema and rules).

The rules are those of one-at-a-time writes — ``interactions.clean``, ``service.clean_profile/clean_topics/
clean_handles``, members matched by handle on the platform (case-insensitive, without @) or by email, an
interaction seen before on the same platform + external id is a duplicate, an incident it names must exist
(the check registered in ``links``, asked once per incident), erased people are refused, never re-created —
and so is the result; only the statements differ. A batch is planned from a few lookups (one statement each,
the keys passed as a single array parameter), then written with multi-row INSERTs, and the engagement rollup is
folded in with one UPDATE of ``member`` and one upsert of ``member_day`` per batch, computed exactly
as ``engagement.apply_interaction`` computes it row by row (same order, same arithmetic).

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

from crm.members.bulk.interactions import log_interactions
from crm.members.bulk.items import BulkResult, DryRun, InteractionIn, Outcome, clean_interaction
from crm.members.bulk.members import MemberIn, clean_member, upsert_members
from crm.members.bulk.rollups import Event, fold_rollups, rebuild_all
from crm.members.bulk.sql import erased_among, take_turn

__all__ = [
    "BulkResult",
    "DryRun",
    "Event",
    "InteractionIn",
    "MemberIn",
    "Outcome",
    "clean_interaction",
    "clean_member",
    "erased_among",
    "fold_rollups",
    "log_interactions",
    "rebuild_all",
    "take_turn",
    "upsert_members",
]
