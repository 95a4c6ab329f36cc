"""Queries per request are constant in the data's size (issue 13): each main page and API is asked once with a
small generated community and once with a larger one (more members, interactions, incidents, links, briefings,
thank-yous and FAQ entries), and must run the same number of statements both times."""

from __future__ import annotations

import httpx
import pytest
from piccolo.engine.postgres import PostgresEngine

from crm import db
from crm.accounts import tokens
from crm.app import create_app
from crm.audit.service import Actor
from crm.bench import queries as bench_queries
from crm.bench.generate import MANAGER, Shape, generate
from crm.clock import FrozenClock
from crm.settings import Settings
from tests.conftest import SECRET, START, empty_all_tables

SIZES = [
    dict(members=25, interactions=300, faq_entries=5, shape=Shape.for_members(25)),
    # Over 1,000 advocates and champions: more candidates for a briefing than one statement's worth of ids.
    dict(
        members=1_300,
        interactions=2_500,
        faq_entries=25,
        shape=Shape(
            past_incidents=4, past_linked=20, current_linked=80, current_briefed=8, past_briefed=5, keen_percent=90
        ),
    ),
]
PAGES = {
    "member list": lambda t: "/members",
    "member page": lambda t: f"/members/{t['involved']}",
    "member timeline API": lambda t: f"/api/v1/members/{t['busiest']}/interactions",
    "incident page": lambda t: f"/incidents/{t['incident']}",
    "suggestions API": lambda t: f"/api/v1/incidents/{t['incident']}/suggestions",
    "dashboard": lambda t: "/",
    "FAQ search": lambda t: "/faq?q=flight",
}


@pytest.fixture(scope="module")
async def counts(database, tmp_path_factory) -> dict[str, list[int]]:
    """Statements per page at each size, on this engine."""
    engine = db.make_engine(database)
    db.bind(engine)
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=4)
    settings = Settings(
        database=database,
        secret_key=SECRET,
        env="development",
        timezone="UTC",
        var_dir=tmp_path_factory.mktemp("var"),
    )
    out: dict[str, list[int]] = {name: [] for name in PAGES}
    try:
        for size in SIZES:
            await empty_all_tables()
            await generate(**size, seed=7, now=START)
            targets = await bench_queries.targets()
            _, token = await tokens.create_token(email=MANAGER, label="", actor=Actor.system("t"), now=START)
            app = create_app(settings, engine=engine, clock=FrozenClock(START), manage_pool=False)
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://testserver",
                headers={"Authorization": f"Bearer {token}"},
            ) as client:
                for name, path in PAGES.items():
                    assert (await client.get(path(targets))).status_code == 200  # warm: the token's last use
                    with db.counting_queries() as log:
                        response = await client.get(path(targets))
                    assert response.status_code == 200, (name, response.text[:300])
                    out[name].append(log.count)
    finally:
        await db.stop(engine)
    return out


async def test_the_larger_community_really_is_larger(database):
    """The comparison means something only if every kind of row grew."""
    small, large = SIZES
    assert large["members"] > 3 * small["members"] and large["interactions"] > 4 * small["interactions"]
    assert large["shape"].past_incidents > small["shape"].past_incidents
    assert large["shape"].current_linked > small["shape"].current_linked
    assert large["faq_entries"] > small["faq_entries"]
    assert large["members"] * large["shape"].keen_percent / 100 > 1_000  # candidates for a briefing


@pytest.mark.parametrize("page", list(PAGES))
async def test_queries_per_request_do_not_grow_with_the_data(counts, page):
    small, large = counts[page]
    assert small > 0
    assert small == large, f"{page}: {small} statements with the small community, {large} with the larger one"
