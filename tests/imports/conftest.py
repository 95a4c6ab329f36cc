"""Shared helpers for the import tests: the real Tweets.csv, generated files, and fingerprints of what an import
left in the database (by natural keys, so two databases can be compared)."""

from __future__ import annotations

import csv
import functools
import io
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crm.audit.service import Actor
from crm.imports import service
from crm.members.demo import TWEETS
from crm.members.tables import Handle, Interaction, Member, MemberDay, MemberTopic

ACTOR = Actor.system("test")
TWEETS_HEADER = (
    "tweet_id,airline_sentiment,airline_sentiment_confidence,negativereason,negativereason_confidence,airline,"
    "airline_sentiment_gold,name,negativereason_gold,retweet_count,text,tweet_coord,tweet_created,tweet_location,"
    "user_timezone"
).split(",")


@pytest.fixture(autouse=True)
async def _pool(pooled):
    """Every test here runs with the PostgreSQL pool (see tests/conftest.py)."""
    yield


@pytest.fixture
async def api(app, client):
    """The client, with a step that lets the app's runner finish what it started (no sleeping)."""

    async def step() -> None:
        await app.state.imports.drain()

    client.app_runner_step = step
    yield client
    await app.state.imports.stop()


@pytest.fixture
def tweets() -> Path:
    if not TWEETS.exists():
        pytest.fail(f"the shared data set is missing: {TWEETS}")
    return TWEETS


@functools.cache
def tweet_rows() -> list[dict[str, str]]:
    """Tweets.csv's rows, read once per run (do not modify them)."""
    with TWEETS.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_csv(path: Path, header: list[str], rows: list[list[str]] | list[dict], *, encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as handle:
        if rows and isinstance(rows[0], dict):
            writer = csv.DictWriter(handle, fieldnames=header)
            writer.writeheader()
            writer.writerows(rows)
        else:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
    return path


def tweets_subset(path: Path, rows: int) -> Path:
    """The first ``rows`` rows of Tweets.csv (with their repeats and multi-line texts), as a file."""
    return write_csv(path, TWEETS_HEADER, tweet_rows()[:rows])


def generated_interactions(path: Path, rows: int, *, people: int = 2000, prefix: str = "g") -> Path:
    """A generated interactions file, written row by row (never held in memory): ``people`` handles, every kind
    and sentiment, times over a year or so (17 minutes apart)."""
    start = datetime(2023, 1, 1, tzinfo=UTC)
    kinds = ["mention", "comment", "reply", "share", "post", "review", "dm", "event", "other"]
    moods = ["positive", "negative", "neutral", "pos", "-1", "0.7", ""]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "user", "platform", "type", "date", "sentiment", "message", "topic"])
        for n in range(rows):
            writer.writerow(
                [
                    f"{prefix}{n}",
                    f"person{(n * 7919) % people}",
                    "twitter" if n % 3 else "instagram",
                    kinds[n % len(kinds)],
                    (start + timedelta(minutes=17 * n)).isoformat(),
                    moods[n % len(moods)],
                    f"Generated message number {n} " + "x" * (n % 50),
                    ["travel", "food", ""][n % 3],
                ]
            )
    return path


async def import_file(path: Path | io.BytesIO, clock, kind: str = "interactions", **kwargs) -> service.Report:
    kwargs.setdefault("actor", ACTOR)
    return await service.run_import(kind=kind, source=path, clock=clock, **kwargs)


async def fingerprint() -> dict:
    """Members, handles, topics, interactions and rollups by natural keys (handles, external ids): equal for two
    databases holding the same data, whatever the ids."""
    members = {m["id"]: m for m in await Member.select().run()}
    handles = await Handle.select().run()
    name_of = {}
    for h in handles:
        name_of.setdefault(h["member"], h["key"])
    for m in members.values():
        name_of.setdefault(m["id"], f"email:{m['email']}")

    def who(member_id: int) -> str:
        return name_of[member_id]

    topics: dict[str, set] = {}
    for t in await MemberTopic.select().run():
        topics.setdefault(who(t["member"]), set()).add(t["topic"])
    days: dict[str, dict] = {}
    for d in await MemberDay.select().run():
        days.setdefault(who(d["member"]), {})[d["day"]] = tuple(
            d[c] for c in ("total", "positive", "negative", "neutral", "unknown", "troll")
        )
    profile = ("name", "email", "tier", "time_zone", "location", "language", "notes", "do_not_contact", "reach")
    rollup = ("interactions_total", "first_interaction_at", "last_interaction_at", "usual_gap_seconds", "quiet_after")
    return {
        "members": {
            who(m["id"]): (
                tuple(m[c] for c in profile + rollup),
                round(m["score_log2"], 9),
                m["consent_private_briefing"],
            )
            for m in members.values()
        },
        "handles": {h["key"]: (who(h["member"]), h["handle"], h["followers"], h["url"]) for h in handles},
        "topics": topics,
        "days": days,
        "interactions": sorted(
            (
                who(i["member"]),
                i["platform"],
                i["kind"],
                i["occurred_at"],
                i["sentiment"],
                i["sentiment_reason"],
                i["troll"],
                i["text"],
                i["url"] or "",
                i["external_id"] or "",
            )
            for i in await Interaction.select().run()
        ),
    }


async def rollups() -> dict[int, dict]:
    """Every member's rollup columns and member_day rows."""
    out = {}
    for m in await Member.select().run():
        out[m["id"]] = {
            k: m[k]
            for k in (
                "interactions_total",
                "first_interaction_at",
                "last_interaction_at",
                "score_log2",
                "usual_gap_seconds",
                "quiet_after",
            )
        }
        out[m["id"]]["days"] = {}
    for d in await MemberDay.select().run():
        out[d["member"]]["days"][d["day"]] = {
            c: d[c] for c in ("total", "positive", "negative", "neutral", "unknown", "troll")
        }
    return out


def assert_same_rollups(got: dict, expected: dict, *, exact_score: bool = False) -> None:
    assert got.keys() == expected.keys()
    for member_id, want in expected.items():
        have = got[member_id]
        for key, value in want.items():
            if key == "score_log2" and not exact_score:
                assert math.isclose(have[key], value, rel_tol=1e-12, abs_tol=1e-9), (member_id, key)
            else:
                assert have[key] == value, (member_id, key, have[key], value)
