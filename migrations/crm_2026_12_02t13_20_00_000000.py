from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-12-02T13:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "FAQ word list on PostgreSQL: prefix expansion reads a range of it instead of every entry (ts_stat)"

# crm/faq/search.py expands a typed prefix into the whole words of entries that start with it. On PostgreSQL it
# read them with ts_stat() over every entry's 'simple' tsvector on each search (~780 ms at 100k entries). Here
# faq_word holds each such word with the number of entries (not retired) that have it, kept by a trigger on
# every write of faq_entry.words (insert, update, delete: nothing can bypass it), and read by a range scan of
# its primary key in "C" collation (code point order, so every word starting with a prefix lies between the
# prefix and its successor). The trigger takes a transaction-level advisory lock so two FAQ writes at once count
# one after the other instead of locking words in different orders. Filled from the existing entries here.
# SQLite needs nothing: FTS5's faq_words_vocab is already read by a range scan of its terms.
POSTGRES_FORWARDS = [
    """CREATE TABLE IF NOT EXISTS faq_word (word text COLLATE "C" PRIMARY KEY, entries integer NOT NULL)""",
    """CREATE OR REPLACE FUNCTION faq_word_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7365906);
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.words IS NOT NULL THEN
        UPDATE faq_word SET entries = entries - 1 WHERE word = ANY(tsvector_to_array(OLD.words));
        DELETE FROM faq_word WHERE word = ANY(tsvector_to_array(OLD.words)) AND entries <= 0;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.words IS NOT NULL THEN
        INSERT INTO faq_word (word, entries)
        SELECT w, 1 FROM unnest(tsvector_to_array(NEW.words)) AS w
        ON CONFLICT (word) DO UPDATE SET entries = faq_word.entries + 1;
    END IF;
    RETURN NULL;
END $$""",
    "DROP TRIGGER IF EXISTS faq_word_count ON faq_entry",
    "CREATE TRIGGER faq_word_count AFTER INSERT OR DELETE OR UPDATE OF words ON faq_entry "
    "FOR EACH ROW EXECUTE FUNCTION faq_word_count()",
    "DELETE FROM faq_word",
    "INSERT INTO faq_word (word, entries) "
    "SELECT word, ndoc FROM ts_stat('SELECT words FROM faq_entry WHERE words IS NOT NULL')",
]
POSTGRES_BACKWARDS = [
    "DROP TRIGGER IF EXISTS faq_word_count ON faq_entry",
    "DROP FUNCTION IF EXISTS faq_word_count()",
    "DROP TABLE IF EXISTS faq_word",
]


def _is_sqlite() -> bool:
    return engine_finder().engine_type == "sqlite"


async def add_word_list() -> None:
    if not _is_sqlite():
        for statement in POSTGRES_FORWARDS:
            await engine_finder().run_ddl(statement)


async def drop_word_list() -> None:
    if not _is_sqlite():
        for statement in POSTGRES_BACKWARDS:
            await engine_finder().run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="crm", description=DESCRIPTION)
    manager.add_raw(add_word_list)
    manager.add_raw_backwards(drop_word_list)
    return manager
