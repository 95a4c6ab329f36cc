"""Late-question tests build scenes through the JSON API: incidents (resolved at a chosen time by moving the
frozen clock), published or draft FAQ entries, members with handles. ``desk`` speaks as bob (manager)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.conftest import START


@pytest.fixture(autouse=True)
async def _pool(pooled):
    """Every test here runs with the PostgreSQL pool (see tests/conftest.py)."""
    yield


class Desk:
    def __init__(self, client, auth, clock) -> None:
        self.api = client
        self.auth = auth
        self.clock = clock
        self.h = auth["bob"]

    async def incident(
        self,
        title: str = "Holiday sale email with wrong prices",
        *,
        topics=("pricing",),
        detected_at: datetime | None = None,
        resolved_at: datetime | None = None,
    ) -> int:
        """An incident detected at ``detected_at`` (default: 40 days ago), resolved at ``resolved_at`` if given."""
        detected_at = detected_at or START - timedelta(days=40)
        now = self.clock.at
        self.clock.at = detected_at
        body = {"title": title, "severity": "medium", "topics": list(topics), "detected_at": detected_at.isoformat()}
        r = await self.api.post("/api/v1/incidents", json=body, headers=self.h)
        assert r.status_code == 201, r.text
        incident_id = r.json()["id"]
        if resolved_at is not None:
            for to in ("acknowledged", "responding", "resolved"):
                self.clock.at = resolved_at if to == "resolved" else detected_at + timedelta(minutes=5)
                r = await self.api.post(f"/api/v1/incidents/{incident_id}/transitions", json={"to": to}, headers=self.h)
                assert r.status_code == 200, r.text
        self.clock.at = now
        return incident_id

    async def faq(self, incident_id: int, question: str, answer: str, *, status: str = "published") -> int:
        r = await self.api.post(
            f"/api/v1/incidents/{incident_id}/faq",
            json={"question": question, "answer": answer, "status": status},
            headers=self.h,
        )
        assert r.status_code == 201, r.text
        return r.json()["id"]

    async def retire(self, entry_id: int) -> None:
        r = await self.api.patch(f"/api/v1/faq/{entry_id}", json={"status": "retired"}, headers=self.h)
        assert r.status_code == 200, r.text

    async def member(self, name: str, handles: list[tuple[str, str]]) -> int:
        body = {"name": name, "handles": [{"platform": p, "handle": h} for p, h in handles]}
        r = await self.api.post("/api/v1/members", json=body, headers=self.h)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    async def log(self, who: str = "carol", **body):
        return await self.api.post("/api/v1/late-questions", json=body, headers=self.auth[who])

    async def logged(self, who: str = "carol", **body) -> dict:
        r = await self.log(who, **body)
        assert r.status_code == 201, r.text
        return r.json()

    async def answer(self, question_id: int, who: str = "carol", **body):
        return await self.api.patch(f"/api/v1/late-questions/{question_id}", json=body, headers=self.auth[who])


@pytest.fixture
async def desk(client, auth, clock) -> Desk:
    return Desk(client, auth, clock)


PRICES_Q = "Did you honour the wrong prices in the holiday email?"
PRICES_A = "Yes. **Every** booking made at the wrong price was honoured."
COMMENTS_Q = "Did you delete negative comments?"
COMMENTS_A = "No. A spam filter hid some comments; they are all back."


@pytest.fixture
async def scene(desk) -> dict:
    """A pricing incident resolved 30 days ago with two published entries and a draft, and a later
    unrelated incident (other topics) with its own entry."""
    resolved = START - timedelta(days=30)
    iid = await desk.incident(resolved_at=resolved)
    prices = await desk.faq(iid, PRICES_Q, PRICES_A)
    comments = await desk.faq(iid, COMMENTS_Q, COMMENTS_A)
    draft = await desk.faq(iid, "Will the sale prices come back?", "Draft: we are deciding.", status="draft")
    other = await desk.incident("Wi-Fi joke", topics=("wifi",), detected_at=START - timedelta(days=3))
    wifi = await desk.faq(other, "Is the in-flight Wi-Fi fixed?", "Yes, on every flight since Monday.")
    return {
        "iid": iid,
        "other": other,
        "prices": prices,
        "comments": comments,
        "draft": draft,
        "wifi": wifi,
        "resolved": resolved,
    }
