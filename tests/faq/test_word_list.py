"""The word list prefixes expand into (search.prefix_words) follows every write: on PostgreSQL the table
faq_word, kept by a trigger, always equals what ts_stat reads from every entry's words (the old, slow way);
on both engines a word leaves the list with the last entry that has it, and comes back with an edit."""

from __future__ import annotations

import random

import pytest

from crm import db
from crm.audit.service import Actor
from crm.faq import search, service
from crm.faq.tables import FaqEntry
from crm.incidents import service as incidents
from tests.conftest import START

ACTOR = Actor.system("test")
WORDS = ["refund", "refunds", "refused", "flight", "flights", "negative", "negatively", "wifi", "crew", "cr"]


@pytest.fixture
async def incident(engine) -> int:
    row = await incidents.create_incident(values={"title": "Outage", "severity": "high"}, actor=ACTOR, now=START)
    return row["id"]


async def add(incident_id: int, question: str, answer: str, status: str = "published") -> dict:
    values = {"question": question, "answer": answer, "status": status, "tags": []}
    return await service.create_entry(incident_id=incident_id, actor=ACTOR, now=START, may_publish=True, values=values)


async def assert_word_list_is_every_entrys_words() -> None:
    if db.is_sqlite():
        return  # FTS5 keeps faq_words_vocab itself
    stored = await FaqEntry.raw("SELECT word, entries FROM faq_word ORDER BY word").run()
    counted = await FaqEntry.raw(
        "SELECT word, ndoc AS entries FROM ts_stat('SELECT words FROM faq_entry WHERE words IS NOT NULL') "
        'ORDER BY word COLLATE "C"'
    ).run()
    assert stored == counted


@pytest.mark.parametrize("seed", range(4))
async def test_the_word_list_follows_random_writes(incident, seed):
    rng = random.Random(seed)

    def text() -> str:
        return " ".join(rng.choices(WORDS, k=rng.randint(1, 4)))

    entries: list[int] = []
    for _ in range(25):
        action = rng.choice(["create", "create", "edit", "status"]) if entries else "create"
        if action == "create":
            entries.append((await add(incident, text(), text(), rng.choice(["draft", "published"])))["id"])
        elif action == "edit":
            field = rng.choice(["question", "answer"])
            await service.update_entry(entry_id=rng.choice(entries), values={field: text()}, actor=ACTOR, now=START)
        else:
            status = rng.choice(["draft", "published", "retired"])
            await service.update_entry(entry_id=rng.choice(entries), values={"status": status}, actor=ACTOR, now=START)
        await assert_word_list_is_every_entrys_words()
    if not db.is_sqlite():  # a row deleted behind the service's back still leaves the list (the trigger)
        await FaqEntry.delete().where(FaqEntry.id == entries[0]).run()
        await assert_word_list_is_every_entrys_words()


async def test_a_word_leaves_with_its_last_entry_and_comes_back(incident):
    first = await add(incident, "Refunds for cancelled flights?", "Automatic.")
    second = await add(incident, "Refused boarding?", "Ask the crew.")
    assert await search.prefix_words("ref") == ["refunds", "refused"]
    await service.update_entry(entry_id=second["id"], values={"status": "retired"}, actor=ACTOR, now=START)
    assert await search.prefix_words("ref") == ["refunds"]
    await service.update_entry(entry_id=first["id"], values={"question": "Money back?"}, actor=ACTOR, now=START)
    assert await search.prefix_words("ref") == []
    await service.update_entry(entry_id=second["id"], values={"status": "published"}, actor=ACTOR, now=START)
    assert await search.prefix_words("ref") == ["refused"]
    assert await search.prefix_words("refusedx") == []
    await assert_word_list_is_every_entrys_words()
