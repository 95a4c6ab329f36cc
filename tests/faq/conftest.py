import pytest

from crm import db


@pytest.fixture(autouse=True)
async def _pool(pooled):
    """Every test here runs with the PostgreSQL pool (see tests/conftest.py)."""
    yield


@pytest.fixture(autouse=True)
async def _empty_fts(engine):
    """tests/conftest.py empties the Piccolo tables; SQLite's FTS5 index is not one of them.
    (On PostgreSQL the index is a column of faq_entry, emptied with it.)"""
    if db.is_sqlite():
        await engine.run_ddl("DELETE FROM faq_fts")
    yield
