from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-12-02T10:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Indexes for the member timeline, the member list's orders and the duplicate check"

# Composite and expression indexes Piccolo's columns cannot declare; the same SQL on both engines.
# - interaction (member, occurred_at, id): one member's timeline in keyset order, without reading their whole log.
# - member (score_log2, id) and (name, id): the member list's two keyset orders.
# - member (lower(name)): the likely-duplicate check on every member page (WHERE LOWER(name) = ...).
INDEXES = {
    "interaction_member_time_idx": "interaction (member, occurred_at, id)",
    "member_score_order_idx": "member (score_log2, id)",
    "member_name_order_idx": "member (name, id)",
    "member_lower_name_idx": "member (lower(name))",
}


async def add_indexes() -> None:
    for name, target in INDEXES.items():
        await engine_finder().run_ddl(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


async def drop_indexes() -> None:
    for name in INDEXES:
        await engine_finder().run_ddl(f"DROP INDEX IF EXISTS {name}")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="crm", description=DESCRIPTION)
    manager.add_raw(add_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
