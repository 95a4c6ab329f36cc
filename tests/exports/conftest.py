import pytest


@pytest.fixture(autouse=True)
async def _pool(pooled):
    """Every test here runs with the PostgreSQL pool (see tests/conftest.py)."""
    yield


# The members pages' four members that differ in every filter (with their interactions), as a fixture here too.
from tests.members.test_pages import cast  # noqa: E402, F401
