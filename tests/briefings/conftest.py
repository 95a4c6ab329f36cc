"""Briefing tests build small scenarios through the JSON API: incidents, members, interactions,
approved talking points. ``world`` does the typing; it speaks as bob (manager) unless told otherwise."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from crm.briefings import suggestions
from crm.incidents import queries as incident_queries
from tests.conftest import START


@pytest.fixture(autouse=True)
async def _pool(pooled):
    """Every test here runs with the PostgreSQL pool (see tests/conftest.py)."""
    yield


DETECTED = START - timedelta(hours=2)  # incidents are detected two hours before "now" unless told otherwise


class World:
    def __init__(self, client, auth, clock) -> None:
        self.api = client
        self.auth = auth
        self.clock = clock
        self.h = auth["bob"]

    async def incident(
        self,
        title: str = "Misleading ad",
        *,
        topics=("ads",),
        platforms=("x",),
        detected_at: datetime | None = DETECTED,
        **extra,
    ) -> int:
        body = {"title": title, "severity": "high", "topics": list(topics), "platforms": list(platforms), **extra}
        if detected_at is not None:
            body["detected_at"] = detected_at.isoformat()
        r = await self.api.post("/api/v1/incidents", json=body, headers=self.h)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    async def member(
        self, name: str, *, handles: dict[str, int | None] | None = None, consent: bool = True, **extra
    ) -> int:
        """``handles`` maps platform to followers; each handle is the lower-cased name (plus the platform)."""
        body = {
            "name": name,
            "consent_private_briefing": consent,
            "handles": [
                {"platform": p, "handle": f"{name.lower()}_{p}", "followers": f} for p, f in (handles or {}).items()
            ],
            **extra,
        }
        r = await self.api.post("/api/v1/members", json=body, headers=self.h)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    async def interaction(
        self,
        member_id: int,
        *,
        at: datetime,
        platform: str = "instagram",
        kind: str = "reply",
        sentiment: str = "unknown",
        incident_id: int | None = None,
        troll: bool = False,
    ) -> int:
        body = {
            "member_id": member_id,
            "platform": platform,
            "kind": kind,
            "sentiment": sentiment,
            "occurred_at": at.isoformat(),
            "troll": troll,
        }
        if incident_id is not None:
            body["incident_id"] = incident_id
        r = await self.api.post("/api/v1/interactions", json=body, headers=self.h)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    async def approve(self, incident_id: int, points: list[str], **extra) -> int:
        """bob writes the version, alice approves it (two-person approval is on by default)."""
        r = await self.api.post(
            f"/api/v1/incidents/{incident_id}/talking-points", json={"points": points, **extra}, headers=self.h
        )
        assert r.status_code == 201, r.text
        version = r.json()["version"]
        r = await self.api.post(
            f"/api/v1/incidents/{incident_id}/talking-points/{version}/approve", headers=self.auth["alice"]
        )
        assert r.status_code == 200, r.text
        return version

    async def brief(self, incident_id: int, member_id: int, channel: str = "dm", *, who: str = "bob", **extra):
        return await self.api.post(
            f"/api/v1/incidents/{incident_id}/briefings",
            json={"member_id": member_id, "channel": channel, **extra},
            headers=self.auth[who],
        )

    async def briefed(self, incident_id: int, member_id: int, channel: str = "dm", **extra) -> dict:
        r = await self.brief(incident_id, member_id, channel, **extra)
        assert r.status_code == 201, r.text
        return r.json()

    async def feedback(self, incident_id: int, member_id: int, verdict: str, *, who: str = "bob"):
        return await self.api.post(
            f"/api/v1/incidents/{incident_id}/suggestions/{member_id}/feedback",
            json={"verdict": verdict},
            headers=self.auth[who],
        )

    async def suggestions(self, incident_id: int, *, include_excluded: bool = True, limit: int = 20) -> dict:
        r = await self.api.get(
            f"/api/v1/incidents/{incident_id}/suggestions",
            params={"include_excluded": str(include_excluded).lower(), "limit": limit},
            headers=self.h,
        )
        assert r.status_code == 200, r.text
        body = r.json()
        check_items(body["items"])
        return body

    async def rank(self, incident_id: int, member_ids: list[int] | None = None, **kw) -> suggestions.Ranking:
        incident = await incident_queries.incident_or_404(incident_id)
        return await suggestions.rank(incident, now=self.clock(), member_ids=member_ids, **kw)


def check_items(items: list[dict]) -> None:
    """What every suggestion list promises: best first, factors adding up to the score, 1-3 reasons."""
    scores = [i["score"] for i in items]
    assert scores == sorted(scores, reverse=True), scores
    for item in items:
        assert set(item["factors"]) == set(suggestions.WEIGHTS), item
        assert sum(item["factors"].values()) == pytest.approx(item["score"], abs=1e-6), item
        assert 1 <= len(item["reasons"]) <= 3, item
        assert all(isinstance(r, str) and r.strip() for r in item["reasons"]), item


def ids(items: list[dict]) -> list[int]:
    return [i["member_id"] for i in items]


def by_id(items: list[dict]) -> dict[int, dict]:
    return {i["member_id"]: i for i in items}


def excluded(body: dict) -> dict[int, str]:
    return {e["member_id"]: e["reason"] for e in body["excluded"]}


@pytest.fixture
async def world(client, auth, clock) -> World:
    return World(client, auth, clock)
