"""Demo members: a few hand-made advocates with months of history. The real tweets from the shared airline data
set (TWEETS) are loaded through the import service (crm/imports/demo.py)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from crm import ROOT, db
from crm.audit.service import Actor
from crm.members import interactions, queries, service

TWEETS = ROOT.parent / "shared" / "data" / "twitter-airline-sentiment" / "Tweets.csv"
AIRLINE = "Virgin America"

# name, email, tier, topics, handles, consent, do_not_contact, pattern
PEOPLE = [
    (
        "Dana Whitfield",
        "dana@example.org",
        "champion",
        ["travel", "loyalty"],
        [("instagram", "dana.flies", 18_400), ("x", "danaw", 2_100)],
        True,
        False,
        "weekly",
    ),
    (
        "Ravi Menon",
        "ravi@example.org",
        "advocate",
        ["food", "travel"],
        [("x", "ravi_eats", 5_300)],
        True,
        False,
        "weekly_then_quiet",
    ),
    (
        "Lena Park",
        "lena@example.org",
        "advocate",
        ["family travel"],
        [("tiktok", "lenaparkfam", 41_000)],
        True,
        False,
        "new",
    ),
    (
        "Tom Okafor",
        "tom@example.org",
        "champion",
        ["loyalty", "business travel"],
        [("linkedin", "tomokafor", 3_900), ("forum", "tomo", None)],
        False,
        False,
        "weekly",
    ),
    (
        "Priya Shah",
        "priya@example.org",
        "member",
        ["travel"],
        [("instagram", "priya.wanders", 900)],
        False,
        True,
        "long_ago",
    ),
]


def _history(pattern: str, now: datetime, rng: random.Random) -> list[tuple[datetime, str, str]]:
    kinds, moods = ["comment", "share", "reply", "post", "mention"], ["positive", "positive", "neutral", "negative"]
    if pattern == "weekly":
        days = range(7, 240, 7)
    elif pattern == "weekly_then_quiet":
        days = range(70, 300, 6)
    elif pattern == "new":
        days = range(2, 20, 3)
    else:
        days = range(220, 400, 20)
    return [(now - timedelta(days=d, hours=rng.randint(0, 20)), rng.choice(kinds), rng.choice(moods)) for d in days]


async def load(now: datetime, actor: Actor) -> list[str]:
    async with db.transaction():  # one transaction for the whole batch: the services' own ones join it
        return await _load(now, actor)


async def _load(now: datetime, actor: Actor) -> list[str]:
    rng = random.Random(7)
    made = 0
    for name, email, tier, topics, handles, consent, dnc, pattern in PEOPLE:
        if await queries.member_id_by_email(email) is not None:
            continue
        member = await service.create_member(
            values={
                "name": name,
                "email": email,
                "tier": tier,
                "topics": topics,
                "handles": [{"platform": p, "handle": h, "followers": f} for p, h, f in handles],
                "consent_private_briefing": consent,
                "do_not_contact": dnc,
            },
            actor=actor,
            now=now,
        )
        platform = handles[0][0]
        for n, (at, kind, mood) in enumerate(_history(pattern, now, rng)):
            await interactions.log_interaction(
                values={
                    "member_id": member["id"],
                    "platform": platform,
                    "kind": kind,
                    "occurred_at": at,
                    "sentiment": mood,
                    "text": f"Demo {kind} by {name}",
                    "external_id": f"demo-{email}-{n}",
                },
                actor=actor,
                now=now,
            )
        made += 1
    return [f"Demo members: {made} added ({len(PEOPLE) - made} already there)."]
