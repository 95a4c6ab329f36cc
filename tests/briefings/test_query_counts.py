"""Whom to brief costs the same number of statements whatever the community's size: the suggestions API, the
suggestions page (with a why-not question) and the incident page with its top three. Counted with Piccolo's own
query logging on the test's engine; both engines."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm.audit.service import Actor
from crm.incidents import service as incidents
from crm.members import interactions, service
from tests.conftest import START

ACTOR = Actor.system("test")


@pytest.fixture
def counted(engine, monkeypatch):
    """How many statements ran since the last reset (Piccolo prints each one when log_queries is on)."""
    seen: list[str] = []
    monkeypatch.setattr(engine, "log_queries", True)
    # on the class: PostgresEngine's instances do not take attributes; the test's engine is the only one in use
    monkeypatch.setattr(type(engine), "print_query", lambda self, query_id, query: seen.append(query))
    return seen


async def grow(incident_id: int, start: int, members: int) -> None:
    """``members`` more members, half advocates, each with a few interactions, some in the conversation."""
    for n in range(start, start + members):
        values = {
            "name": f"Member {n}",
            "tier": "advocate" if n % 2 else "member",
            "consent_private_briefing": n % 5 != 0,
            "handles": [{"platform": "x", "handle": f"m{n}", "followers": 10 * n}],
            "topics": ["ads"] if n % 3 else [],
        }
        member_id = (await service.create_member(values=values, actor=ACTOR, now=START))["id"]
        for k in range(3):
            values = {
                "member_id": member_id,
                "platform": "x",
                "kind": "reply",
                "sentiment": ["positive", "negative", "neutral"][(n + k) % 3],
                "occurred_at": START - timedelta(hours=k + n % 7),
                "incident_id": incident_id if (n + k) % 4 == 0 else None,
            }
            await interactions.log_interaction(values=values, actor=ACTOR, now=START)


async def test_whom_to_brief_runs_as_many_statements_at_any_size(counted, as_user, auth, client):
    fail = await incidents.create_incident(
        values={
            "title": "Fail",
            "severity": "high",
            "platforms": ["x"],
            "topics": ["ads"],
            "detected_at": START - timedelta(hours=5),
        },
        actor=ACTOR,
        now=START,
    )
    iid = fail["id"]
    browser = await as_user("bob")
    requests = {
        "api": lambda: client.get(f"/api/v1/incidents/{iid}/suggestions?include_excluded=true", headers=auth["bob"]),
        "page": lambda: browser.get(f"/incidents/{iid}/suggestions?why=Member"),
        "incident page": lambda: browser.get(f"/incidents/{iid}"),
    }

    async def statements() -> dict[str, int]:
        out = {}
        for name, request in requests.items():
            await request()  # warm: sessions touched, caches filled
            counted.clear()
            response = await request()
            assert response.status_code == 200, response.text
            out[name] = len(counted)
        return out

    await grow(iid, 0, 4)
    small = await statements()
    await grow(iid, 4, 40)
    large = await statements()
    assert large == small, (small, large)
    assert 3 <= small["api"] <= 12, small  # counted, and few
