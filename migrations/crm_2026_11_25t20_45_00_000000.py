from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-25T20:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "FAQ words index: the unstemmed words of every entry, to expand a prefix typed mid-word"

# The stemmed search index cannot match a word cut short ("negati" is not a prefix of the stem "neg"), so
# crm/faq/search.py expands the typed prefix into the whole words that start with it, looked up here. Like
# the search index it is raw DDL, kept in step by search.reindex(), and holds nothing for retired entries.
# SQLite: an FTS5 table of the words (no stemming, accents kept), rowid = faq_entry.id, and an fts5vocab table
# listing its terms in order. PostgreSQL: a 'simple' (unstemmed) tsvector column on faq_entry, NULL when
# retired, read with ts_stat(). Existing entries are filled in here.
SQLITE_FORWARDS = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS faq_words USING fts5(text, tokenize='unicode61 remove_diacritics 0')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS faq_words_vocab USING fts5vocab(faq_words, 'row')",
    "DELETE FROM faq_words",
    "INSERT INTO faq_words (rowid, text) "
    "SELECT id, question || ' ' || answer || ' ' || "
    "COALESCE((SELECT group_concat(t.value, ' ') FROM json_each(faq_entry.tags) AS t), '') "
    "FROM faq_entry WHERE status <> 'retired'",
]
POSTGRES_FORWARDS = [
    "ALTER TABLE faq_entry ADD COLUMN IF NOT EXISTS words tsvector",
    "UPDATE faq_entry SET words = to_tsvector('simple', question || ' ' || answer || ' ' || "
    "COALESCE((SELECT string_agg(t, ' ') FROM json_array_elements_text(CAST(tags AS json)) AS t), '')) "
    "WHERE status <> 'retired'",
]
SQLITE_BACKWARDS = ["DROP TABLE IF EXISTS faq_words_vocab", "DROP TABLE IF EXISTS faq_words"]
POSTGRES_BACKWARDS = ["ALTER TABLE faq_entry DROP COLUMN IF EXISTS words"]


def _is_sqlite() -> bool:
    return engine_finder().engine_type == "sqlite"


async def add_words_index() -> None:
    for statement in SQLITE_FORWARDS if _is_sqlite() else POSTGRES_FORWARDS:
        await engine_finder().run_ddl(statement)


async def drop_words_index() -> None:
    for statement in SQLITE_BACKWARDS if _is_sqlite() else POSTGRES_BACKWARDS:
        await engine_finder().run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="crm", description=DESCRIPTION)
    manager.add_raw(add_words_index)
    manager.add_raw_backwards(drop_words_index)
    return manager
