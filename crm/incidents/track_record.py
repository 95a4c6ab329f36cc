"""Our track record. "Our record since" (playbook step 6): how long since an incident was resolved, whether
anything similar has happened since, and a sentence support can paste into a late answer. Also the global "days
since the last incident of any kind".

Similar means: detected after this incident was resolved and sharing one of its topics (an incident without
topics counts every later incident as similar, since we cannot tell). Days are whole days elapsed (24 h)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from msgspec import Struct

from crm.formatting import long_date, plural
from crm.incidents.tables import Incident

DAY = timedelta(days=1)


class RecordSince(Struct):
    resolved: bool
    resolved_at: datetime | None
    days_since_resolved: int | None
    similar_since: int  # similar incidents detected after this one was resolved
    last_similar_at: datetime | None
    sentence: str  # "" while the incident is not resolved


class Record(Struct):
    """GET /api/v1/record (the name the OpenAPI document has always given it)."""

    last_incident_at: datetime | None
    days_since_last_incident: int | None


def _days(since: datetime, now: datetime) -> int:
    return max(0, (now - since) // DAY)


async def record_since(incident: dict, *, now: datetime, zone: ZoneInfo) -> RecordSince:
    """``incident`` as queries.snapshot returns it (topics decoded)."""
    resolved_at = incident["resolved_at"]
    if resolved_at is None:
        return RecordSince(
            resolved=False,
            resolved_at=None,
            days_since_resolved=None,
            similar_since=0,
            last_similar_at=None,
            sentence="",
        )
    later = (
        await Incident.select(Incident.id, Incident.topics, Incident.detected_at)
        .where((Incident.detected_at > resolved_at) & (Incident.id != incident["id"]))
        .output(load_json=True)
        .run()
    )
    topics = set(incident["topics"])
    similar = [r["detected_at"] for r in later if not topics or topics & set(r["topics"])]
    days = _days(resolved_at, now)
    since = f"Since this happened on {long_date(resolved_at, zone)}"
    if similar:
        latest = max(similar)
        sentence = (
            f"{since} we have had {plural(len(similar), 'similar incident')}, the latest on {long_date(latest, zone)}."
        )
    else:
        latest = None
        sentence = f"{since} we have had no similar incident in {plural(days, 'day')}."
    return RecordSince(
        resolved=True,
        resolved_at=resolved_at,
        days_since_resolved=days,
        similar_since=len(similar),
        last_similar_at=latest,
        sentence=sentence,
    )


async def since_last_incident(*, now: datetime) -> Record:
    row = await Incident.select(Incident.detected_at).order_by(Incident.detected_at, ascending=False).first().run()
    if row is None:
        return Record(last_incident_at=None, days_since_last_incident=None)
    return Record(last_incident_at=row["detected_at"], days_since_last_incident=_days(row["detected_at"], now))
