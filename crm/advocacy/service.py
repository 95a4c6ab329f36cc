"""Advocate health: are we keeping our advocates in our corner?

For one member (``health``) and for every advocate and champion at once (``supportive``, the "stay
supportive" list) the same facts are read through the same grouped queries (crm/advocacy/queries.py) and
judged by the same ``warnings_for``, so the list, the member page and the API always agree.

Facts (only what happened at or before ``now`` counts; deleted thank-yous never count):
- last briefed / last thanked: the newest briefing / thank-you.
- asks / thanks over 12 months: briefings / thank-yous in the last 365 days, ``now - 365 days <= t <= now``.
- engagement state: crm/members/engagement.state_of(), exactly as the member page shows it.

Warnings, each with a reason naming its numbers and dates:
- ``asked_without_thanks``: briefed 3 or more times since their last thank-you (strictly after it), or 3 or
  more times in all when never thanked, and not do-not-contact (a thank-you to them would be refused). Any
  outcome counts as an ask.
- ``stay_in_touch``: state ``active`` or ``new``, not do-not-contact, and neither briefed nor thanked for 60
  days or more (``last contact <= now - 60 days``), or never.
- ``quiet_after_incident``: state ``going_quiet`` and briefed on an incident detected within the last 180 days
  (``detected_at >= now - 180 days``) and no later than their last interaction, i.e. before they fell silent.
  The reason names the newest such incident.

Dates in the reasons are days in the CRM's time zone (``zone``, like every page); the structured dates stay
aware datetimes (ISO in the API).

Incident effects: see ``incident_effects``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from crm.advocacy import queries
from crm.advocacy.schemas import HealthRead, HealthWarning, IncidentEffect
from crm.advocacy.vocab import SORT_LABELS, STATE_ORDER
from crm.errors import InvalidInput
from crm.formatting import short_date
from crm.members import engagement, read
from crm.members.vocab import STATE_LABELS, State

YEAR_DAYS = 365
ASKS_WITHOUT_THANKS = 3
STAY_IN_TOUCH_DAYS = 60
QUIET_INCIDENT_DAYS = 180
EFFECT_DAYS = 60
EFFECTS_LIMIT = 10
STILL_ACTIVE = (State.active.value, State.new.value)


@dataclass
class Facts:
    member_id: int
    name: str
    tier: str
    do_not_contact: bool
    state: str
    last_interaction_at: datetime | None
    last_briefed_at: datetime | None = None
    last_thanked_at: datetime | None = None
    asks_12m: int = 0
    thanks_12m: int = 0
    asks_since_thanks: int = 0
    quiet_incident: dict | None = None  # {"incident_id", "title", "detected_at"}
    warnings: list[HealthWarning] = field(default_factory=list)

    @property
    def last_contacted_at(self) -> datetime | None:
        return max(filter(None, [self.last_briefed_at, self.last_thanked_at]), default=None)


def _times(n: int) -> str:
    return "once" if n == 1 else "twice" if n == 2 else f"{n} times"


def warnings_for(f: Facts, now: datetime, zone: tzinfo = UTC) -> list[HealthWarning]:
    """The rules in the module docstring, in that order; dates named in ``zone``."""
    found = []
    if f.asks_since_thanks >= ASKS_WITHOUT_THANKS and not f.do_not_contact:
        if f.last_thanked_at is None:
            why = f"Briefed {_times(f.asks_since_thanks)} and never thanked."
        else:
            why = (
                f"Briefed {_times(f.asks_since_thanks)} since their last thank-you on "
                f"{short_date(f.last_thanked_at, zone)}."
            )
        found.append(HealthWarning("asked_without_thanks", why + " Thank them before asking again."))
    if f.state in STILL_ACTIVE and not f.do_not_contact:
        last = f.last_contacted_at
        if last is None:
            found.append(
                HealthWarning(
                    "stay_in_touch", f"Still {STATE_LABELS[f.state]}, but never briefed or thanked: get in touch."
                )
            )
        elif last <= now - timedelta(days=STAY_IN_TOUCH_DAYS):
            found.append(
                HealthWarning(
                    "stay_in_touch",
                    f"Still {STATE_LABELS[f.state]}, but not briefed or thanked "
                    f"for {(now - last).days} days (last on {short_date(last, zone)}).",
                )
            )
    if f.state == State.going_quiet.value and f.quiet_incident is not None:
        incident = f.quiet_incident
        found.append(
            HealthWarning(
                "quiet_after_incident",
                (
                    f"Going quiet since their last interaction on {short_date(f.last_interaction_at, zone)}, "
                    "after being briefed on "
                    f"\u201c{incident['title']}\u201d (detected {short_date(incident['detected_at'], zone)})."
                ),
            )
        )
    return found


async def _facts(
    members: list[dict], states: dict[int, str], now: datetime, member_id: int | None, zone: tzinfo = UTC
) -> list[Facts]:
    """Facts for ``members`` from three grouped queries (``member_id`` None: every advocate at once)."""
    year_start = now - timedelta(days=YEAR_DAYS)
    asks = await queries.ask_totals(now, year_start, member_id)
    thanks = await queries.thank_totals(now, year_start, member_id)
    quiet = await queries.quiet_incidents(now, now - timedelta(days=QUIET_INCIDENT_DAYS), member_id)
    out = []
    for m in members:
        f = Facts(
            member_id=m["id"],
            name=m["name"],
            tier=m["tier"],
            do_not_contact=m["do_not_contact"],
            state=states[m["id"]],
            last_interaction_at=m["last_interaction_at"],
            quiet_incident=quiet.get(m["id"]),
            **asks.get(m["id"], {}),
            **thanks.get(m["id"], {}),
        )
        f.warnings = warnings_for(f, now, zone)
        out.append(f)
    return out


# ---- one member --------------------------------------------------------------------------------------


async def health(member_id: int, now: datetime, zone: tzinfo = UTC) -> HealthRead:
    """Any live member's health (NotFound for missing, deleted, erased or merged members, as the members API)."""
    member, eng, _ = await read.member_with_engagement(member_id, now)
    return await _health(member, eng.state, now, zone)


