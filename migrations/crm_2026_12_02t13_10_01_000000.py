from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-12-02T13:10:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "The incidents' conversation rollup filled from the interaction log"


# The counts as crm/incidents/conversation.py computes them (copied, so this migration keeps meaning what it meant
# when the code changes): linked to the incident, or on its platforms since detection; never trolls.
def _on_platforms(sqlite: bool) -> str:
    if sqlite:
        return "EXISTS (SELECT 1 FROM json_each(n.platforms) p WHERE p.value = i.platform)"
    return "EXISTS (SELECT 1 FROM jsonb_array_elements_text(n.platforms::jsonb) p(value) WHERE p.value = i.platform)"


async def backfill() -> None:
    engine = engine_finder()
    await engine.run_ddl(
        "INSERT INTO incident_conversation (incident, member, key, supportive, critical) "
        "SELECT n.id, i.member, CAST(n.id AS TEXT) || ':' || CAST(i.member AS TEXT), "
        "SUM(CASE WHEN i.sentiment IN ('positive', 'neutral') THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN i.sentiment = 'negative' AND i.incident_id = n.id THEN 1 ELSE 0 END) "
        "FROM interaction i JOIN incident n "
        f"ON (i.incident_id = n.id OR (i.occurred_at >= n.detected_at AND {_on_platforms(isinstance(engine, SQLiteEngine))})) "
        "WHERE NOT i.troll AND (i.sentiment IN ('positive', 'neutral') OR "
        "(i.sentiment = 'negative' AND i.incident_id = n.id)) "
        "GROUP BY n.id, i.member"
    )


async def empty() -> None:
    await engine_finder().run_ddl("DELETE FROM incident_conversation")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="crm", description=DESCRIPTION)
    manager.add_raw(backfill)
    manager.add_raw_backwards(empty)
    return manager
