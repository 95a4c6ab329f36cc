from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-25T18:32:42:657887"
VERSION = "1.38.0"
DESCRIPTION = "FAQ full-text search index (FTS5 on SQLite, tsvector + GIN on PostgreSQL)"

# The search index is not a Piccolo column, so it is made here with raw DDL, in a migration of its own after
# the one that creates faq_entry (crm/faq/search.py keeps it in step with every write).
# SQLite: an FTS5 table with its own copy of the text, rowid = faq_entry.id.
# PostgreSQL: a weighted tsvector column on faq_entry with a GIN index.
SQLITE_FORWARDS = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS faq_fts USING fts5(question, answer, tags, tokenize='porter unicode61')",
]
POSTGRES_FORWARDS = [
    "ALTER TABLE faq_entry ADD COLUMN IF NOT EXISTS search tsvector",
    "CREATE INDEX IF NOT EXISTS faq_entry_search_idx ON faq_entry USING GIN (search)",
]
SQLITE_BACKWARDS = ["DROP TABLE IF EXISTS faq_fts"]
POSTGRES_BACKWARDS = ["DROP INDEX IF EXISTS faq_entry_search_idx", "ALTER TABLE faq_entry DROP COLUMN IF EXISTS search"]


def _is_sqlite() -> bool:
    return engine_finder().engine_type == "sqlite"


async def add_search_index() -> None:
    for statement in SQLITE_FORWARDS if _is_sqlite() else POSTGRES_FORWARDS:
        await engine_finder().run_ddl(statement)


async def drop_search_index() -> None:
    for statement in SQLITE_BACKWARDS if _is_sqlite() else POSTGRES_BACKWARDS:
        await engine_finder().run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="crm", description=DESCRIPTION)
    manager.add_raw(add_search_index)
    manager.add_raw_backwards(drop_search_index)
    return manager
