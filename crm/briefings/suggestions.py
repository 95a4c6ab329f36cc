"""Whom to brief for an incident: an explainable score from stored state, and hard exclusions.

Each factor is scaled to about 0..1 and multiplied by its weight; the score is their sum:

  conversation  4.0  positive/neutral interactions about this incident (linked to it, or on its platforms
                     since detection): 1 at five or more, on a log scale; the strongest signal
  engagement    2.0  current engagement score s, as s / (s + 5)
  regularity    1.0  usual gap g days, as 1 / (1 + g / 7): weekly 0.5, daily 0.9
  relevance     2.0  share of the incident's topics the member cares about
  reach         1.5  log10(1 + followers on affected platforms + a quarter of the others) / 6: a million = 1
  goodwill      1.5  positive minus negative share of the last 90 days (negative lowers the score)
  tier          1.0  champion 1, advocate 0.5, member 0

Reads: the member rollups (score, gap), the incident's conversation rollup (crm/incidents/conversation.py),
handles, topics, the daily rollup for 90 days, briefings and feedback; never the interaction log. The candidates,
their exclusions and the inputs of their score are one SQL statement with a top-k limit (crm/briefings/candidates.py);
the score is computed here from those inputs, and the reasons only for the members shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from crm.briefings import candidates
from crm.briefings.vocab import EXCLUSION_REASONS
from crm.formatting import plural
from crm.incidents import talking_points
from crm.members import engagement
from crm.members import queries as member_queries
from crm.preferences import queries as preferences

WEIGHTS = {
    "conversation": 4.0,
    "engagement": 2.0,
    "regularity": 1.0,
    "relevance": 2.0,
    "reach": 1.5,
    "goodwill": 1.5,
    "tier": 1.0,
}
TIER_BOOST = {"champion": 1.0, "advocate": 0.5, "member": 0.0}
CANDIDATES_BY_SCORE = candidates.CANDIDATES_BY_SCORE


@dataclass
class Suggestion:
    member_id: int
    name: str
    tier: str
    score: float
    factors: dict[str, float]
    reasons: list[str]
    preferred_handle: str | None = None
    accepted: bool = False


@dataclass
class Exclusion:
    member_id: int
    name: str
    reason: str
    explanation: str


@dataclass
class Ranking:
    items: list[Suggestion] = field(default_factory=list)  # best first; the top k when k was given
    excluded: list[Exclusion] = field(default_factory=list)
    total: int = 0  # how many are suggested in all
    # for member_ids: which of them are candidates, and each suggested one's position in the whole ranking
    candidates: set[int] = field(default_factory=set)
    positions: dict[int, int] = field(default_factory=dict)


async def _question(incident: dict, now: datetime) -> candidates.Question:
    current = await talking_points.current(incident["id"])
    return candidates.Question(
        incident_id=incident["id"],
        topics=list(incident["topics"]),
        platforms=list(incident["platforms"]),
        talking_points_id=current["id"] if current is not None else None,
        fatigue_limit=int(await preferences.get("briefing_fatigue_incidents")),
        now=now,
    )


async def rank(
    incident: dict,
    *,
    now: datetime,
    k: int | None = None,
    include_excluded: bool = False,
    member_ids: list[int] | None = None,
) -> Ranking:
    """Suggestions for ``incident``, best first: the top ``k`` (all when None), with ``total``; the exclusions
    too when asked. With ``member_ids`` ("why not X?"): only those members, each suggested (with its position in
    the whole ranking), excluded with its reason, or scored though not a candidate."""
    question = await _question(incident, now)
    if member_ids is not None:
        return await _rank_members(incident, question, member_ids)
    rows, total = await candidates.top(question, k)
    ranking = Ranking(total=total)
    scored = _ordered(rows, incident, now)[:k] if k is not None else _ordered(rows, incident, now)
    ranking.items = await _with_reasons(scored, incident, now)
    if include_excluded:
        ranking.excluded = [_exclusion(r) for r in await candidates.excluded(question)]
    return ranking


async def _rank_members(incident: dict, question: candidates.Question, member_ids: list[int]) -> Ranking:
    rows = await candidates.members(question, member_ids)
    ranking = Ranking()
    suggested = [r for r in rows if r["reason"] is None]
    ranking.excluded = [_exclusion(r) for r in rows if r["reason"] is not None]
    found = {r["id"] for r in rows}
    ranking.excluded += [
        Exclusion(missing, "", "deleted", EXCLUSION_REASONS["deleted"])
        for missing in member_ids
        if missing not in found
    ]
    ranking.items = await _with_reasons(_ordered(suggested, incident, question.now), incident, question.now)
    ranking.candidates = {r["id"] for r in rows if r["candidate"]}
    ranked = [r for r in suggested if r["candidate"]]
    above, near = await candidates.around(question, [r["raw"] for r in ranked])
    for row, count in zip(ranked, above, strict=True):
        # ahead for sure: more than the band above (counted in SQL); within the band: decided exactly here
        me, low, high = (
            _order_key(row, incident, question.now),
            row["raw"] - candidates.BAND,
            row["raw"] + candidates.BAND,
        )
        ranking.positions[row["id"]] = (
            1 + count + sum(1 for o in near if low <= o["raw"] <= high and _order_key(o, incident, question.now) < me)
        )
    return ranking


def _order_key(row: dict, incident: dict, now: datetime) -> tuple[float, int]:
    return (-score_of(row, incident, now)[1], row["id"])


def _ordered(rows: list[dict], incident: dict, now: datetime) -> list[dict]:
    """Rows in the order of the shown score, then member id (SQL ordered them by the unrounded score)."""
    return sorted(rows, key=lambda r: _order_key(r, incident, now))


def _exclusion(row: dict) -> Exclusion:
    params = {
        "critic": {"n": row["critical"]},
        "fatigue": {"n": row["fatigue"]},
        "skipped": {"verdict": {"skipped": "skipped", "bad_fit": "not a good fit"}.get(row["verdict"], "")},
    }.get(row["reason"], {})
    return Exclusion(row["id"], row["name"], row["reason"], EXCLUSION_REASONS[row["reason"]].format(**params))


def score_of(row: dict, incident: dict, now: datetime) -> tuple[dict[str, float], float]:
    """The documented factors and score of one candidate, from its inputs (a row of crm/briefings/candidates.py)."""
    incident_topics = set(incident["topics"])
    score_now = engagement.score_at(row["score_log2"], now)
    gap = row["usual_gap_seconds"]
    gap_days = gap / 86400 if gap is not None else None  # 0 is most regular
    rated = row["rated"]
    raw = {
        "conversation": min(1.0, math.log2(1 + row["supportive"]) / math.log2(6)),
        "engagement": score_now / (score_now + 5),
        "regularity": 1 / (1 + gap_days / 7) if gap_days is not None else 0.0,
        "relevance": row["shared"] / len(incident_topics) if incident_topics else 0.0,
        "reach": min(1.0, math.log10(1 + row["on_affected"] + row["elsewhere"] / 4) / 6),
        "goodwill": (row["positive"] - row["negative"]) / rated if rated else 0.0,
        "tier": TIER_BOOST[row["tier"]],
    }
    factors = {name: round(value * WEIGHTS[name], 3) for name, value in raw.items()}
    return factors, round(sum(factors.values()), 3)


async def _with_reasons(rows: list[dict], incident: dict, now: datetime) -> list[Suggestion]:
    """Suggestions with their reasons and preferred handle: reads handles and topics of these members only."""
    ids = [r["id"] for r in rows]
    handles = await member_queries.handles_by_member(ids)
    topics = await member_queries.topics_by_member(ids)
    out = []
    for row in rows:
        factors, score = score_of(row, incident, now)
        suggestion = _explain(row, handles.get(row["id"], []), topics.get(row["id"], set()), incident, now)
        suggestion.factors, suggestion.score = factors, score
        suggestion.accepted = row["verdict"] == "accepted"
        out.append(suggestion)
    return out


def _explain(row: dict, handles: list[dict], topics: set[str], incident: dict, now: datetime) -> Suggestion:
    affected = set(incident["platforms"])
    supportive = row["supportive"]
    score_now = engagement.score_at(row["score_log2"], now)
    gap_days = row["usual_gap_seconds"] / 86400 if row["usual_gap_seconds"] is not None else None
    on_affected = row["on_affected"]
    positive, rated = row["positive"], row["rated"]
    shared = topics & set(incident["topics"])
    reasons = []
    if supportive:
        reasons.append(
            f"Commenting on this incident ({plural(supportive, 'positive or neutral interaction')} since detection)"
        )
    if on_affected:
        platforms = ", ".join(sorted({h["platform"] for h in handles if h["platform"] in affected}))
        reasons.append(f"{_compact(on_affected)} followers on {platforms}, an affected platform")
    if gap_days is not None and gap_days <= 14:
        often = (
            "more than once a day"
            if gap_days < 0.5
            else f"about every {gap_days:.0f} day{'s' if round(gap_days) != 1 else ''}"
        )
        reasons.append(f"Interacts {often} ({plural(row['interactions_total'], 'interaction')} in all)")
    if shared:
        reasons.append(f"Cares about {', '.join(sorted(shared))}")
    if rated and positive / rated >= 0.6:
        reasons.append(f"{positive / rated:.0%} of recent interactions positive")
    if row["tier"] == "champion":
        reasons.append("A champion of the brand")
    if not reasons:
        reasons.append(f"Engagement score {score_now:.1f}")
    handle = max(handles, key=lambda h: (h["platform"] in affected, h["followers"] or 0), default=None)
    return Suggestion(
        member_id=row["id"],
        name=row["name"],
        tier=row["tier"],
        score=0.0,
        factors={},
        reasons=reasons[:3],
        preferred_handle=f"@{handle['handle']} on {handle['platform']}" if handle else None,
    )


def _compact(n: int) -> str:
    return f"{n / 1000:.0f}k" if n >= 10_000 else f"{n:,}"
