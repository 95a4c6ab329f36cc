"""A community drawn from one seed: who the members are and what they did. Only ``random.Random(seed)`` decides,
so the same seed gives the same community (its times are relative to the ``now`` it is drawn for).

Activity follows a power law (Zipf, exponent ``ACTIVITY_EXPONENT``): at S the busiest member has a few thousand
interactions and the median one a handful, as real communities do. Followers are heavy-tailed as well
(log-normal), sentiment is mixed, and a year of history leans towards the recent months."""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

PLATFORMS = ("x", "instagram", "tiktok")  # every member has a handle on one to three of them
TOPICS = (
    "travel", "loyalty", "refunds", "wi-fi", "food", "baggage", "pricing", "app",
    "lounges", "delays", "sustainability", "service",
)  # fmt: skip
KINDS = (("mention", 30), ("comment", 25), ("reply", 20), ("share", 10), ("post", 6), ("review", 4), ("dm", 3))
KINDS += (("event", 1), ("other", 1))
SENTIMENTS = (("positive", 45), ("neutral", 28), ("negative", 20), ("unknown", 7))
KEEN_PERCENT = 12  # advocates and champions: 2% champions, 10% advocates
ACTIVITY_EXPONENT = 0.9
HISTORY_DAYS = 365
QUIET_DAYS = 90
FIRST = ("Ana", "Ben", "Chloe", "Dev", "Elif", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Luca", "Maya")
LAST = ("Silva", "Okafor", "Novak", "Tanaka", "Müller", "Haddad", "Kowalski", "Rossi", "Nguyen", "Byrne", "Lind")
WORDS = (
    "flight", "crew", "seat", "boarding", "delay", "refund", "upgrade", "lounge", "snack", "wifi", "app",
    "points", "gate", "bag", "check-in", "service", "price", "sale", "email", "apology", "fix", "thanks",
)  # fmt: skip


def _weighted(pairs: tuple[tuple[str, int], ...]) -> tuple[list[str], list[int]]:
    names = [name for name, _ in pairs]
    return names, list(itertools.accumulate(weight for _, weight in pairs))


@dataclass
class MemberSpec:
    index: int
    name: str
    email: str | None
    tier: str
    consent: bool
    do_not_contact: bool
    topics: list[str]
    handles: list[dict[str, Any]]  # platform, handle, followers
    platforms: list[str] = field(default_factory=list)
    quiet: bool = False  # active until three months ago, then silent: "going quiet" on the dashboard


class Community:
    """The draw: members, the weights of their activity, and a stream of interactions."""

    def __init__(self, *, members: int, seed: int, now: datetime, keen_percent: int = KEEN_PERCENT) -> None:
        self.rng = random.Random(seed)
        self.now = now
        tiers, tier_weights = _weighted(
            (("champion", keen_percent), ("advocate", 5 * keen_percent), ("member", 6 * (100 - keen_percent)))
        )
        self.members: list[MemberSpec] = []
        for n in range(members):
            tier = self.rng.choices(tiers, cum_weights=tier_weights)[0]
            keen = tier != "member"
            name = f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"
            platforms = self.rng.sample(PLATFORMS, self.rng.choice((1, 1, 2, 2, 3)))
            handles = [
                {
                    "platform": p,
                    "handle": f"{name.split()[0].lower()}_{n}_{p[:2]}",
                    "followers": int(self.rng.lognormvariate(5.5 if keen else 4.5, 1.6)),
                }
                for p in platforms
            ]
            self.members.append(
                MemberSpec(
                    index=n,
                    name=name,
                    email=f"member{n}@example.net" if self.rng.random() < 0.5 else None,
                    tier=tier,
                    consent=self.rng.random() < (0.7 if keen else 0.2),
                    do_not_contact=self.rng.random() < 0.02,
                    topics=self.rng.sample(TOPICS, self.rng.randint(1, 3)),
                    handles=handles,
                    platforms=platforms,
                )
            )
        # Every community has a champion and an advocate, and some of its keenest people have gone quiet (the
        # first champion and advocate, and one in ten of the others), so every dashboard list has something.
        for tier, spec in zip(("champion", "advocate"), self.members[:2], strict=True):
            if not any(m.tier == tier for m in self.members):
                spec.tier = tier
        for tier in ("champion", "advocate"):
            next(m for m in self.members if m.tier == tier).quiet = True
        for spec in self.members:
            if spec.tier != "member" and self.rng.random() < 0.1:
                spec.quiet = True
        # Activity: the k-th most active member weighs 1/k^s; who is how active is shuffled, keener tiers first.
        order = sorted(range(members), key=lambda i: (self.members[i].tier == "member", self.rng.random()))
        weights = [0.0] * members
        for rank, i in enumerate(order, start=1):
            weights[i] = 1.0 / rank**ACTIVITY_EXPONENT
        self.cum_weights = list(itertools.accumulate(weights))
        self.kinds = _weighted(KINDS)
        self.sentiments = _weighted(SENTIMENTS)

    def member_for(self) -> MemberSpec:
        total = self.cum_weights[-1]
        return self.members[bisect.bisect_left(self.cum_weights, self.rng.random() * total)]

    def moment(self, *, within_days: float = HISTORY_DAYS) -> datetime:
        """A time in the last ``within_days``, leaning recent (a community grows)."""
        back = within_days * (1 - self.rng.random() ** 0.7)
        return self.now - timedelta(days=back, seconds=self.rng.randint(1, 3600))

    def text(self, words: int = 12) -> str:
        return " ".join(self.rng.choice(WORDS) for _ in range(words)).capitalize() + "."

    def interaction(self, spec: MemberSpec | None = None, *, at: datetime | None = None, **fixed: Any) -> dict:
        """One interaction as the bulk writer's clean_interaction takes it (member_id is filled in later)."""
        if spec is None:
            spec = self.member_for()
            for _ in range(50):  # an incident's conversation (a given time) is joined by people still around
                if at is None or not spec.quiet:
                    break
                spec = self.member_for()
        if at is None and spec.quiet:  # busy from 200 to 90 days ago, silent since
            at = self.now - timedelta(days=QUIET_DAYS + self.rng.random() * 110, seconds=self.rng.randint(1, 3600))
        values = {
            "platform": self.rng.choice(spec.platforms),
            "kind": self.rng.choices(self.kinds[0], cum_weights=self.kinds[1])[0],
            "occurred_at": at or self.moment(),
            "sentiment": self.rng.choices(self.sentiments[0], cum_weights=self.sentiments[1])[0],
            "troll": self.rng.random() < 0.01,
            "text": self.text(self.rng.randint(5, 25)),
        }
        values.update(fixed)
        return {"spec": spec, "values": values}

    def interactions(self, count: int) -> Iterator[dict]:
        for _ in range(count):
            yield self.interaction()