async def card(member: dict, state: str, now: datetime, zone: tzinfo = UTC) -> HealthRead | None:
    """The member page's health card: advocates and champions only (the people we ask for help)."""
    if member["tier"] not in queries.ADVOCATE_TIERS:
        return None
    return await _health(member, state, now, zone)


async def _health(member: dict, state: str, now: datetime, zone: tzinfo) -> HealthRead:
    [f] = await _facts([member], {member["id"]: state}, now, member["id"], zone)
    return HealthRead(
        member_id=f.member_id,
        state=f.state,
        last_briefed_at=f.last_briefed_at,
        last_thanked_at=f.last_thanked_at,
        asks_12m=f.asks_12m,
        thanks_12m=f.thanks_12m,
        warnings=f.warnings,
        incident_effects=await incident_effects(member["id"], now),
    )


def _share(rows: list[dict]) -> float | None:
    positive = sum(r["positive"] for r in rows)
    rated = positive + sum(r["neutral"] + r["negative"] for r in rows)
    return round(positive / rated, 4) if rated else None


def _minus(a: float | None, b: float | None, digits: int) -> float | None:
    return None if a is None or b is None else round(a - b, digits)


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.0f}%"


async def incident_effects(member_id: int, now: datetime) -> list[IncidentEffect]:
    """Did an incident cost us this relationship? For each incident the member was briefed on or has
    interactions linked to (the newest 10 by detection, detected by ``now``), from the daily rollup:

    - before: the 60 whole UTC days before the detection day D (D-60 .. D-1);
    - after: D and the 59 days after it (D .. D+59), as far as today (UTC). Like engagement.py's windows, today
      counts as a day: ``days_observed`` = min(60, today - D + 1) and ``complete`` once it reaches 60;
    - rate: interactions (trolls included, as in engagement counts) per 30 days of the window observed;
    - positive share: positive / (positive + neutral + negative), trolls and unknown left out, as engagement;
    - changes: after minus before (None when either side has no rated interactions).
    """
    incidents = await queries.member_incidents(member_id, now, EFFECTS_LIMIT)
    if not incidents:
        return []
    today = now.astimezone(UTC).date()
    starts = [i["detected_at"].astimezone(UTC).date() for i in incidents]
    rows = await queries.days_between(
        member_id, min(starts) - timedelta(days=EFFECT_DAYS), max(starts) + timedelta(days=EFFECT_DAYS - 1)
    )
    effects = []
    for incident, start in zip(incidents, starts, strict=False):
        before = [r for r in rows if start - timedelta(days=EFFECT_DAYS) <= r["day"] < start]
        observed = max(0, min(EFFECT_DAYS, (today - start).days + 1))
        after = [r for r in rows if start <= r["day"] < start + timedelta(days=observed)]
        n_before, n_after = sum(r["total"] for r in before), sum(r["total"] for r in after)
        rate_before = round(n_before * 30 / EFFECT_DAYS, 2)
        rate_after = round(n_after * 30 / observed, 2) if observed else None
        share_before, share_after = _share(before), _share(after)
        complete = observed == EFFECT_DAYS
        summary = (
            f"{rate_before:g} \u2192 {'—' if rate_after is None else f'{rate_after:g}'} interactions per 30 "
            f"days; positive {_pct(share_before)} \u2192 {_pct(share_after)}"
            + ("." if complete else f" (so far: {observed} of {EFFECT_DAYS} days after).")
        )
        effects.append(
            IncidentEffect(
                incident_id=incident["id"],
                title=incident["title"],
                detected_at=incident["detected_at"],
                briefed=incident["briefed"],
                interactions_before=n_before,
                interactions_after=n_after,
                rate_before=rate_before,
                rate_after=rate_after,
                rate_change=_minus(rate_after, rate_before, 2),
                positive_share_before=share_before,
                positive_share_after=share_after,
                positive_share_change=_minus(share_after, share_before, 4),
                complete=complete,
                days_observed=observed,
                summary=summary,
            )
        )
    return effects


