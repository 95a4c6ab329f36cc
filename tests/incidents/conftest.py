import pytest


@pytest.fixture(autouse=True)
async def _pool(pooled):
    """Every test here runs with the PostgreSQL pool (see tests/conftest.py)."""
    yield


@pytest.fixture
async def api(client, auth):
    """The client, signed in by bearer token as bob (manager) unless a request says otherwise."""
    client.headers.update(auth["bob"])
    return client
