"""The test oracle: the Python ranking whom-to-brief used before it moved to SQL (crm/briefings/candidates.py),
kept as it was. It reads the interaction log itself and scores every candidate in Python.

Whom to brief for an incident: an explainable score from stored state, and hard exclusions.

Each factor is scaled to about 0..1 and multiplied by its weight; the score is their sum:

  conversation  4.0  positive/neutral interactions about this incident (linked to it, or on its platforms
                     since detection): 1 at five or more, on a log scale; the strongest signal
  engagement    2.0  current engagement score s, as s / (s + 5)
  regularity    1.0  usual gap g days, as 1 / (1 + g / 7): weekly 0.5, daily 0.9
  relevance     2.0  share of the incident's topics the member cares about
  reach         1.5  log10(1 + followers on affected platforms + a quarter of the others) / 6: a million = 1
  goodwill      1.5  positive minus negative share of the last 90 days (negative lowers the score)
  tier          1.0  champion 1, advocate 0.5, member 0

Reads: the member rollups (score, gap, reach), handles, topics, the daily rollup for 90 days, briefings, and
only the interactions tied to this incident (linked, or on its platforms since detection), never the whole log.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from crm.briefings.tables import Briefing, SuggestionFeedback
from crm.briefings.vocab import EXCLUSION_REASONS
from crm.formatting import plural
from crm.incidents import talking_points
from crm.members import engagement
from crm.members import queries as member_queries
from crm.members.tables import Handle, Interaction, Member, MemberTopic
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
CANDIDATES_BY_SCORE = 300


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
    items: list[Suggestion] = field(default_factory=list)
    excluded: list[Exclusion] = field(default_factory=list)


async def _conversation(incident: dict) -> tuple[dict[int, int], dict[int, int]]:
    """Per member: supportive (positive/neutral) and critical (negative, linked) interactions about it."""
    about = Interaction.incident_id == incident["id"]
    if incident["platforms"]:
        about = about | (
            Interaction.platform.is_in(incident["platforms"]) & (Interaction.occurred_at >= incident["detected_at"])
        )
    rows = (
        await Interaction.select(Interaction.member, Interaction.sentiment, Interaction.incident_id)
        .where(
            about & (Interaction.troll == False)  # noqa: E712 - trolls neither help nor count as critics
        )
        .run()
    )
    supportive: dict[int, int] = {}
    critical: dict[int, int] = {}
    for row in rows:
        if row["sentiment"] in ("positive", "neutral"):
            supportive[row["member"]] = supportive.get(row["member"], 0) + 1
        elif row["sentiment"] == "negative" and row["incident_id"] == incident["id"]:
            critical[row["member"]] = critical.get(row["member"], 0) + 1
    return supportive, critical


async def _candidates(supportive: dict[int, int], member_ids: list[int] | None) -> list[dict]:
    columns = (
        Member.id,
        Member.name,
        Member.tier,
        Member.score_log2,
        Member.usual_gap_seconds,
        Member.reach,
        Member.consent_private_briefing,
        Member.do_not_contact,
        Member.interactions_total,
        Member.first_interaction_at,
        Member.last_interaction_at,
        Member.quiet_after,
    )
    if member_ids is not None:
        return await Member.select(*columns).where(Member.id.is_in(member_ids or [-1]) & member_queries.live()).run()
    top = (
        await Member.select(Member.id)
        .where(member_queries.live() & (Member.interactions_total > 0))
        .order_by(Member.score_log2, ascending=False)
        .limit(CANDIDATES_BY_SCORE)
        .run()
    )
    ids = {r["id"] for r in top} | set(supportive)
    ids |= {
        r["id"]
        for r in await Member.select(Member.id)
        .where(member_queries.live() & Member.tier.is_in(["advocate", "champion"]))
        .run()
    }
    return await Member.select(*columns).where(Member.id.is_in(sorted(ids) or [-1]) & member_queries.live()).run()


async def _grouped(table, column, ids: list[int], *extra) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {i: [] for i in ids}
    for start in range(0, len(ids), 1000):
        for row in await table.select(column, *extra).where(column.is_in(ids[start : start + 1000])).run():
            out[row[column._meta.name]].append(row)
    return out


async def rank(
    incident: dict, *, now: datetime, include_excluded: bool = False, member_ids: list[int] | None = None
) -> Ranking:
    """Suggestions for ``incident``, best first; exclusions too when asked (or for ``member_ids``)."""
    supportive, critical = await _conversation(incident)
    members = await _candidates(supportive, member_ids)
    ids = [m["id"] for m in members]
    handles = await _grouped(Handle, Handle.member, ids, Handle.platform, Handle.handle, Handle.followers)
    topics = await _grouped(MemberTopic, MemberTopic.member, ids, MemberTopic.topic)
    days = await member_queries.days_for(ids, engagement.window_start(now, 90))
    current = await talking_points.current(incident["id"])
    briefings = await _grouped(
        Briefing, Briefing.member, ids, Briefing.incident, Briefing.talking_points, Briefing.briefed_at
    )
    feedback = {
        r["member"]: r["verdict"]
        for r in await SuggestionFeedback.select(SuggestionFeedback.member, SuggestionFeedback.verdict)
        .where(SuggestionFeedback.incident == incident["id"])
        .run()
    }
    fatigue_limit = int(await preferences.get("briefing_fatigue_incidents"))
    month_ago = now - timedelta(days=30)
    incident_topics = set(incident["topics"])
    affected = set(incident["platforms"])
    ranking = Ranking()
    for m in members:
        mid = m["id"]
        other_incidents = {
            b["incident"] for b in briefings[mid] if b["incident"] != incident["id"] and b["briefed_at"] >= month_ago
        }
        checks = [
            ("do_not_contact", m["do_not_contact"], {}),
            ("no_consent", not m["consent_private_briefing"], {}),
            ("critic", critical.get(mid, 0) > 0, {"n": critical.get(mid, 0)}),
            (
                "already_briefed",
                current is not None and any(b["talking_points"] == current["id"] for b in briefings[mid]),
                {},
            ),
            ("fatigue", len(other_incidents) >= fatigue_limit, {"n": len(other_incidents)}),
            (
                "skipped",
                feedback.get(mid) in ("skipped", "bad_fit"),
                {"verdict": {"skipped": "skipped", "bad_fit": "not a good fit"}.get(feedback.get(mid), "")},
            ),
        ]
        excluded = next(((reason, params) for reason, hit, params in checks if hit), None)
        if excluded:
            reason, params = excluded
            ranking.excluded.append(Exclusion(mid, m["name"], reason, EXCLUSION_REASONS[reason].format(**params)))
            continue
        suggestion = _score(
            m,
            handles[mid],
            {t["topic"] for t in topics[mid]},
            days[mid],
            supportive.get(mid, 0),
            incident_topics,
            affected,
            now,
        )
        suggestion.accepted = feedback.get(mid) == "accepted"
        ranking.items.append(suggestion)
    if member_ids is not None:
        found = {m["id"] for m in members}
        for missing in [i for i in member_ids if i not in found]:
            ranking.excluded.append(Exclusion(missing, "", "deleted", EXCLUSION_REASONS["deleted"]))
    ranking.items.sort(key=lambda s: (-s.score, s.member_id))
    if not include_excluded and member_ids is None:
        ranking.excluded = []
    return ranking


def _score(
    m: dict,
    handles: list[dict],
    topics: set[str],
    days: list[dict],
    supportive: int,
    incident_topics: set[str],
    affected: set[str],
    now: datetime,
) -> Suggestion:
    score_now = engagement.score_at(m["score_log2"], now)
    gap_days = m["usual_gap_seconds"] / 86400 if m["usual_gap_seconds"] is not None else None  # 0 is most regular
    on_affected = sum(h["followers"] or 0 for h in handles if h["platform"] in affected)
    elsewhere = sum(h["followers"] or 0 for h in handles if h["platform"] not in affected)
    positive, negative = (sum(d[c] for d in days) for c in ("positive", "negative"))
    rated = positive + negative + sum(d["neutral"] for d in days)
    shared = topics & incident_topics
    raw = {
        "conversation": min(1.0, math.log2(1 + supportive) / math.log2(6)),
        "engagement": score_now / (score_now + 5),
        "regularity": 1 / (1 + gap_days / 7) if gap_days is not None else 0.0,
        "relevance": len(shared) / len(incident_topics) if incident_topics else 0.0,
        "reach": min(1.0, math.log10(1 + on_affected + elsewhere / 4) / 6),
        "goodwill": (positive - negative) / rated if rated else 0.0,
        "tier": TIER_BOOST[m["tier"]],
    }
    factors = {k: round(v * WEIGHTS[k], 3) for k, v in raw.items()}
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
        reasons.append(f"Interacts {often} ({plural(m['interactions_total'], 'interaction')} in all)")
    if shared:
        reasons.append(f"Cares about {', '.join(sorted(shared))}")
    if rated and positive / rated >= 0.6:
        reasons.append(f"{positive / rated:.0%} of recent interactions positive")
    if m["tier"] == "champion":
        reasons.append("A champion of the brand")
    if not reasons:
        reasons.append(f"Engagement score {score_now:.1f}")
    handle = max(handles, key=lambda h: (h["platform"] in affected, h["followers"] or 0), default=None)
    return Suggestion(
        member_id=m["id"],
        name=m["name"],
        tier=m["tier"],
        score=round(sum(factors.values()), 3),
        factors=factors,
        reasons=reasons[:3],
        preferred_handle=f"@{handle['handle']} on {handle['platform']}" if handle else None,
    )


def _compact(n: int) -> str:
    return f"{n / 1000:.0f}k" if n >= 10_000 else f"{n:,}"
