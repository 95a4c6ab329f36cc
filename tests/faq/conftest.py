import pytest

from crm.audit.service import Actor
from crm.faq import service
from crm.incidents import service as incidents


@pytest.fixture(autouse=True)
async def _pool(pooled):
    """Every test here runs with the PostgreSQL pool (see tests/conftest.py)."""
    yield


@pytest.fixture
async def api(client, auth):
    """The client, signed in by bearer token as bob (manager) unless a request says otherwise."""
    client.headers.update(auth["bob"])
    return client


@pytest.fixture
async def incident_id(api) -> int:
    response = await api.post("/api/v1/incidents", json={"title": "Deleted comments", "severity": "high"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


class Faq:
    """Builds FAQ scenarios through the services, speaking as one of the cast (bob unless told otherwise)."""

    def __init__(self, users, clock) -> None:
        self.users = users
        self.clock = clock

    def actor(self, name: str = "bob") -> Actor:
        return Actor(user_id=self.users[name]["id"], label=f"{name}@example.com")

    async def incident(self, title: str = "Deleted comments", **values) -> int:
        row = await incidents.create_incident(
            values={"title": title, "severity": "high", **values}, actor=self.actor(), now=self.clock()
        )
        return row["id"]

    async def resolve(self, incident_id: int) -> None:
        for status in ("acknowledged", "responding", "resolved"):
            await incidents.transition(incident_id=incident_id, to=status, actor=self.actor(), now=self.clock())

    async def entry(
        self,
        incident_id: int,
        question: str = "Did you delete negative comments?",
        answer: str = "No. A spam filter hid some; they are back.",
        *,
        status: str = "published",
        tags=(),
        by: str = "bob",
    ) -> dict:
        return await service.create_entry(
            incident_id=incident_id,
            actor=self.actor(by),
            now=self.clock(),
            may_publish=status != "draft",
            values={"question": question, "answer": answer, "status": status, "tags": list(tags)},
        )

    async def retire(self, entry_id: int) -> None:
        await service.retire(entry_id=entry_id, actor=self.actor(), now=self.clock())


@pytest.fixture
async def faq(users, clock) -> Faq:
    return Faq(users, clock)
