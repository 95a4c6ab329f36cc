"""Late-question reads: one question, lists (by incident, member, answered or not), the per-incident report."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from crm.questions.tables import LateQuestion

LIVE = LateQuestion.deleted_at.is_null()
MAX_WEEKS = 52  # the report's chart shows at most a year of weeks


def _columns() -> tuple:
    q = LateQuestion
    return (
        *q.all_columns(),
        q.member.name.as_alias("member_name"),
        q.incident.title.as_alias("incident_title"),
        q.logged_by.name.as_alias("logged_by_name"),
        q.answered_by.name.as_alias("answered_by_name"),
        q.faq.question.as_alias("faq_question"),
    )


async def get_or_none(question_id: int) -> dict | None:
    return (
        await LateQuestion.select(*_columns())
        .where((LateQuestion.id == question_id) & LIVE)
        .output(load_json=True)
        .first()
        .run()
    )


async def list_questions(
    *, incident_id: int | None = None, member_id: int | None = None, answered: bool | None = None, limit: int = 100
) -> list[dict]:
    """Live questions, most recently asked first."""
    query = LateQuestion.select(*_columns()).where(LIVE).output(load_json=True)
    if incident_id is not None:
        query = query.where(LateQuestion.incident == incident_id)
    if member_id is not None:
        query = query.where(LateQuestion.member == member_id)
    if answered is True:
        query = query.where(LateQuestion.answered_at.is_not_null())
    elif answered is False:
        query = query.where(LateQuestion.answered_at.is_null())
    return (
        await query.order_by(LateQuestion.asked_at, ascending=False)
        .order_by(LateQuestion.id, ascending=False)
        .limit(limit)
        .run()
    )


async def of_member(
    member_id: int, limit: int | None = 50, *, since: datetime | None = None, before: datetime | None = None
) -> list[dict]:
    """What they asked us late, newest first; ``since <= asked_at < before`` when given (the member timeline's
    window, crm/pages/timeline.py, which passes ``limit=None``: the window bounds it)."""
    query = LateQuestion.select(*_columns()).where(LIVE & (LateQuestion.member == member_id)).output(load_json=True)
    if since is not None:
        query = query.where(LateQuestion.asked_at >= since)
    if before is not None:
        query = query.where(LateQuestion.asked_at < before)
    query = query.order_by(LateQuestion.asked_at, ascending=False).order_by(LateQuestion.id, ascending=False)
    return await (query.limit(limit) if limit is not None else query).run()


async def of_incident(incident_id: int) -> list[dict]:
    """Every live question about the incident (the report counts them all), newest first."""
    return await list_questions(incident_id=incident_id, limit=100_000)


def is_gap(question: dict) -> bool:
    """No published FAQ entry matched when it was logged: an answer to write."""
    return not question["suggested"]


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekly(asked: list[datetime], *, since: datetime, now: datetime, zone: ZoneInfo) -> list[tuple[date, int]]:
    """(Monday, questions asked that week) from the week of ``since`` to the week of ``now``, in ``zone``'s
    calendar, oldest first; at most the last MAX_WEEKS weeks. Questions asked before ``since`` are left out."""
    first, last = monday(since.astimezone(zone).date()), monday(now.astimezone(zone).date())
    if last < first:
        last = first
    weeks = (last - first).days // 7 + 1
    first = max(first, last - timedelta(weeks=MAX_WEEKS - 1))
    counts = {first + timedelta(weeks=n): 0 for n in range(min(weeks, MAX_WEEKS))}
    for at in asked:
        if at >= since:
            week = monday(at.astimezone(zone).date())
            if week in counts:
                counts[week] += 1
    return sorted(counts.items())


def weeks_between(since: datetime, now: datetime, zone: ZoneInfo) -> int:
    """How many calendar weeks (Monday to Sunday) the period touches."""
    first, last = monday(since.astimezone(zone).date()), monday(now.astimezone(zone).date())
    return max((last - first).days // 7 + 1, 1)
