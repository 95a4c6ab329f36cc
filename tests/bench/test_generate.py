"""crm bench generate: reproducible, refuses a database with data in it, and leaves the rollups exactly as the
app's own rebuild computes them."""

from __future__ import annotations

import pytest

from crm.bench.generate import generate
from crm.bench.queries import sizes, targets
from crm.errors import InvalidInput
from crm.members.bulk import rebuild_all
from crm.members.tables import Interaction, Member
from tests.conftest import START, empty_all_tables

ROLLUP = (Member.interactions_total, Member.first_interaction_at, Member.last_interaction_at, Member.score_log2)


async def community() -> list[dict]:
    return await Member.select(Member.name, Member.tier, Member.reach, *ROLLUP).order_by(Member.id).run()


async def test_the_same_seed_gives_the_same_community(engine):
    made = await generate(members=30, interactions=400, seed=3, now=START)
    first = await community()
    texts = await Interaction.select(Interaction.text).order_by(Interaction.id).limit(50).run()
    assert made.members == 30 and (await sizes())["interactions"] == made.interactions == 400
    await empty_all_tables()
    await generate(members=30, interactions=400, seed=3, now=START)
    assert await community() == first
    assert await Interaction.select(Interaction.text).order_by(Interaction.id).limit(50).run() == texts
    await empty_all_tables()
    await generate(members=30, interactions=400, seed=4, now=START)
    assert await community() != first


async def test_activity_is_skewed_and_the_incident_has_its_conversation(engine):
    made = await generate(members=60, interactions=1_200, seed=1, now=START)
    totals = sorted((r["interactions_total"] for r in await community()), reverse=True)
    assert totals[0] >= 5 * totals[len(totals) // 2]  # a power law, not an even spread
    linked = await Interaction.count().where(Interaction.incident_id == made.current_incident).run()
    assert linked == 30 and (await targets())["incident"] == made.current_incident


async def test_its_rollups_are_what_the_app_rebuilds(engine):
    await generate(members=30, interactions=500, seed=2, now=START)
    folded = await community()
    await rebuild_all()
    rebuilt = await community()
    for a, b in zip(folded, rebuilt, strict=True):
        assert a["score_log2"] == pytest.approx(b["score_log2"], abs=1e-9)
        assert {**a, "score_log2": 0} == {**b, "score_log2": 0}


async def test_it_refuses_a_database_with_data_unless_forced(engine):
    await generate(members=20, interactions=100, seed=1, now=START)
    before = await community()
    with pytest.raises(InvalidInput) as refused:
        await generate(members=25, interactions=200, seed=1, now=START)
    assert "--force" in refused.value.fields["database"]
    assert await community() == before  # nothing written
    await generate(members=25, interactions=200, seed=1, now=START, force=True)
    assert len(await community()) == 25


@pytest.mark.parametrize("members, interactions", [(5, 100), (50, 10)])
async def test_it_refuses_sizes_it_cannot_make(engine, members, interactions):
    with pytest.raises(InvalidInput) as refused:
        await generate(members=members, interactions=interactions, now=START)
    assert "members" in refused.value.fields
    assert (await sizes())["members"] == 0
