"""Whom to brief: each factor of the documented score and each hard exclusion, pinned with small
hand-built scenarios (crm/briefings/suggestions.py documents the factors and weights). Both engines."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from crm.audit.service import Actor
from crm.preferences import service as preferences
from tests.briefings.conftest import DETECTED, by_id, excluded, ids
from tests.conftest import START, error

BEFORE = DETECTED - timedelta(days=1)  # an ordinary day before the incident
approx = pytest.approx


def conversation(n: int) -> float:
    return round(4.0 * min(1.0, math.log2(1 + n) / math.log2(6)), 3)


def engagement(s: float) -> float:
    return round(2.0 * s / (s + 5), 3)


def reach(followers: float) -> float:
    return round(1.5 * min(1.0, math.log10(1 + followers) / 6), 3)


# ---- the conversation ----------------------------------------------------------------------------


async def test_a_member_commenting_on_the_incident_outranks_a_bigger_silent_one(world):
    iid = await world.incident(platforms=["x"])
    ann = await world.member("Ann", handles={"x": 1_000})
    big = await world.member("Big", tier="champion", handles={"x": 900_000})
    await world.interaction(big, at=START - timedelta(days=3), kind="post", platform="x")  # before detection
    for minutes in (90, 60):
        await world.interaction(ann, at=START - timedelta(minutes=minutes), platform="x", sentiment="positive")

    body = await world.suggestions(iid)
    assert ids(body["items"]) == [ann, big]
    items = by_id(body["items"])
    assert items[ann]["factors"]["conversation"] == conversation(2)
    assert items[big]["factors"]["conversation"] == 0
    assert items[big]["factors"]["reach"] > items[ann]["factors"]["reach"]  # bigger, yet second
    assert (
        items[ann]["reasons"][0] == "Commenting on this incident (2 positive or neutral interactions since detection)"
    )
    assert not any(r.startswith("Commenting") for r in items[big]["reasons"])
    assert body["excluded"] == []


async def test_what_counts_as_being_in_the_conversation(world):
    """Linked to the incident (any time, any platform), or on its platforms since detection; positive or
    neutral only. Not: before detection, other platforms, negative or unknown sentiment."""
    iid = await world.incident(platforms=["x"])
    other = await world.incident("Another incident", platforms=["x"])
    linked = await world.member("Linked")
    on_platform = await world.member("OnPlatform")
    neutral = await world.member("Neutral")
    too_early = await world.member("TooEarly")
    elsewhere = await world.member("Elsewhere")
    negative = await world.member("Negative")
    unknown = await world.member("Unknown")
    other_incident = await world.member("OtherIncident")
    chatty = await world.member("Chatty")
    await world.interaction(linked, at=BEFORE, platform="facebook", sentiment="positive", incident_id=iid)
    await world.interaction(on_platform, at=DETECTED + timedelta(minutes=1), platform="x", sentiment="positive")
    await world.interaction(neutral, at=DETECTED, platform="x", sentiment="neutral")
    await world.interaction(too_early, at=DETECTED - timedelta(minutes=1), platform="x", sentiment="positive")
    await world.interaction(elsewhere, at=DETECTED + timedelta(minutes=1), platform="instagram", sentiment="positive")
    await world.interaction(negative, at=DETECTED + timedelta(minutes=1), platform="x", sentiment="negative")
    await world.interaction(unknown, at=DETECTED + timedelta(minutes=1), platform="x")
    await world.interaction(other_incident, at=BEFORE, platform="facebook", sentiment="positive", incident_id=other)
    for n in range(7):
        await world.interaction(chatty, at=DETECTED + timedelta(minutes=n), platform="x", sentiment="positive")

    items = by_id((await world.suggestions(iid))["items"])
    got = {items[m]["name"]: items[m]["factors"]["conversation"] for m in items}
    assert got == {
        "Linked": conversation(1),
        "OnPlatform": conversation(1),
        "Neutral": conversation(1),
        "TooEarly": 0,
        "Elsewhere": 0,
        "Negative": 0,
        "Unknown": 0,
        "OtherIncident": 0,
        "Chatty": 4.0,
    }  # five or more is the whole weight, not more
    assert conversation(1) < conversation(2) < 4.0
    assert (
        items[linked]["reasons"][0] == "Commenting on this incident (1 positive or neutral interaction since detection)"
    )
    assert ids((await world.suggestions(iid))["items"])[0] == chatty


async def test_one_celebrity_does_not_drown_a_modest_member_in_the_conversation(world):
    iid = await world.incident(platforms=["x"])
    celebrity = await world.member("Celebrity", tier="champion", handles={"x": 10_000_000})
    modest = await world.member("Modest", handles={"x": 200})
    await world.interaction(celebrity, at=BEFORE, kind="post", platform="x")
    await world.interaction(modest, at=BEFORE, platform="x", sentiment="positive", incident_id=iid)

    items = (await world.suggestions(iid))["items"]
    assert ids(items) == [modest, celebrity]
    # log scale, capped at a million: ten million followers weigh the same 1.5 as one million
    assert by_id(items)[celebrity]["factors"]["reach"] == 1.5
    assert by_id(items)[modest]["factors"]["reach"] == reach(200)
    assert "10000k followers on x, an affected platform" in by_id(items)[celebrity]["reasons"]


# ---- engagement and regularity -------------------------------------------------------------------


async def test_engagement_is_the_recency_weighted_score(world):
    iid = await world.incident(platforms=["x"])
    fresh = await world.member("Fresh")
    stale = await world.member("Stale")
    await world.interaction(fresh, at=START, kind="post")  # weight 3, no decay yet
    await world.interaction(stale, at=START - timedelta(days=30), kind="post")  # one half-life: 1.5

    items = (await world.suggestions(iid))["items"]
    assert ids(items) == [fresh, stale]
    assert by_id(items)[fresh]["factors"]["engagement"] == engagement(3.0)
    assert by_id(items)[stale]["factors"]["engagement"] == engagement(1.5)
    assert by_id(items)[fresh]["reasons"] == ["Engagement score 3.0"]  # nothing else to say about them


async def test_regularity_rewards_a_short_usual_gap(world):
    iid = await world.incident(platforms=["x"])
    daily = await world.member("Daily")
    weekly = await world.member("Weekly")
    monthly = await world.member("Monthly")
    once = await world.member("Once")
    # the same interactions ending at the same moment, only spaced differently
    for member, gap in ((daily, 1), (weekly, 7), (monthly, 30)):
        for n in range(3):
            await world.interaction(member, at=BEFORE - timedelta(days=gap * n), kind="mention")
    await world.interaction(once, at=BEFORE, kind="mention")

    items = by_id((await world.suggestions(iid))["items"])
    assert items[daily]["factors"]["regularity"] == approx(round(1 / (1 + 1 / 7), 3))
    assert items[weekly]["factors"]["regularity"] == 0.5
    assert items[monthly]["factors"]["regularity"] == approx(round(1 / (1 + 30 / 7), 3))
    assert items[once]["factors"]["regularity"] == 0  # one interaction: no usual gap yet
    assert "Interacts about every 7 days (3 interactions in all)" in items[weekly]["reasons"]
    assert "Interacts about every 1 day (3 interactions in all)" in items[daily]["reasons"]
    assert not any(r.startswith("Interacts") for r in items[monthly]["reasons"])
    assert items[daily]["score"] > items[weekly]["score"] > items[monthly]["score"]


async def test_several_interactions_at_one_moment_are_very_regular_not_irregular(world):
    """A usual gap of zero (two interactions logged with the same timestamp) is the most regular there
    is: it must not drop to no regularity at all, nor read "every 0 days"."""
    iid = await world.incident(platforms=["x"])
    burst = await world.member("Burst")
    for _ in range(2):
        await world.interaction(burst, at=BEFORE, kind="mention")
    item = (await world.suggestions(iid))["items"][0]
    assert item["factors"]["regularity"] == 1.0
    assert "Interacts more than once a day (2 interactions in all)" in item["reasons"]


# ---- relevance, reach, goodwill, tier --------------------------------------------------------------


async def test_relevance_is_the_share_of_the_incident_topics_the_member_cares_about(world):
    iid = await world.incident(topics=["ads", "pricing"], platforms=["x"])
    both = await world.member("Both", topics=["pricing", "ads", "shoes"])
    half = await world.member("Half", topics=["Ads"])
    none = await world.member("None", topics=["shoes"])
    for member in (both, half, none):
        await world.interaction(member, at=BEFORE, kind="mention")

    items = (await world.suggestions(iid))["items"]
    assert ids(items) == [both, half, none]
    got = {i["name"]: i["factors"]["relevance"] for i in items}
    assert got == {"Both": 2.0, "Half": 1.0, "None": 0}
    assert "Cares about ads, pricing" in by_id(items)[both]["reasons"]
    assert "Cares about ads" in by_id(items)[half]["reasons"]


async def test_reach_counts_affected_platforms_fully_and_others_a_quarter(world):
    iid = await world.incident(platforms=["x", "tiktok"])
    on_x = await world.member("OnX", handles={"x": 1_000})
    on_instagram = await world.member("OnInstagram", handles={"instagram": 1_000})
    four_times = await world.member("FourTimes", handles={"instagram": 4_000})
    both = await world.member("Both", handles={"x": 18_000, "tiktok": 2_000, "instagram": 4_000})
    nobody = await world.member("Nobody", handles={"x": None})
    for member in (on_x, on_instagram, four_times, both, nobody):
        await world.interaction(member, at=BEFORE, kind="mention")

    items = by_id((await world.suggestions(iid))["items"])
    assert items[on_x]["factors"]["reach"] == reach(1_000)
    assert items[on_instagram]["factors"]["reach"] == reach(250)
    assert items[four_times]["factors"]["reach"] == items[on_x]["factors"]["reach"]
    assert items[both]["factors"]["reach"] == reach(20_000 + 1_000)
    assert items[nobody]["factors"]["reach"] == 0
    assert items[on_x]["score"] > items[on_instagram]["score"]
    assert "1,000 followers on x, an affected platform" in items[on_x]["reasons"]
    assert "20k followers on tiktok, x, an affected platform" in items[both]["reasons"]
    assert not any("followers" in r for r in items[four_times]["reasons"])  # not on an affected platform


async def test_recent_negative_interactions_lower_goodwill(world):
    iid = await world.incident(platforms=["x"])
    warm = await world.member("Warm")
    mixed = await world.member("Mixed")
    sour = await world.member("Sour")
    long_ago = await world.member("LongAgo")
    for member, sentiments in (
        (warm, ["positive", "positive", "neutral", "neutral"]),
        (mixed, ["positive", "positive", "negative", "neutral"]),
        (sour, ["positive", "negative", "negative", "negative"]),
    ):
        for n, sentiment in enumerate(sentiments):
            await world.interaction(member, at=BEFORE - timedelta(days=n), sentiment=sentiment)
    # four positive lately; the negative ones are older than the 90 days goodwill looks at
    for n in range(4):
        await world.interaction(long_ago, at=BEFORE - timedelta(days=n), sentiment="positive")
    for n in range(3):
        await world.interaction(long_ago, at=START - timedelta(days=200 + n), sentiment="negative")

    items = by_id((await world.suggestions(iid))["items"])
    assert items[warm]["factors"]["goodwill"] == 0.75  # (2 - 0) / 4
    assert items[mixed]["factors"]["goodwill"] == 0.375  # (2 - 1) / 4
    assert items[sour]["factors"]["goodwill"] == -0.75  # (1 - 3) / 4: it lowers the score
    assert items[long_ago]["factors"]["goodwill"] == 1.5
    # the same interactions at the same times otherwise: only goodwill tells them apart
    assert items[warm]["score"] - items[mixed]["score"] == approx(0.375, abs=2e-3)
    assert items[warm]["score"] > items[mixed]["score"] > items[sour]["score"]
    assert "100% of recent interactions positive" in items[long_ago]["reasons"]


async def test_tier_is_a_modest_boost(world):
    iid = await world.incident(platforms=["x"])
    member = await world.member("Plain")
    advocate = await world.member("Advocate", tier="advocate")
    champion = await world.member("Champion", tier="champion")
    talker = await world.member("Talker")
    for m in (member, advocate, champion):
        await world.interaction(m, at=BEFORE, kind="mention")
    await world.interaction(talker, at=BEFORE, kind="mention", platform="x", sentiment="neutral", incident_id=iid)

    items = (await world.suggestions(iid))["items"]
    assert ids(items) == [talker, champion, advocate, member]  # one comment on the incident beats being a champion
    got = {i["name"]: i["factors"]["tier"] for i in items}
    assert got == {"Talker": 0, "Plain": 0, "Advocate": 0.5, "Champion": 1.0}
    scores = {i["name"]: i["score"] for i in items}
    assert scores["Champion"] - scores["Advocate"] == approx(0.5)
    assert scores["Advocate"] - scores["Plain"] == approx(0.5)
    assert "A champion of the brand" in by_id(items)[champion]["reasons"]


async def test_at_most_three_reasons_and_the_limit(world):
    iid = await world.incident(topics=["ads"], platforms=["x"])
    star = await world.member("Star", tier="champion", topics=["ads"], handles={"x": 50_000})
    for n in range(3):
        await world.interaction(star, at=DETECTED + timedelta(minutes=n), platform="x", sentiment="positive")
    for n in range(3):
        await world.interaction(await world.member(f"Extra{n}"), at=BEFORE, kind="mention")

    body = await world.suggestions(iid, limit=2)
    assert len(body["items"]) == 2 and body["items"][0]["member_id"] == star
    reasons = body["items"][0]["reasons"]
    assert len(reasons) == 3  # six would apply: the strongest three
    assert reasons[:2] == [
        "Commenting on this incident (3 positive or neutral interactions since detection)",
        "50k followers on x, an affected platform",
    ]
    r = await world.api.get(f"/api/v1/incidents/{iid}/suggestions?include_excluded=false", headers=world.h)
    assert "excluded" not in r.json() and len(r.json()["items"]) == 4
    for bad in (0, 201):
        r = await world.api.get(f"/api/v1/incidents/{iid}/suggestions?limit={bad}", headers=world.h)
        assert r.status_code == 422 and error(r)["fields"] == {"limit": "Between 1 and 200."}
    r = await world.api.get("/api/v1/incidents/9999/suggestions", headers=world.h)
    assert r.status_code == 404 and error(r)["code"] == "not_found"
    for who in ("carol", "dave"):  # everyone signed in may read
        r = await world.api.get(f"/api/v1/incidents/{iid}/suggestions", headers=world.auth[who])
        assert r.status_code == 200
    assert (await world.api.get(f"/api/v1/incidents/{iid}/suggestions")).status_code == 401


# ---- exclusions --------------------------------------------------------------------------------------


async def talker(world, iid: int, name: str, **member) -> int:
    """A member who would be suggested first: three positive comments on the incident."""
    mid = await world.member(name, **member)
    for n in range(3):
        await world.interaction(
            mid, at=DETECTED + timedelta(minutes=n), platform="x", sentiment="positive", incident_id=iid
        )
    return mid


async def test_do_not_contact_and_no_consent_are_never_suggested(world):
    iid = await world.incident(platforms=["x"])
    ok = await talker(world, iid, "Ok")
    dnc = await talker(world, iid, "Dnc", do_not_contact=True)
    dana = await talker(world, iid, "Dana", consent=False)

    body = await world.suggestions(iid)
    assert ids(body["items"]) == [ok]
    assert excluded(body) == {dnc: "do_not_contact", dana: "no_consent"}
    assert ids((await world.suggestions(iid, include_excluded=False))["items"]) == [ok]

    # "Why is Dana not suggested?"
    ranking = await world.rank(iid, member_ids=[dana])
    assert ranking.items == []
    [why] = ranking.excluded
    assert (why.member_id, why.name, why.reason) == (dana, "Dana", "no_consent")
    assert why.explanation == "No recorded consent to be contacted privately."
    [why] = (await world.rank(iid, member_ids=[dnc])).excluded
    assert (why.reason, why.explanation) == ("do_not_contact", "Marked do-not-contact.")
    ranking = await world.rank(iid, member_ids=[ok])
    assert [s.member_id for s in ranking.items] == [ok] and ranking.excluded == []

    # consent recorded: Dana is suggested; marked do-not-contact: gone again
    r = await world.api.patch(f"/api/v1/members/{dana}", json={"consent_private_briefing": True}, headers=world.h)
    assert r.status_code == 200, r.text
    assert set(ids((await world.suggestions(iid))["items"])) == {ok, dana}
    await world.api.patch(f"/api/v1/members/{dana}", json={"do_not_contact": True}, headers=world.h)
    assert excluded(await world.suggestions(iid))[dana] == "do_not_contact"


async def test_a_critic_of_this_incident_is_never_suggested_but_a_troll_does_not_make_one(world):
    iid = await world.incident(platforms=["x"])
    other = await world.incident("Another", platforms=["x"])
    critic = await talker(world, iid, "Critic")  # positive comments do not make up for negative ones
    for _n in range(2):
        await world.interaction(
            critic, at=DETECTED + timedelta(hours=1), platform="x", sentiment="negative", incident_id=iid
        )
    trolled = await talker(world, iid, "Trolled")
    await world.interaction(trolled, at=DETECTED, platform="x", sentiment="negative", incident_id=iid, troll=True)
    grumpy = await talker(world, iid, "Grumpy")  # negative on the platform, but not about this incident
    await world.interaction(grumpy, at=DETECTED, platform="x", sentiment="negative")
    elsewhere = await talker(world, iid, "Elsewhere")  # critical of another incident
    await world.interaction(elsewhere, at=DETECTED, platform="x", sentiment="negative", incident_id=other)

    body = await world.suggestions(iid)
    assert set(ids(body["items"])) == {trolled, grumpy, elsewhere}
    assert excluded(body) == {critic: "critic"}
    [why] = (await world.rank(iid, member_ids=[critic])).excluded
    assert why.explanation == "Critical of this incident (2 negative interactions linked to it)."
    # the same member is welcome for the other incident, where they were not critical
    assert critic in ids((await world.suggestions(other))["items"])
    assert excluded(await world.suggestions(other)) == {elsewhere: "critic"}


async def test_already_briefed_on_the_current_version(world):
    iid = await world.incident(platforms=["x"])
    ann = await talker(world, iid, "Ann")
    await world.approve(iid, ["We are sorry."])
    assert ids((await world.suggestions(iid))["items"]) == [ann]
    await world.briefed(iid, ann)
    body = await world.suggestions(iid)
    assert body["items"] == [] and excluded(body) == {ann: "already_briefed"}
    [why] = (await world.rank(iid, member_ids=[ann])).excluded
    assert why.explanation == "Already briefed on the current talking points."
    # a newer version is approved: briefing them again is a suggestion again
    await world.approve(iid, ["We are sorry.", "Refunds go out today."])
    assert ids((await world.suggestions(iid))["items"]) == [ann]


async def briefed_elsewhere(world, member_id: int, title: str) -> int:
    iid = await world.incident(title, platforms=["facebook"])
    await world.approve(iid, ["Thanks."])
    await world.briefed(iid, member_id)
    return iid


async def test_fatigue_counts_other_incidents_of_the_last_30_days(world, users):
    iid = await world.incident(platforms=["x"])
    tired = await talker(world, iid, "Tired")
    fresh = await talker(world, iid, "Fresh")
    await briefed_elsewhere(world, tired, "Old one")  # 31 days before now once the clock moves on
    world.clock.advance(days=20)
    await briefed_elsewhere(world, tired, "Recent one")
    await briefed_elsewhere(world, fresh, "Fresh's one")
    world.clock.advance(days=11)
    body = await world.suggestions(iid)
    assert set(ids(body["items"])) == {tired, fresh}  # one other incident within 30 days: below the default 2

    twice = await briefed_elsewhere(world, tired, "Another recent one")
    body = await world.suggestions(iid)
    assert ids(body["items"]) == [fresh] and excluded(body) == {tired: "fatigue"}
    [why] = (await world.rank(iid, member_ids=[tired])).excluded
    assert why.explanation == "Briefed for 2 other incidents in the last 30 days."
    # briefings for the incident itself are not "other incidents": once a new version is approved there,
    # only "Recent one" counts against them ("Old one" is 31 days old)
    assert excluded(await world.suggestions(twice)) == {tired: "already_briefed"}
    await world.approve(twice, ["Thanks.", "More news."])
    assert tired in ids((await world.suggestions(twice))["items"])

    # the setting: one other incident is already too many
    await preferences.update(
        values={"briefing_fatigue_incidents": 1},
        actor=Actor(user_id=users["alice"]["id"], label="alice"),
        now=world.clock(),
    )
    body = await world.suggestions(iid)
    assert body["items"] == [] and excluded(body) == {tired: "fatigue", fresh: "fatigue"}
    await preferences.update(
        values={"briefing_fatigue_incidents": 3},
        actor=Actor(user_id=users["alice"]["id"], label="alice"),
        now=world.clock(),
    )
    assert set(ids((await world.suggestions(iid))["items"])) == {tired, fresh}


async def test_deleted_erased_and_merged_members_never_appear(world):
    iid = await world.incident(platforms=["x"])
    kept = await talker(world, iid, "Kept")
    deleted = await talker(world, iid, "Deleted", tier="champion")
    erased = await talker(world, iid, "Erased", tier="champion")
    merged = await talker(world, iid, "Merged", tier="champion")
    assert (await world.api.delete(f"/api/v1/members/{deleted}", headers=world.h)).status_code == 204
    r = await world.api.post(f"/api/v1/members/{erased}/erase", headers=world.auth["alice"])
    assert r.status_code == 200, r.text
    r = await world.api.post("/api/v1/members/merge", json={"keep": kept, "merge": merged}, headers=world.h)
    assert r.status_code == 200, r.text

    body = await world.suggestions(iid)
    assert ids(body["items"]) == [kept] and body["excluded"] == []
    # the merged member's comments now count for the one kept
    assert body["items"][0]["reasons"][0].startswith("Commenting on this incident (6 ")
    ranking = await world.rank(iid, member_ids=[deleted, erased, merged, 9999])
    assert ranking.items == []
    assert [(e.member_id, e.reason, e.explanation) for e in ranking.excluded] == [
        (m, "deleted", "Deleted, merged or erased.") for m in (deleted, erased, merged, 9999)
    ]


async def test_skip_and_not_a_good_fit_drop_the_member_for_this_incident_only(world):
    iid = await world.incident(platforms=["x"])
    other = await world.incident("Another", platforms=["x"])
    skipped = await talker(world, iid, "Skipped")
    unfit = await talker(world, iid, "Unfit")
    accepted = await talker(world, iid, "Accepted")

    for member, verdict in ((skipped, "skipped"), (unfit, "bad_fit"), (accepted, "accepted")):
        r = await world.feedback(iid, member, verdict)
        assert r.status_code == 200, r.text
        assert r.json() == {"member_id": member, "verdict": verdict}
    body = await world.suggestions(iid)
    assert ids(body["items"]) == [accepted]
    assert excluded(body) == {skipped: "skipped", unfit: "skipped"}
    assert (await world.rank(iid, member_ids=[unfit])).excluded[
        0
    ].explanation == "Skipped for this incident (not a good fit)."
    assert (await world.rank(iid, member_ids=[skipped])).excluded[
        0
    ].explanation == "Skipped for this incident (skipped)."
    assert (await world.rank(iid, member_ids=[accepted])).items[0].accepted is True
    assert set(ids((await world.suggestions(other))["items"])) == {skipped, unfit, accepted}

    # the latest verdict counts
    assert (await world.feedback(iid, skipped, "accepted")).status_code == 200
    assert set(ids((await world.suggestions(iid))["items"])) == {skipped, accepted}


async def test_feedback_refusals(world):
    iid = await world.incident(platforms=["x"])
    ann = await talker(world, iid, "Ann")
    r = await world.feedback(iid, ann, "maybe")
    assert r.status_code == 422 and "verdict" in error(r)["fields"]
    r = await world.feedback(iid, 9999, "skipped")
    assert r.status_code == 404 and error(r)["code"] == "not_found"
    r = await world.feedback(9999, ann, "skipped")
    assert r.status_code == 404 and error(r)["code"] == "not_found"
    r = await world.api.post(
        f"/api/v1/incidents/{iid}/suggestions/{ann}/feedback", json={"verdict": "skipped", "extra": 1}, headers=world.h
    )
    assert r.status_code in (400, 422)
    for who in ("carol", "dave"):
        r = await world.feedback(iid, ann, "skipped", who=who)
        assert r.status_code == 403, r.text
    assert ids((await world.suggestions(iid))["items"]) == [ann]  # nothing was recorded
