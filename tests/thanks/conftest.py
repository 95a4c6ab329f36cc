"""Thank-you tests build their scenarios through the JSON API with the briefings suite's ``World`` (bob, manager,
speaks unless told otherwise), plus the few steps of their own: a helped briefing, thanking, the queue."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.briefings.conftest import DETECTED, World
from tests.conftest import START

__all__ = ["DETECTED", "START", "ThanksWorld"]


@pytest.fixture(autouse=True)
async def _pool(pooled):
    """Every test here runs with the PostgreSQL pool (see tests/conftest.py)."""
    yield


class ThanksWorld(World):
    async def helped(self, incident_id: int, member_id: int) -> dict:
        """Brief the member (approving talking points first when needed) and record the outcome "helped" now."""
        r = await self.api.get(f"/api/v1/incidents/{incident_id}/talking-points/current", headers=self.h)
        if r.status_code == 404:
            await self.approve(incident_id, ["We are sorry", "Refunds are automatic"])
        briefing = await self.briefed(incident_id, member_id)
        r = await self.api.patch(f"/api/v1/briefings/{briefing['id']}", json={"outcome": "helped"}, headers=self.h)
        assert r.status_code == 200, r.text
        return r.json()

    async def supportive(
        self,
        member_id: int,
        incident_id: int,
        n: int = 1,
        *,
        after: timedelta = timedelta(hours=1),
        kind: str = "reply",
    ) -> None:
        """``n`` positive interactions linked to the incident, ``after`` its detection (DETECTED)."""
        for k in range(n):
            await self.interaction(
                member_id,
                at=DETECTED + after + timedelta(minutes=k),
                kind=kind,
                sentiment="positive",
                incident_id=incident_id,
            )

    async def thank(self, member_id: int, incident_id: int | None = None, *, who: str = "bob", **body):
        payload = {"member_id": member_id, "channel": "dm", **body}
        if incident_id is not None:
            payload["incident_id"] = incident_id
        return await self.api.post("/api/v1/thank-yous", json=payload, headers=self.auth[who])

    async def due(self, who: str = "bob") -> list[dict]:
        r = await self.api.get("/api/v1/thank-yous/due", headers=self.auth[who])
        assert r.status_code == 200, r.text
        return r.json()["items"]

    async def dismiss(self, member_id: int, incident_id: int, reason: str = "prefers no contact", *, who: str = "bob"):
        return await self.api.post(
            "/api/v1/thank-yous/due/dismiss",
            json={"member_id": member_id, "incident_id": incident_id, "reason": reason},
            headers=self.auth[who],
        )


@pytest.fixture
async def world(client, auth, clock) -> ThanksWorld:
    return ThanksWorld(client, auth, clock)


def pairs(items: list[dict]) -> list[tuple[int, int]]:
    return [(i["member_id"], i["incident_id"]) for i in items]


async def audit_entries(action: str) -> list[dict]:
    """Audit entries of one action, oldest first, with before/after as dicts on both engines."""
    from crm.audit.tables import AuditEntry

    return (
        await AuditEntry.select()
        .where(AuditEntry.action == action)
        .order_by(AuditEntry.id)
        .output(load_json=True)
        .run()
    )
