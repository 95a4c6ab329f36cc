"""The briefing pages: the incident page's "Advocates" section, the suggestions page (reasons, factors, feedback,
"why is X not suggested?"), briefing several members at once with per-member refusals, the result page with the
messages to copy, outcomes, the re-brief queue, the CSV export, the member page, and the role guards. Both engines."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from html import unescape
from urllib.parse import unquote

import pytest

from tests.briefings.conftest import DETECTED
from tests.conftest import START, post_form


def plain(html: str) -> str:
    """Markup as plain text, tags dropped, whitespace squeezed."""
    squeezed = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))
    return re.sub(r" ([:.,;)])", r"\1", squeezed)


def text(response) -> str:
    return plain(response.text)


def section(html: str, element_id: str) -> str:
    """The markup of the element with this id, through its matching closing tag."""
    start = html.rfind("<", 0, html.index(f'id="{element_id}"'))
    name = re.match(r"<(\w+)", html[start:]).group(1)
    depth = 0
    for m in re.finditer(rf"<(/?){name}\b", html[start:]):
        depth += -1 if m.group(1) else 1
        if depth == 0:
            return html[start : start + m.end()]
    raise AssertionError(f"#{element_id} is not closed")


def suggested(html: str) -> list[int]:
    return [int(m) for m in re.findall(r'<li class="suggestion[^"]*" id="suggestion-(\d+)"', html)]


@pytest.fixture
async def scene(world):
    """An incident on x with approved talking points and members: Ann (commenting, consent), Ben (consent, email),
    Dnc (do-not-contact), Noc (no consent), all interacting on x since detection."""
    iid = await world.incident("Misleading ad", topics=["ads"], platforms=["x"])
    ann = await world.member("Ann", handles={"x": 12_000}, tier="advocate", email="ann@example.org", topics=["ads"])
    ben = await world.member("Ben", handles={"x": 300}, tier="advocate", email="ben@example.org")
    dnc = await world.member("Dnc", handles={"x": 50}, do_not_contact=True)
    noc = await world.member("Noc", handles={"x": 50}, consent=False)
    for member in (ann, ann, ben, dnc, noc):
        await world.interaction(member, at=DETECTED + timedelta(minutes=30), platform="x", sentiment="positive")
    await world.approve(iid, ["We are sorry", "Refunds are automatic"], avoid=["Guessing the cause"])
    return {"iid": iid, "ann": ann, "ben": ben, "dnc": dnc, "noc": noc}


async def brief(client, iid: int, member_ids: list[int], channel: str = "dm", note: str = ""):
    return await client.post(
        f"/incidents/{iid}/briefings",
        data={
            "member_id": [str(m) for m in member_ids],
            "channel": channel,
            "note": note,
            "_csrf_token": client.cookies["crm_csrf"],
        },
    )


async def test_the_suggestions_page_lists_and_explains(world, scene, as_user):
    bob = await as_user("bob")
    iid = scene["iid"]
    r = await bob.get(f"/incidents/{iid}/suggestions")
    assert r.status_code == 200, r.text
    assert suggested(r.text) == [scene["ann"], scene["ben"]]  # best first; never Dnc or Noc
    ann = section(r.text, f"suggestion-{scene['ann']}")
    assert f'href="/members/{scene["ann"]}"' in ann and "advocate" in ann
    assert "Commenting on this incident (2 positive or neutral interactions since detection)" in unescape(ann)
    assert "12k followers on x, an affected platform" in ann
    assert "<details" in ann and "Already in the conversation" in ann and "Reach" in ann  # factor contributions
    assert 1 <= ann.split('<ul class="reasons">')[1].split("</ul>")[0].count("<li>") <= 3
    assert 'name="member_id"' in ann and 'form="brief-form"' in ann
    assert 'id="brief-form"' in r.text and 'name="channel"' in r.text and 'name="note"' in r.text
    for verdict in ("accepted", "skipped", "bad_fit"):
        assert f'value="{verdict}"' in ann
    assert "Refresh" not in r.headers  # the note is free text: this page never reloads itself

    # Why is someone not suggested? By name, by id; the suggested ones say where they are.
    r = await bob.get(f"/incidents/{iid}/suggestions", params={"why": "dnc"})
    assert "Dnc: Marked do-not-contact." in text(r)
    r = await bob.get(f"/incidents/{iid}/suggestions", params={"why": str(scene["noc"])})
    assert "Noc: No recorded consent to be contacted privately." in text(r)
    r = await bob.get(f"/incidents/{iid}/suggestions", params={"why": "Ben"})
    assert "Ben: They are suggested, at position 2 of 2." in text(r)
    r = await bob.get(f"/incidents/{iid}/suggestions", params={"why": "nobody-like-this"})
    assert "No member matches" in text(r)
    r = await bob.get(f"/incidents/{iid}/suggestions", params={"why": "99999"})
    assert "Deleted, merged or erased." in text(r)


async def test_without_approved_talking_points_there_is_nothing_to_brief_with(world, as_user):
    iid = await world.incident()
    ann = await world.member("Ann", handles={"x": 10}, tier="advocate")
    bob = await as_user("bob")
    r = await bob.get(f"/incidents/{iid}/suggestions")
    assert r.status_code == 200
    assert suggested(r.text) == [ann]
    assert "No talking points are approved yet" in text(r)
    assert f'href="/incidents/{iid}#talking-points"' in r.text
    assert 'id="brief-form"' not in r.text and 'name="member_id"' not in r.text
    r = await brief(bob, iid, [ann])
    assert r.status_code == 409
    assert "No talking points are approved for this incident yet" in text(r)
    assert (await world.api.get(f"/api/v1/incidents/{iid}/briefings", headers=world.h)).json() == []


async def test_brief_two_members_at_once(world, scene, as_user):
    bob = await as_user("bob")
    iid = scene["iid"]
    await bob.get(f"/incidents/{iid}/suggestions")
    r = await brief(bob, iid, [scene["ann"], scene["ben"]], channel="email", note="Called first")
    assert r.status_code == 200, r.text
    page = text(r)
    assert "Not briefed" not in page
    for name, email in (("Ann", "ann@example.org"), ("Ben", "ben@example.org")):
        assert f"Message for {name}" in page
        assert f"Hi {name} (@{name.lower()}_x)," in page
        link = re.search(rf'href="(mailto:{re.escape(email)}\?[^"]+)"', r.text).group(1)
        assert "+" not in link.split("?", 1)[1]  # RFC 6068: spaces are %20
        body = unquote(unescape(link).split("&body=")[1])
        assert body.startswith(f"Hi {name} (@{name.lower()}_x),\r\n") and "1. We are sorry" in body
        assert "Misleading ad" in unquote(unescape(link).split("subject=")[1].split("&")[0])
    assert len(re.findall(r"<textarea[^>]*readonly", r.text)) == 2

    rows = (await world.api.get(f"/api/v1/incidents/{iid}/briefings", headers=world.h)).json()
    assert sorted((b["member_id"], b["channel"], b["note"], b["talking_points_version"]) for b in rows) == sorted(
        [(scene["ann"], "email", "Called first", 1), (scene["ben"], "email", "Called first", 1)]
    )

    r = await bob.get(f"/incidents/{iid}/suggestions")
    assert suggested(r.text) == []  # both left the suggestions
    r = await bob.get(f"/incidents/{iid}/suggestions", params={"why": "Ann"})
    assert "Already briefed on the current talking points." in text(r)

    # The incident page: figures, the briefed members with their outcome, the export.
    r = await bob.get(f"/incidents/{iid}")
    advocates = section(r.text, "advocates")
    assert 'id="fig-briefed">2<' in advocates
    assert f"/incidents/{iid}/suggestions" in advocates and f"/incidents/{iid}/briefings.csv" in advocates
    assert "Ann" in advocates and "Ben" in advocates and 'name="outcome"' in advocates
    assert ">2 h<" in section(advocates, "fig-first")  # detected two hours before the first briefing

    # Briefing the same people again: refused one by one, nothing recorded.
    r = await brief(bob, iid, [scene["ann"]])
    assert r.status_code == 409
    assert "Ann was already briefed on version 1." in text(r)


async def test_refusals_are_shown_per_member_while_the_others_are_briefed(world, scene, as_user):
    bob = await as_user("bob")
    iid = scene["iid"]
    await bob.get(f"/incidents/{iid}/suggestions")
    r = await brief(bob, iid, [scene["dnc"], scene["ann"], scene["noc"]])
    assert r.status_code == 200, r.text
    refused = plain(section(r.text, "refused"))
    assert "Dnc: Dnc is marked do-not-contact." in refused
    assert "Noc: Noc has not consented to private contact; record their consent first." in refused
    assert f'href="/members/{scene["noc"]}/edit"' in section(r.text, "refused")
    assert "Message for Ann" in text(r) and "Message for Dnc" not in text(r)
    rows = (await world.api.get(f"/api/v1/incidents/{iid}/briefings", headers=world.h)).json()
    assert [b["member_id"] for b in rows] == [scene["ann"]]


async def test_the_brief_form_is_checked(world, scene, as_user):
    bob = await as_user("bob")
    iid = scene["iid"]
    await bob.get(f"/incidents/{iid}/suggestions")
    r = await brief(bob, iid, [])
    assert r.status_code == 422 and "Tick at least one member to brief." in text(r)
    r = await brief(bob, iid, [scene["ann"]], channel="pigeon")
    assert r.status_code == 422 and "Choose one of: dm, email" in text(r)
    r = await brief(bob, iid, [scene["ann"]], note="x" * 2001)
    assert r.status_code == 422 and 'id="e-note"' in r.text
    assert f'value="{scene["ann"]}" id="pick-{scene["ann"]}" checked' in r.text  # the ticks are kept
    r = await bob.post(
        f"/incidents/{iid}/briefings",
        data={"member_id": "abc", "channel": "dm", "_csrf_token": bob.cookies["crm_csrf"]},
    )
    assert r.status_code == 422 and "Choose members from the list." in text(r)
    assert (await world.api.get(f"/api/v1/incidents/{iid}/briefings", headers=world.h)).json() == []


async def test_feedback_skip_and_bad_fit_remove_a_member_and_accept_keeps_them(world, scene, as_user):
    bob = await as_user("bob")
    iid = scene["iid"]
    r = await post_form(bob, f"/incidents/{iid}/suggestions/{scene['ben']}/feedback", {"verdict": "skipped"})
    assert r.status_code == 303 and r.headers["location"] == f"/incidents/{iid}/suggestions"
    r = await bob.get(r.headers["location"])
    assert "Ben skipped for this incident: they leave the list." in text(r)
    assert suggested(r.text) == [scene["ann"]]
    r = await bob.get(f"/incidents/{iid}/suggestions", params={"why": "Ben"})
    assert "Skipped for this incident (skipped)." in text(r)
    assert "Put back in the list" in r.text

    r = await post_form(bob, f"/incidents/{iid}/suggestions/{scene['ann']}/feedback", {"verdict": "bad_fit"})
    assert r.status_code == 303
    assert suggested((await bob.get(f"/incidents/{iid}/suggestions")).text) == []

    r = await post_form(bob, f"/incidents/{iid}/suggestions/{scene['ben']}/feedback", {"verdict": "accepted"})
    assert r.status_code == 303
    r = await bob.get(f"/incidents/{iid}/suggestions")
    assert suggested(r.text) == [scene["ben"]]
    assert f'id="pick-{scene["ben"]}" checked' in r.text and "accepted" in section(r.text, f"suggestion-{scene['ben']}")

    r = await post_form(bob, f"/incidents/{iid}/suggestions/{scene['ben']}/feedback", {"verdict": "maybe"})
    assert r.status_code == 422
    r = await post_form(bob, f"/incidents/{iid}/suggestions/99999/feedback", {"verdict": "skipped"})
    assert r.status_code == 404


async def test_outcome_update(world, scene, as_user):
    bob = await as_user("bob")
    iid = scene["iid"]
    briefing = await world.briefed(iid, scene["ann"])
    r = await post_form(bob, f"/briefings/{briefing['id']}/outcome", {"outcome": "helped"})
    assert r.status_code == 303 and r.headers["location"] == f"/incidents/{iid}#advocates"
    r = await bob.get(f"/incidents/{iid}")
    assert "Briefing of Ann (v1): helped." in text(r)
    advocates = section(r.text, "advocates")
    assert 'id="fig-helped">1<' in advocates and 'id="fig-acknowledged">1<' in advocates
    assert '<option value="helped" selected>' in section(advocates, f"briefed-{briefing['id']}")
    r = await post_form(bob, f"/briefings/{briefing['id']}/outcome", {"outcome": "exploded"})
    assert r.status_code == 422
    r = await post_form(bob, "/briefings/99999/outcome", {"outcome": "helped"})
    assert r.status_code == 404
    r = await bob.get(f"/incidents/{iid}/briefings/{briefing['id']}")
    assert r.status_code == 200 and "Message for Ann" in text(r)


async def test_the_rebrief_queue_shows_what_changed_and_clears_when_rebriefed(world, scene, as_user):
    bob = await as_user("bob")
    iid = scene["iid"]
    await world.briefed(iid, scene["ann"], channel="phone")
    r = await bob.get(f"/incidents/{iid}")
    assert 'id="rebrief-queue"' not in r.text
    await world.approve(iid, ["We are sorry", "Refunds within 3 days"], avoid=["Guessing the cause"])

    r = await bob.get(f"/incidents/{iid}")
    queue = section(r.text, "rebrief-queue")
    assert f'id="rebrief-{scene["ann"]}"' in queue and "briefed on v1, current v2" in queue
    assert "Refunds within 3 days" in queue and "diff-added" in queue
    assert "Refunds are automatic" in queue and "diff-removed" in queue
    assert "We are sorry" not in queue  # only what changed
    assert "Re-brief (phone)" in queue

    r = await post_form(bob, f"/incidents/{iid}/briefings", {"member_id": str(scene["ann"]), "channel": "phone"})
    assert r.status_code == 200 and "2. Refunds within 3 days" in text(r)
    r = await bob.get(f"/incidents/{iid}")
    assert 'id="rebrief-queue"' not in r.text


async def test_csv_export(world, scene, as_user, clock):
    iid = scene["iid"]
    await world.briefed(iid, scene["ann"], channel="email", note='=HYPERLINK("http://evil")')
    clock.advance(minutes=5)
    await world.briefed(iid, scene["ben"], channel="dm")
    dave = await as_user("dave")  # reading is for everyone
    r = await dave.get(f"/incidents/{iid}/briefings.csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert f'filename="incident-{iid}-briefings-' in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == [
        "member_id",
        "member",
        "version",
        "channel",
        "briefed_by",
        "briefed_at",
        "outcome",
        "outcome_at",
        "note",
    ]
    assert rows[1] == [
        str(scene["ann"]),
        "Ann",
        "1",
        "email",
        "Bob",
        START.isoformat(),
        "sent",
        "",
        '\'=HYPERLINK("http://evil")',
    ]
    assert rows[2][:7] == [
        str(scene["ben"]),
        "Ben",
        "1",
        "dm",
        "Bob",
        (START + timedelta(minutes=5)).isoformat(),
        "sent",
    ]
    assert (await dave.get("/incidents/99999/briefings.csv")).status_code == 404


async def test_the_member_timeline_shows_their_briefings_between_the_interactions(world, scene, as_user):
    iid = scene["iid"]
    briefing = await world.briefed(iid, scene["ann"], channel="in_person", note="At the meetup")  # now
    later = await world.interaction(scene["ann"], at=START + timedelta(minutes=10), platform="x")
    carol = await as_user("carol")
    r = await carol.get(f"/members/{scene['ann']}")
    assert r.status_code == 200
    timeline = section(r.text, "timeline")
    item = section(timeline, f"member-briefing-{briefing['id']}")
    assert f'href="/incidents/{iid}#advocates">Misleading ad</a>' in item and "Briefed" in item
    assert "v1" in item and "in person" in item and "sent" in item and "At the meetup" in item
    assert f"/incidents/{iid}/briefings/{briefing['id']}" in item
    # Newest first: the later interaction, the briefing, then the two replies from before it.
    order = re.findall(r'<li class="event [^"]*" id="([a-z-]+-\d+)"', timeline)
    assert order[:2] == [f"interaction-{later}", f"member-briefing-{briefing['id']}"] and len(order) == 4
    assert all(o.startswith("interaction-") for o in order[2:])
    assert 'id="briefings"' not in r.text  # no separate card any more
    r = await carol.get(f"/members/{scene['ben']}")
    assert "member-briefing-" not in r.text


@pytest.mark.parametrize("who", ["carol", "dave"])
async def test_agents_and_viewers_read_only(world, scene, as_user, who):
    iid = scene["iid"]
    briefing = await world.briefed(iid, scene["ann"])
    await world.approve(iid, ["Something new"])  # Ann is in the re-brief queue
    client = await as_user(who)
    r = await client.get(f"/incidents/{iid}/suggestions")
    assert r.status_code == 200 and suggested(r.text) == [scene["ann"], scene["ben"]]
    assert 'id="brief-form"' not in r.text and 'name="member_id"' not in r.text and 'name="verdict"' not in r.text
    assert "can read suggestions" in r.text
    r = await client.get(f"/incidents/{iid}")
    advocates = section(r.text, "advocates")
    assert "Ann" in advocates and 'id="rebrief-queue"' in advocates
    assert "<form" not in advocates and 'name="outcome"' not in advocates
    r = await client.get(f"/incidents/{iid}/suggestions", params={"why": "Ann"})
    assert r.status_code == 200

    for url, data in [
        (f"/incidents/{iid}/briefings", {"member_id": str(scene["ben"]), "channel": "dm"}),
        (f"/incidents/{iid}/suggestions/{scene['ben']}/feedback", {"verdict": "skipped"}),
        (f"/briefings/{briefing['id']}/outcome", {"outcome": "helped"}),
    ]:
        r = await post_form(client, url, data)
        assert r.status_code == 403, (url, r.status_code)
        assert "cannot brief members" in text(r)
    rows = (await world.api.get(f"/api/v1/incidents/{iid}/briefings", headers=world.h)).json()
    assert [(b["member_id"], b["outcome"]) for b in rows] == [(scene["ann"], "sent")]
    assert suggested((await client.get(f"/incidents/{iid}/suggestions")).text) == [scene["ann"], scene["ben"]]


async def test_every_post_needs_the_csrf_token(world, scene, as_user):
    bob = await as_user("bob")
    iid = scene["iid"]
    briefing = await world.briefed(iid, scene["ann"])
    for url, data in [
        (f"/incidents/{iid}/briefings", {"member_id": str(scene["ben"]), "channel": "dm"}),
        (f"/incidents/{iid}/suggestions/{scene['ben']}/feedback", {"verdict": "skipped"}),
        (f"/briefings/{briefing['id']}/outcome", {"outcome": "helped"}),
    ]:
        r = await bob.post(url, data=data)
        assert r.status_code == 403, url
    rows = (await world.api.get(f"/api/v1/incidents/{iid}/briefings", headers=world.h)).json()
    assert [(b["member_id"], b["outcome"]) for b in rows] == [(scene["ann"], "sent")]


async def test_unknown_incidents_are_404(as_user):
    bob = await as_user("bob")
    assert (await bob.get("/incidents/99999/suggestions")).status_code == 404
    r = await post_form(bob, "/incidents/99999/briefings", {"member_id": "1", "channel": "dm"})
    assert r.status_code == 404
