"""The issue's acceptance for the bulk API: a listening tool posting the whole Tweets.csv through
POST /api/v1/interactions/bulk in batches of 500, each row mapped as the twitter-airline preset maps it, ends with
the import's counts (7,701 members, 14,485 interactions), the repeated tweet ids answered as duplicates, and
rollups equal to a rebuild (checked on a sample of members: see the test)."""

from __future__ import annotations

import json
from datetime import datetime

import msgspec
import pytest

from crm import db
from crm.imports.mapping import BUILT_URL, compile_mapping
from crm.imports.presets import preset
from crm.members import engagement
from crm.members.schemas import InteractionCreate
from crm.members.tables import Handle, Interaction, Member
from tests.imports.conftest import TWEETS_HEADER, assert_same_rollups, rollups, tweet_rows
from tests.imports.test_tweets import first_and_conflicting

FIELDS = [f.encode_name for f in msgspec.structs.fields(InteractionCreate)]
BATCH = 500


@pytest.fixture
async def api(client, auth):
    """A listening tool's client: a manager's API token."""
    client.headers.update(auth["bob"])
    return client


def as_items() -> list[dict]:
    """Each row as the preset reads it, kept to the single endpoint's fields (the preset's member extras — topic,
    time zone, negative reason — have no field there), with the link the preset builds."""
    compiled = compile_mapping(preset("twitter-airline", "interactions"), TWEETS_HEADER)
    items = []
    for row in tweet_rows():
        values, errors = compiled.convert([row[column] for column in TWEETS_HEADER])
        assert not errors, (row, errors)
        values["url"] = values.pop(BUILT_URL, None) or values.get("url")
        item = {name: values[name] for name in FIELDS if values.get(name) not in (None, "")}
        item["occurred_at"] = item["occurred_at"].isoformat()
        items.append(item)
    return items


async def test_posting_the_whole_file_in_batches_of_500_gives_the_imports_counts(api, tweets):
    items = as_items()
    assert len(items) == 14_640
    answers = []
    for number, start in enumerate(range(0, len(items), BATCH)):
        batch = items[start : start + BATCH]
        if number % 2:  # half the requests as NDJSON
            body = b"".join(json.dumps(item).encode() + b"\n" for item in batch)
            response = await api.post(
                "/api/v1/interactions/bulk", content=body, headers={"Content-Type": "application/x-ndjson"}
            )
        else:
            response = await api.post("/api/v1/interactions/bulk", json=batch)
        assert response.status_code == 200, response.text
        got = response.json()["items"]
        assert [i["index"] for i in got] == list(range(len(batch)))
        answers += got

    assert await Member.count().run() == 7_701
    assert await Interaction.count().run() == 14_485
    assert await Handle.count().where(Handle.platform == "x").run() == 7_701
    statuses = [a["status"] for a in answers]
    assert statuses.count("created") == 14_485 and statuses.count("duplicate") == 155
    assert "rejected" not in statuses

    # The first row of each repeated id wins (as in the import), and every later one is answered with its id.
    first, _ = first_and_conflicting()
    ids = {r["external_id"]: r for r in await Interaction.select().run()}
    for n, (row, answer) in enumerate(zip(tweet_rows(), answers, strict=True)):
        kept = ids[row["tweet_id"]]
        assert answer["id"] == kept["id"], n
        assert answer["status"] == ("created" if first[row["tweet_id"]] is row else "duplicate"), n
    sample = ids[tweet_rows()[0]["tweet_id"]]
    assert sample["url"] == f"https://twitter.com/cairdin/status/{tweet_rows()[0]['tweet_id']}"
    assert sample["occurred_at"] == datetime.fromisoformat("2015-02-24T11:35:52-08:00")

    # Rollups equal a rebuild from the log, for a sample of members (the busiest, and every 25th): the whole
    # rebuild takes ~90 s on SQLite, and tests/members/test_bulk_api.py compares every member on smaller data.
    folded = await rollups()
    busiest = sorted(folded, key=lambda m: folded[m]["interactions_total"], reverse=True)[:50]
    sample = sorted({*busiest, *sorted(folded)[::25]})
    async with db.transaction():
        for member_id in sample:
            await engagement.rebuild_member(member_id)
    rebuilt = await rollups()
    assert_same_rollups({m: rebuilt[m] for m in sample}, {m: folded[m] for m in sample})
    assert rebuilt[busiest[0]]["interactions_total"] > 20
