""" "Our record since" (crm/incidents/track_record.py): the sentence for a resolved incident, whole days exact at
the day boundaries, which later incidents count as similar, and the global days since the last incident. Both
engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from crm.audit.service import Actor
from crm.incidents import queries, service
from crm.incidents.track_record import record_since, since_last_incident

UTC_ZONE = ZoneInfo("UTC")
ACTOR = Actor.system("test")
DETECTED = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
RESOLVED = datetime(2025, 3, 3, 17, 0, tzinfo=UTC)


async def incident(
    *,
    topics=("pricing",),
    detected_at: datetime = DETECTED,
    resolved_at: datetime | None = None,
    title: str = "Wrong prices",
) -> dict:
    created = await service.create_incident(
        values={"title": title, "severity": "low", "topics": list(topics), "detected_at": detected_at},
        actor=ACTOR,
        now=detected_at,
    )
    if resolved_at is not None:
        for to in ("acknowledged", "responding"):
            await service.transition(incident_id=created["id"], to=to, actor=ACTOR, now=detected_at)
        await service.transition(incident_id=created["id"], to="resolved", actor=ACTOR, now=resolved_at)
    return await queries.snapshot(created["id"])


async def test_an_unresolved_incident_has_no_sentence(engine):
    row = await incident()
    since = await record_since(row, now=DETECTED + timedelta(days=30), zone=UTC_ZONE)
    assert since.resolved is False and since.sentence == "" and since.days_since_resolved is None
    assert since.resolved_at is None and since.similar_since == 0 and since.last_similar_at is None


async def test_days_are_whole_days_exact_at_the_boundary(engine):
    row = await incident(resolved_at=RESOLVED)
    day = timedelta(days=1)
    for now, days, sentence in [
        (RESOLVED, 0, "no similar incident in 0 days."),
        (RESOLVED + day - timedelta(seconds=1), 0, "no similar incident in 0 days."),
        (RESOLVED + day, 1, "no similar incident in 1 day."),
        (RESOLVED + 412 * day - timedelta(microseconds=1), 411, "no similar incident in 411 days."),
        (RESOLVED + 412 * day, 412, "no similar incident in 412 days."),
    ]:
        since = await record_since(row, now=now, zone=UTC_ZONE)
        assert since.days_since_resolved == days, now
        assert since.sentence == f"Since this happened on 3 March 2025 we have had {sentence}", now
    assert since.resolved is True and since.resolved_at == RESOLVED and since.similar_since == 0


async def test_the_date_is_the_local_date(engine):
    late = datetime(2025, 3, 3, 23, 30, tzinfo=UTC)
    row = await incident(resolved_at=late)
    since = await record_since(row, now=late + timedelta(days=2), zone=ZoneInfo("Europe/Paris"))
    assert since.sentence.startswith("Since this happened on 4 March 2025 ")


async def test_a_later_incident_sharing_a_topic_counts(engine):
    row = await incident(topics=("pricing", "email"), resolved_at=RESOLVED)
    first = RESOLVED + timedelta(days=40)
    latest = RESOLVED + timedelta(days=100)
    await incident(topics=("email",), detected_at=first, title="Newsletter typo")
    await incident(topics=("pricing", "app"), detected_at=latest, title="App price bug")
    since = await record_since(row, now=RESOLVED + timedelta(days=120), zone=UTC_ZONE)
    assert since.similar_since == 2 and since.last_similar_at == latest
    assert since.sentence == (
        "Since this happened on 3 March 2025 we have had 2 similar incidents, the latest on 11 June 2025."
    )
    one = await record_since(row, now=first + timedelta(days=1), zone=UTC_ZONE)  # "now" moves, the incidents do not
    assert one.similar_since == 2  # detected after resolution, whatever "now" is


async def test_one_similar_incident_is_singular(engine):
    row = await incident(resolved_at=RESOLVED)
    await incident(detected_at=RESOLVED + timedelta(days=10), title="Again")
    since = await record_since(row, now=RESOLVED + timedelta(days=20), zone=UTC_ZONE)
    assert since.sentence == (
        "Since this happened on 3 March 2025 we have had 1 similar incident, the latest on 13 March 2025."
    )


async def test_later_incidents_on_other_topics_do_not_count(engine):
    row = await incident(topics=("pricing",), resolved_at=RESOLVED)
    await incident(topics=("wifi",), detected_at=RESOLVED + timedelta(days=5), title="Wi-Fi joke")
    await incident(topics=(), detected_at=RESOLVED + timedelta(days=6), title="No topics")
    since = await record_since(row, now=RESOLVED + timedelta(days=30), zone=UTC_ZONE)
    assert since.similar_since == 0 and since.sentence.endswith("no similar incident in 30 days.")


async def test_incidents_detected_before_the_resolution_do_not_count(engine):
    row = await incident(resolved_at=RESOLVED)
    await incident(detected_at=DETECTED - timedelta(days=10), title="Earlier")
    await incident(detected_at=RESOLVED - timedelta(hours=1), title="During")
    await incident(detected_at=RESOLVED, title="At the same moment")
    since = await record_since(row, now=RESOLVED + timedelta(days=30), zone=UTC_ZONE)
    assert since.similar_since == 0


async def test_without_topics_every_later_incident_counts(engine):
    row = await incident(topics=(), resolved_at=RESOLVED)
    await incident(topics=("wifi",), detected_at=RESOLVED + timedelta(days=5), title="Wi-Fi joke")
    since = await record_since(row, now=RESOLVED + timedelta(days=30), zone=UTC_ZONE)
    assert since.similar_since == 1 and "1 similar incident" in since.sentence


async def test_a_reopened_incident_is_not_resolved(engine):
    row = await incident(resolved_at=RESOLVED)
    await service.transition(incident_id=row["id"], to="responding", actor=ACTOR, now=RESOLVED + timedelta(days=1))
    since = await record_since(await queries.snapshot(row["id"]), now=RESOLVED + timedelta(days=2), zone=UTC_ZONE)
    assert since.resolved is False and since.sentence == ""


async def test_the_global_record_without_incidents_is_empty(engine):
    result = await since_last_incident(now=RESOLVED)
    assert result.last_incident_at is None and result.days_since_last_incident is None


async def test_the_global_record_counts_from_the_latest_detection(engine):
    await incident(resolved_at=RESOLVED)
    latest = RESOLVED + timedelta(days=3)
    await incident(topics=("wifi",), detected_at=latest, title="Wi-Fi joke")
    await incident(topics=("x",), detected_at=DETECTED - timedelta(days=1), title="Old")
    result = await since_last_incident(now=latest + timedelta(days=9, hours=23, minutes=59))
    assert result.last_incident_at == latest and result.days_since_last_incident == 9
    assert (await since_last_incident(now=latest + timedelta(days=10))).days_since_last_incident == 10


async def test_the_api_counts_days_with_the_apps_clock(client, auth, clock):
    """GET /api/v1/incidents/{id} has record_since, counted with the app's (frozen) clock."""
    row = await incident(resolved_at=RESOLVED)
    clock.at = RESOLVED + timedelta(days=7) - timedelta(seconds=1)
    body = (await client.get(f"/api/v1/incidents/{row['id']}", headers=auth["carol"])).json()
    assert body["record_since"]["days_since_resolved"] == 6
    clock.advance(seconds=1)
    body = (await client.get(f"/api/v1/incidents/{row['id']}", headers=auth["carol"])).json()
    assert body["record_since"]["days_since_resolved"] == 7
    assert (
        body["record_since"]["sentence"]
        == "Since this happened on 3 March 2025 we have had no similar incident in 7 days."
    )
    assert (await client.get("/api/v1/record", headers=auth["dave"])).json() == {
        "last_incident_at": "2025-03-01T08:00:00Z",
        "days_since_last_incident": 9,
    }
