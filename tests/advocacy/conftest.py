"""Advocate-health scenes. Members and interactions go through the real services (so the engagement rollup
is exactly what production keeps); incidents, briefings and thank-yous are inserted as rows, because the
rules under test read only those rows and the tests need their times to the second."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from crm.advocacy import service
from crm.audit.service import Actor
from crm.briefings.tables import Briefing
from crm.incidents.tables import Incident, TalkingPoints
from crm.members import interactions
from crm.members import service as members
from crm.thanks.tables import ThankYou

ACTOR = Actor.system("test")


@pytest.fixture(autouse=True)
async def _pool(pooled):
    """Every test here runs with the PostgreSQL pool (see tests/conftest.py)."""
    yield


class Scene:
    def __init__(self, clock) -> None:
        self.clock = clock
        self.points: dict[int, int] = {}

    def now(self) -> datetime:
        return self.clock()

    async def member(self, name: str, *, tier: str = "advocate", do_not_contact: bool = False, **extra) -> int:
        created = await members.create_member(
            values={
                "name": name,
                "tier": tier,
                "do_not_contact": do_not_contact,
                "consent_private_briefing": True,
                **extra,
            },
            actor=ACTOR,
            now=self.now(),
        )
        return created["id"]

    async def interact(
        self,
        member_id: int,
        at: datetime,
        *,
        sentiment: str = "positive",
        troll: bool = False,
        incident_id: int | None = None,
        kind: str = "comment",
    ) -> None:
        values = {
            "member_id": member_id,
            "platform": "x",
            "kind": kind,
            "sentiment": sentiment,
            "troll": troll,
            "occurred_at": at,
        }
        if incident_id is not None:
            values["incident_id"] = incident_id
        await interactions.log_interaction(values=values, actor=ACTOR, now=max(at, self.now()))

    async def every(self, member_id: int, *, first: datetime, last: datetime, days: int = 5, **kw) -> int:
        """Interactions from ``first`` every ``days`` days up to ``last`` (both ends included)."""
        n, at = 0, first
        while at <= last:
            await self.interact(member_id, at, **kw)
            n, at = n + 1, at + timedelta(days=days)
        return n

    async def active(self, name: str, *, until: datetime | None = None, **kw) -> int:
        """A member interacting weekly for 9 weeks up to ``until`` (default: a day before now): active."""
        member_id = await self.member(name, **kw)
        until = until or self.now() - timedelta(days=1)
        await self.every(member_id, first=until - timedelta(days=63), last=until, days=7)
        return member_id

    async def incident(self, title: str = "Misleading ad", *, detected_at: datetime) -> int:
        incident = Incident(
            title=title, severity="high", detected_at=detected_at, created_at=detected_at, updated_at=detected_at
        )
        await incident.save().run()
        points = TalkingPoints(
            incident=incident.id,
            version=1,
            key=f"{incident.id}:1",
            points='["Say sorry"]',
            status="approved",
            approved_at=detected_at,
        )
        await points.save().run()
        self.points[incident.id] = points.id
        return incident.id

    async def brief(self, member_id: int, incident_id: int, at: datetime, outcome: str = "sent") -> None:
        await Briefing.insert(
            Briefing(
                member=member_id,
                incident=incident_id,
                talking_points=self.points[incident_id],
                version=1,
                channel="dm",
                briefed_at=at,
                outcome=outcome,
            )
        ).run()

    async def thank(
        self, member_id: int, at: datetime, *, deleted: bool = False, incident_id: int | None = None
    ) -> None:
        await ThankYou.insert(
            ThankYou(
                member=member_id,
                incident=incident_id,
                channel="dm",
                message="Thank you!",
                sent_at=at,
                created_at=at,
                deleted_at=at if deleted else None,
            )
        ).run()

    async def health(self, member_id: int):
        return await service.health(member_id, self.now())

    async def codes(self, member_id: int) -> list[str]:
        return [w.code for w in (await self.health(member_id)).warnings]


@pytest.fixture
async def scene(engine, clock) -> Scene:
    return Scene(clock)