# ---- the stay-supportive list ------------------------------------------------------------------------


def _since(f: Facts) -> tuple:
    last = f.last_contacted_at
    return (last is not None, last or datetime.min.replace(tzinfo=UTC))


# Each order's key (the labels are in vocab.py). Ties go by name, then id, so the order is stable.
SORT_KEYS = {
    "warnings": lambda f: (-len(f.warnings), f.name.casefold(), f.member_id),
    "last_contacted": lambda f: (*_since(f), f.name.casefold(), f.member_id),
    "name": lambda f: (f.name.casefold(), f.member_id),
    "asks": lambda f: (-f.asks_12m, f.thanks_12m, f.name.casefold(), f.member_id),
    "state": lambda f: (STATE_ORDER[f.state], f.name.casefold(), f.member_id),
}
assert SORT_KEYS.keys() == SORT_LABELS.keys()  # one order per label in vocab.py


def check_sort(sort: str) -> None:
    if sort not in SORT_KEYS:
        raise InvalidInput({"sort": f"Choose one of: {', '.join(SORT_KEYS)}."})


async def supportive(
    now: datetime, *, sort: str = "warnings", only_warnings: bool = False, zone: tzinfo = UTC
) -> list[Facts]:
    """Every live advocate and champion with their health, sorted (``SORT_KEYS``; InvalidInput for another sort).

    Cost: five queries whatever the number of advocates — the members, their 30-day counts (grouped over
    member_day), briefings, thank-yous (each grouped by member) and the briefed incidents of the last 180
    days — then linear work in Python. No query per member. Incident effects are left to the member page.
    """
    check_sort(sort)
    members = await queries.advocates()
    since = engagement.window_start(now, 30)
    counts = await queries.counts_since(since)
    states = {m["id"]: engagement.state_of(m, counts.get(m["id"], 0), now).value for m in members}
    rows = await _facts(members, states, now, None, zone)
    if only_warnings:
        rows = [f for f in rows if f.warnings]
    return sorted(rows, key=SORT_KEYS[sort])
