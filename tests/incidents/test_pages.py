"""The incident HTML pages: the list, the new-incident form with errors next to fields, the playbook page
(transition buttons, the response clock, statements, corrective actions, linked interactions, talking points with
approval and differences, the promotion freeze, the review and its Markdown), the admin settings page, and who may
write."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from crm.app import create_app
from crm.audit.service import Actor
from crm.incidents import queries, service, talking_points
from crm.incidents.tables import CorrectiveAction, Incident, Statement, TalkingPoints
from crm.members import interactions
from crm.members import service as member_service
from crm.members.tables import Interaction
from tests.conftest import login, make_client, post_form

SYSTEM = Actor.system("test")


async def add_incident(clock, **values) -> int:
    values.setdefault("title", "Tone-deaf ad")
    values.setdefault("severity", "high")
    return (await service.create_incident(values=values, actor=SYSTEM, now=clock()))["id"]


def field_error(body: str, name: str) -> str:
    found = re.search(rf'<p id="e-{re.escape(name)}" class="error">([^<]*)</p>', body)
    assert found, f"no error next to {name!r}"
    return html.unescape(found.group(1))


def text(body: str) -> str:
    """The page as plain text, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def alert(body: str) -> str:
    found = re.search(r'role="alert"[^>]*>(.*?)</', body, re.S)
    assert found, "no alert"
    return html.unescape(found.group(1)).strip()


async def status_of(incident_id: int) -> str:
    return (await queries.snapshot(incident_id))["status"]


# ---- list and create -----------------------------------------------------------------------------


async def test_it_lists_incidents_with_filters(as_user, clock):
    bob = await as_user("bob")
    open_id = await add_incident(clock, title="Wrong prices", severity="critical")
    closed_id = await add_incident(clock, title="Typo in tweet", severity="low")
    for to in ("acknowledged", "responding", "resolved"):
        await service.transition(incident_id=closed_id, to=to, actor=SYSTEM, now=clock())
    page = await bob.get("/incidents")
    assert page.status_code == 200
    assert "Wrong prices" in page.text and "Typo in tweet" in page.text
    assert 'href="/incidents/new"' in page.text
    assert "Wrong prices" in (await bob.get("/incidents?state=open")).text
    assert "Typo in tweet" not in (await bob.get("/incidents?state=open")).text
    assert "Wrong prices" not in (await bob.get("/incidents?state=closed")).text
    assert "Typo in tweet" in (await bob.get("/incidents?severity=low")).text
    assert "Wrong prices" not in (await bob.get("/incidents?status=resolved")).text
    bad = await bob.get("/incidents?severity=huge")
    assert bad.status_code == 422 and "Choose one of" in field_error(bad.text, "severity")
    clock.advance(hours=2)  # past the 15 min target for critical
    rows = (await bob.get("/incidents")).text
    assert "target missed" in rows
    assert f'href="/incidents/{open_id}"' in rows


async def test_it_refuses_a_bad_incident_with_errors_next_to_fields_and_writes_nothing(as_user, clock):
    bob = await as_user("bob")
    form = await bob.get("/incidents/new")
    assert form.status_code == 200 and 'name="_csrf_token"' in form.text
    response = await post_form(
        bob,
        "/incidents",
        {"title": "", "severity": "huge", "links": "not a link", "detected_at": "yesterday-ish", "platforms": "x"},
    )
    assert response.status_code == 422
    assert field_error(response.text, "title") == "This is required."
    assert "Choose one of" in field_error(response.text, "severity")
    assert "Line 1" in field_error(response.text, "links")
    assert "Enter a date and time" in field_error(response.text, "detected_at")
    assert "not a link" in response.text  # what was typed is kept
    future = (clock() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = await post_form(bob, "/incidents", {"title": "Later", "severity": "low", "detected_at": future})
    assert response.status_code == 422 and "future" in field_error(response.text, "detected_at")
    assert await Incident.count().run() == 0


async def test_it_creates_an_incident_reading_the_time_in_the_configured_zone(settings, engine, users, clock):
    app = create_app(replace(settings, timezone="Europe/Paris"), engine=engine, clock=clock, manage_pool=False)
    async with make_client(app) as bob:
        await login(bob, "bob@example.com")
        response = await post_form(
            bob,
            "/incidents",
            {
                "title": "Ad misfires",
                "summary": "It went badly.",
                "severity": "critical",
                "topics": "Ads, travel",
                "platforms": ["x", "instagram"],
                "links": "https://x.com/brand/1\n\nhttps://x.com/brand/2",
                "detected_at": "2026-03-02T09:00",
                "freeze": "default",
            },
        )
        assert response.status_code == 303, response.text
        incident_id = int(response.headers["location"].rsplit("/", 1)[1])
        incident = await queries.snapshot(incident_id)
        assert incident["detected_at"] == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 09:00 in Paris
        assert incident["topics"] == ["ads", "travel"] and incident["platforms"] == ["x", "instagram"]
        assert incident["links"] == ["https://x.com/brand/1", "https://x.com/brand/2"]
        assert incident["freeze_promotion"] is True  # the default for critical
        page = await bob.get(f"/incidents/{incident_id}")
        assert page.status_code == 200 and "Ad misfires" in page.text and "2026-03-02 09:00" in page.text
        response = await post_form(
            bob,
            "/incidents",
            {"title": "Small one", "severity": "critical", "detected_at": "2026-03-02T10:00", "freeze": "no"},
        )
        small = int(response.headers["location"].rsplit("/", 1)[1])
        assert (await queries.snapshot(small))["freeze_promotion"] is False


async def test_unknown_ids_are_404_pages(as_user, clock):
    bob = await as_user("bob")
    incident_id = await add_incident(clock)
    for url in (
        "/incidents/999",
        "/incidents/999/interactions",
        "/incidents/999/review.md",
        "/incidents/999/talking-points/diff",
        f"/incidents/{incident_id}/talking-points/7/edit",
    ):
        response = await bob.get(url)
        assert response.status_code == 404, url
        assert "Page not found" in response.text
    assert (await post_form(bob, "/incidents/999/transition", {"to": "acknowledged"})).status_code == 404
    assert (await post_form(bob, f"/incidents/{incident_id}/statements/999/publish")).status_code == 404


# ---- the workflow and the clock ------------------------------------------------------------------


async def test_it_walks_the_workflow_with_buttons_and_shows_the_409_message(as_user, clock):
    bob = await as_user("bob")
    incident_id = await add_incident(clock)
    page = (await bob.get(f"/incidents/{incident_id}")).text
    assert re.search(r'<button type="submit" name="to" value="acknowledged"[^>]*>Acknowledge</button>', page)
    assert 'value="reviewed"' not in page  # only the allowed next steps are offered

    illegal = await post_form(bob, f"/incidents/{incident_id}/transition", {"to": "reviewed"})
    assert illegal.status_code == 409
    assert "cannot move to 'reviewed'" in alert(illegal.text) and "Allowed next: acknowledged" in alert(illegal.text)
    assert await status_of(incident_id) == "detected"

    for to, offered in (
        ("acknowledged", ["responding"]),
        ("responding", ["resolved"]),
        ("resolved", ["reviewed", "responding"]),
        ("reviewed", []),
    ):
        clock.advance(minutes=5)
        response = await post_form(bob, f"/incidents/{incident_id}/transition", {"to": to})
        assert response.status_code == 303 and response.headers["location"] == f"/incidents/{incident_id}"
        assert await status_of(incident_id) == to
        page = await bob.get(f"/incidents/{incident_id}")
        assert f"The incident is now {to}." in page.text
        assert re.findall(r'name="to" value="([a-z]+)"', page.text) == offered
    incident = await queries.snapshot(incident_id)
    assert incident["acknowledged_by"] == incident["reviewed_by"] == (await bob_id())
    again = await post_form(bob, f"/incidents/{incident_id}/transition", {"to": "responding"})
    assert again.status_code == 409 and "none (the incident is closed)" in alert(again.text)


async def bob_id() -> int:
    from crm.accounts import queries as accounts_queries

    return (await accounts_queries.user_by_email("bob@example.com"))["id"]


async def test_the_clock_warns_once_the_target_is_missed(as_user, clock):
    bob = await as_user("bob")
    incident_id = await add_incident(clock, severity="critical")  # 15 min target
    clock.advance(minutes=10)
    page = await bob.get(f"/incidents/{incident_id}")
    assert page.headers.get("refresh") == "60"  # the clock stays live while the incident is open
    assert "clock-warning" not in page.text
    body = text(page.text)
    assert "Since detection 10 min" in body and "waiting 10 min, target 15 min, 5 min left" in body
    clock.advance(minutes=10)
    page = await bob.get(f"/incidents/{incident_id}")
    assert "clock-warning" in page.text
    assert "Acknowledgement target missed" in text(page.text) and "(5 min over)" in text(page.text)
    await post_form(bob, f"/incidents/{incident_id}/transition", {"to": "acknowledged"})
    clock.advance(hours=3)
    body = text((await bob.get(f"/incidents/{incident_id}")).text)
    assert "Time to acknowledge 20 min (target 15 min)" in body
    assert "acknowledged after 20 min, 5 min over the 15 min target" in body
    assert "Since detection 3 h 20 min" in body
    await post_form(bob, f"/incidents/{incident_id}/transition", {"to": "responding"})
    await post_form(bob, f"/incidents/{incident_id}/transition", {"to": "resolved"})
    page = await bob.get(f"/incidents/{incident_id}")
    assert "Time to resolve 3 h 20 min" in text(page.text)
    assert "refresh" not in page.headers  # closed: nothing ticks any more


# ---- statements and corrective actions -----------------------------------------------------------


async def test_statements_need_a_signer_for_an_apology_and_can_be_published(as_user, clock):
    bob = await as_user("bob")
    incident_id = await add_incident(clock)
    assert (await bob.get(f"/incidents/{incident_id}/statements/new?kind=apology")).status_code == 200
    refused = await post_form(
        bob, f"/incidents/{incident_id}/statements", {"kind": "apology", "text": "We are sorry.", "signed_by": ""}
    )
    assert refused.status_code == 422
    assert field_error(refused.text, "signed_by") == "An apology is signed by a named person."
    assert "We are sorry." in refused.text
    assert await Statement.count().run() == 0
    empty = await post_form(bob, f"/incidents/{incident_id}/statements", {"kind": "update", "text": ""})
    assert empty.status_code == 422 and field_error(empty.text, "text") == "This is required."

    done = await post_form(
        bob,
        f"/incidents/{incident_id}/statements",
        {"kind": "apology", "text": "We are sorry.", "signed_by": "Jane Doe, CEO"},
    )
    assert done.status_code == 303
    page = (await bob.get(f"/incidents/{incident_id}")).text
    assert "signed by <strong>Jane Doe, CEO</strong>" in page and ">draft</span>" in page
    statement_id = (await Statement.select(Statement.id).first().run())["id"]
    published = await post_form(bob, f"/incidents/{incident_id}/statements/{statement_id}/publish")
    assert published.status_code == 303
    page = (await bob.get(f"/incidents/{incident_id}")).text
    assert "published 2026-03-02 09:30" in page and "/publish" not in page
    twice = await post_form(bob, f"/incidents/{incident_id}/statements/{statement_id}/publish")
    assert twice.status_code == 409 and "already published" in alert(twice.text)
    other = await add_incident(clock, title="Another")
    assert (await post_form(bob, f"/incidents/{other}/statements/{statement_id}/publish")).status_code == 404


async def test_corrective_actions_are_added_and_moved_along(as_user, clock, users):
    bob = await as_user("bob")
    incident_id = await add_incident(clock)
    form = await bob.get(f"/incidents/{incident_id}/actions/new")
    assert form.status_code == 200 and ">Carol</option>" in form.text
    bad = await post_form(bob, f"/incidents/{incident_id}/actions", {"what": "", "owner": "x", "due_on": "soon"})
    assert bad.status_code == 422
    assert field_error(bad.text, "what") == "This is required."
    assert field_error(bad.text, "owner") == "Choose an existing user."
    assert field_error(bad.text, "due_on") == "Give a date like 2026-03-31."
    assert await CorrectiveAction.count().run() == 0

    ok = await post_form(
        bob,
        f"/incidents/{incident_id}/actions",
        {"what": "Two-person check on every campaign", "owner": str(users["carol"]["id"]), "due_on": "2026-03-31"},
    )
    assert ok.status_code == 303
    page = (await bob.get(f"/incidents/{incident_id}")).text
    assert "Two-person check on every campaign" in page and "due 2026-03-31" in page and "Carol" in page
    action_id = (await CorrectiveAction.select(CorrectiveAction.id).first().run())["id"]
    for status in ("in_progress", "done"):
        assert (
            await post_form(bob, f"/incidents/{incident_id}/actions/{action_id}/status", {"status": status})
        ).status_code == 303
    row = await CorrectiveAction.select().first().run()
    assert row["status"] == "done" and row["done_at"] == clock()
    bad = await post_form(bob, f"/incidents/{incident_id}/actions/{action_id}/status", {"status": "lost"})
    assert bad.status_code == 422 and "Choose one of" in alert(bad.text)


# ---- linked interactions -------------------------------------------------------------------------


async def test_it_finds_and_links_interactions_in_bulk_and_counts_them(as_user, clock):
    bob = await as_user("bob")
    incident_id = await add_incident(clock, platforms=["x"])
    member_id = (await member_service.create_member(values={"name": "Ann Critic"}, actor=SYSTEM, now=clock()))["id"]
    clock.advance(minutes=30)
    made = []
    for sentiment, troll, platform, said in (
        ("negative", False, "x", "awful ad"),
        ("negative", False, "x", "bad ad"),
        ("positive", False, "x", "they fixed it"),
        ("negative", True, "x", "boycott forever"),
        ("negative", False, "instagram", "bad ad too"),
    ):
        row, _ = await interactions.log_interaction(
            values={
                "member_id": member_id,
                "platform": platform,
                "kind": "comment",
                "sentiment": sentiment,
                "troll": troll,
                "text": said,
                "occurred_at": clock() - timedelta(minutes=5),
            },
            actor=SYSTEM,
            now=clock(),
        )
        made.append(row["id"])

    found = await bob.get(f"/incidents/{incident_id}/interactions?platform=x")
    assert found.status_code == 200
    assert "awful ad" in found.text and "bad ad too" not in found.text
    assert "boycott forever" in found.text and "troll-mark" in found.text  # trolls are shown, never hidden
    searched = await bob.get(f"/incidents/{incident_id}/interactions?text=bad")
    assert "bad ad too" in searched.text and "awful ad" not in searched.text
    bad = await bob.get(f"/incidents/{incident_id}/interactions?from=nonsense")
    assert bad.status_code == 422 and "Enter a date and time" in field_error(bad.text, "from")

    none = await post_form(bob, f"/incidents/{incident_id}/interactions?platform=x", {})
    assert none.status_code == 422 and "Choose at least one interaction." in none.text
    response = await bob.post(
        f"/incidents/{incident_id}/interactions",
        data={"ids": [str(i) for i in made[:4]], "_csrf_token": bob.cookies["crm_csrf"]},
    )
    assert response.status_code == 303, response.text
    linked = await Interaction.select(Interaction.id).where(Interaction.incident_id == incident_id).run()
    assert sorted(r["id"] for r in linked) == sorted(made[:4])
    page = await bob.get(f"/incidents/{incident_id}")
    assert "Linked 4 interactions" in page.text
    assert "2 negative, 1 positive since detection" in text(page.text)
    assert "1 from trolls, counted apart" in text(page.text)
    again = (await bob.get(f"/incidents/{incident_id}/interactions?platform=x")).text
    assert again.count(">linked</span>") == 4


# ---- talking points ------------------------------------------------------------------------------


async def test_talking_points_are_drafted_approved_by_someone_else_and_compared(as_user, clock):
    bob, alice = await as_user("bob"), await as_user("alice")
    incident_id = await add_incident(clock)
    empty = await post_form(bob, f"/incidents/{incident_id}/talking-points", {"points": "  \n", "links": "ftp://x"})
    assert empty.status_code == 422
    assert field_error(empty.text, "points") == "Give at least one point."
    assert field_error(empty.text, "links").startswith("Line 1: ")
    assert await TalkingPoints.count().run() == 0

    created = await post_form(
        bob,
        f"/incidents/{incident_id}/talking-points",
        {
            "points": "We got it wrong\nWe are fixing prices\n",
            "avoid": "Blaming the agency",
            "links": "https://example.com/statement",
        },
    )
    assert created.status_code == 303
    edit = await post_form(
        bob,
        f"/incidents/{incident_id}/talking-points/1/edit",
        {"points": "We got it wrong\nPrices are fixed today", "avoid": "Blaming the agency"},
    )
    assert edit.status_code == 303
    assert (await talking_points.get_version(incident_id, 1))["points"] == ["We got it wrong", "Prices are fixed today"]
    page = (await bob.get(f"/incidents/{incident_id}")).text
    assert "No version approved yet." in page and "Approve version 1" in page

    refused = await post_form(bob, f"/incidents/{incident_id}/talking-points/1/approve")
    assert refused.status_code == 403
    assert "Two-person approval is on" in alert(refused.text)
    assert (await talking_points.get_version(incident_id, 1))["status"] == "draft"
    approved = await post_form(alice, f"/incidents/{incident_id}/talking-points/1/approve")
    assert approved.status_code == 303
    page = (await bob.get(f"/incidents/{incident_id}")).text
    assert "Approved: version 1" in page and "Approved 2026-03-02 09:30 by Alice" in page
    assert (await bob.get(f"/incidents/{incident_id}/talking-points/1/edit")).status_code == 303  # never edited
    in_place = await post_form(bob, f"/incidents/{incident_id}/talking-points/1/edit", {"points": "Changed"})
    assert in_place.status_code == 409 and "never edited" in in_place.text

    form = await alice.get(f"/incidents/{incident_id}/talking-points/new")
    assert "Prices are fixed today" in form.text  # a new version starts from the approved one
    await post_form(
        alice,
        f"/incidents/{incident_id}/talking-points",
        {"points": "We got it wrong\nRefunds for everyone", "avoid": "Blaming the agency"},
    )
    assert (await post_form(bob, f"/incidents/{incident_id}/talking-points/2/approve")).status_code == 303
    statuses = {v["version"]: v["status"] for v in await talking_points.versions(incident_id)}
    assert statuses == {1: "superseded", 2: "approved"}

    diff = await bob.get(f"/incidents/{incident_id}/talking-points/diff?a=1&b=2")
    assert diff.status_code == 200
    assert re.search(
        r'<li class="diff-added"><span class="diff-sign" aria-hidden="true">\+</span>'
        r'<span class="visually-hidden">added: </span><span class="diff-line">Refunds for everyone',
        diff.text,
    )
    assert re.search(
        r'<li class="diff-removed"><span class="diff-sign" aria-hidden="true">−</span>'
        r'<span class="visually-hidden">removed: </span><span class="diff-line">Prices are fixed today',
        diff.text,
    )
    assert re.search(r'<li class="diff-kept">.*?We got it wrong', diff.text)
    assert (await bob.get(f"/incidents/{incident_id}/talking-points/diff?a=1&b=9")).status_code == 422


async def test_the_author_may_approve_when_two_person_approval_is_off(as_user, clock):
    bob, alice = await as_user("bob"), await as_user("alice")
    incident_id = await add_incident(clock)
    await post_form(bob, f"/incidents/{incident_id}/talking-points", {"points": "Sorry"})
    assert (await bob.get("/admin/settings")).status_code == 403
    saved = await post_form(
        alice,
        "/admin/settings",
        {
            "ack_target_minutes.critical": "15",
            "ack_target_minutes.high": "60",
            "ack_target_minutes.medium": "240",
            "ack_target_minutes.low": "1440",
        },
    )  # the checkbox left unticked
    assert saved.status_code == 303
    assert (await post_form(bob, f"/incidents/{incident_id}/talking-points/1/approve")).status_code == 303


# ---- the freeze and the review -------------------------------------------------------------------


async def test_the_freeze_banner_shows_on_every_page_until_lifted(as_user, clock):
    bob = await as_user("bob")
    incident_id = await add_incident(clock, title="Wi-Fi joke misfires", severity="high")
    assert 'id="freeze-banner"' not in (await bob.get("/")).text  # detected: not yet
    await post_form(bob, f"/incidents/{incident_id}/transition", {"to": "acknowledged"})
    for url in ("/", "/members", "/incidents", f"/incidents/{incident_id}"):
        page = await bob.get(url)
        assert 'id="freeze-banner"' in page.text and "Promotion is paused." in page.text, url
        assert "Wi-Fi joke misfires" in page.text
    assert "Lift freeze" in (await bob.get(f"/incidents/{incident_id}")).text
    lifted = await post_form(bob, f"/incidents/{incident_id}/freeze/lift")
    assert lifted.status_code == 303
    page = await bob.get("/")
    assert 'id="freeze-banner"' not in page.text
    page = await bob.get(f"/incidents/{incident_id}")
    assert "Freeze lifted 2026-03-02 09:30 by Bob" in page.text and "Lift freeze" not in page.text
    twice = await post_form(bob, f"/incidents/{incident_id}/freeze/lift")
    assert twice.status_code == 409 and "not frozen" in alert(twice.text)


async def test_the_review_opens_after_resolve_and_exports_markdown(as_user, clock):
    bob = await as_user("bob")
    incident_id = await add_incident(clock, title="Holiday email with wrong prices", severity="medium")
    page = (await bob.get(f"/incidents/{incident_id}")).text
    assert "The review opens once the incident is resolved." in page and 'name="review_lessons"' not in page
    early = await post_form(bob, f"/incidents/{incident_id}/review", {"review_lessons": "Too early"})
    assert early.status_code == 409 and "opens once the incident is resolved" in alert(early.text)

    await post_form(
        bob,
        f"/incidents/{incident_id}/statements",
        {"kind": "apology", "text": "We are sorry.", "signed_by": "Jane Doe"},
    )
    statement_id = (await Statement.select(Statement.id).first().run())["id"]
    await post_form(bob, f"/incidents/{incident_id}/statements/{statement_id}/publish")
    await post_form(bob, f"/incidents/{incident_id}/actions", {"what": "Check every price twice"})
    clock.advance(minutes=45)
    await post_form(bob, f"/incidents/{incident_id}/transition", {"to": "acknowledged"})
    clock.advance(hours=2)
    await post_form(bob, f"/incidents/{incident_id}/transition", {"to": "responding"})
    await post_form(bob, f"/incidents/{incident_id}/transition", {"to": "resolved"})
    page = (await bob.get(f"/incidents/{incident_id}")).text
    assert 'name="review_lessons"' in page and "review.md" in page
    too_long = await post_form(bob, f"/incidents/{incident_id}/review", {"review_lessons": "x" * 20_001})
    assert too_long.status_code == 422 and "at most" in field_error(too_long.text, "review_lessons")
    saved = await post_form(
        bob,
        f"/incidents/{incident_id}/review",
        {
            "review_what_happened": "A price feed broke.",
            "review_what_changed": "Prices are checked twice.",
            "review_lessons": "Slow down before sending.",
        },
    )
    assert saved.status_code == 303
    assert (await post_form(bob, f"/incidents/{incident_id}/transition", {"to": "reviewed"})).status_code == 303

    md = await bob.get(f"/incidents/{incident_id}/review.md")
    assert md.status_code == 200
    assert md.headers["content-type"].startswith("text/markdown")
    assert md.headers["content-disposition"] == f'attachment; filename="incident-{incident_id}-review.md"'
    body = md.text
    assert body.startswith("# Holiday email with wrong prices")
    assert "## Timeline" in body and "02 Mar 2026 09:30: Detected" in body and "02 Mar 2026 10:15: Acknowledged" in body
    assert "Reviewed" in body and "Published the apology" in body
    assert "## Corrective actions" in body and "- [ ] Check every price twice" in body
    assert "Acknowledged after 45 min" in body and "Slow down before sending." in body


# ---- settings ------------------------------------------------------------------------------------


async def test_settings_are_admin_only_and_change_the_ack_target(as_user, clock):
    bob, alice = await as_user("bob"), await as_user("alice")
    assert (await bob.get("/admin/settings")).status_code == 403
    assert (await post_form(bob, "/admin/settings", {"ack_target_minutes.critical": "30"})).status_code == 403
    page = await alice.get("/admin/settings")
    assert page.status_code == 200 and 'name="ack_target_minutes.critical"' in page.text and 'value="15"' in page.text
    assert 'name="two_person_approval" value="on" checked' in page.text
    assert 'href="/admin/settings"' in (await alice.get("/admin/users")).text

    incident_id = await add_incident(clock, severity="critical")
    clock.advance(minutes=20)
    assert "clock-warning" in (await alice.get(f"/incidents/{incident_id}")).text

    prefs = {
        "ack_target_minutes.critical": "30",
        "ack_target_minutes.high": "60",
        "ack_target_minutes.medium": "240",
        "ack_target_minutes.low": "0",
        "two_person_approval": "on",
    }
    bad = await post_form(alice, "/admin/settings", prefs)
    assert bad.status_code == 422
    assert field_error(bad.text, "ack_target_minutes-low") == "Between 1 and 10080."
    assert 'value="30"' in bad.text  # the typed values are kept
    assert "clock-warning" in (await alice.get(f"/incidents/{incident_id}")).text  # nothing was saved

    saved = await post_form(alice, "/admin/settings", {**prefs, "ack_target_minutes.low": "1440"})
    assert saved.status_code == 303 and saved.headers["location"] == "/admin/settings"
    page = await alice.get(f"/incidents/{incident_id}")
    assert "clock-warning" not in page.text and "target 30 min, 10 min left" in text(page.text)


# ---- who may write -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["carol", "dave"])
async def test_agents_and_viewers_read_but_every_post_is_403(as_user, clock, who):
    reader = await as_user(who)
    incident_id = await add_incident(clock)
    await talking_points.create_draft(incident_id=incident_id, values={"points": ["Sorry"]}, actor=SYSTEM, now=clock())
    await service.add_statement(
        incident_id=incident_id, values={"kind": "update", "text": "Looking into it"}, actor=SYSTEM, now=clock()
    )
    await service.add_action(incident_id=incident_id, values={"what": "Fix it"}, actor=SYSTEM, now=clock())
    page = await reader.get(f"/incidents/{incident_id}")
    assert page.status_code == 200
    assert re.findall(r'<form method="post" action="/incidents', page.text) == []  # no write buttons shown
    assert "New version" not in page.text and "Add statement" not in page.text
    assert "New incident" not in (await reader.get("/incidents")).text
    statement_id = (await Statement.select(Statement.id).first().run())["id"]
    action_id = (await CorrectiveAction.select(CorrectiveAction.id).first().run())["id"]
    base = f"/incidents/{incident_id}"
    for url in (
        "/incidents",
        f"{base}/transition",
        f"{base}/freeze/lift",
        f"{base}/statements",
        f"{base}/statements/{statement_id}/publish",
        f"{base}/actions",
        f"{base}/actions/{action_id}/status",
        f"{base}/interactions",
        f"{base}/talking-points",
        f"{base}/talking-points/1/edit",
        f"{base}/talking-points/1/approve",
        f"{base}/review",
        "/admin/settings",
    ):
        response = await post_form(reader, url, {"to": "acknowledged", "status": "done", "points": "x"})
        assert response.status_code == 403, url
    for url in (
        "/incidents/new",
        f"{base}/statements/new",
        f"{base}/actions/new",
        f"{base}/talking-points/new",
        f"{base}/talking-points/1/edit",
        "/admin/settings",
    ):
        assert (await reader.get(url)).status_code == 403, url
    for url in (f"{base}/interactions", f"{base}/talking-points/diff", f"{base}/review.md"):
        assert (await reader.get(url)).status_code == 200, url
    assert await status_of(incident_id) == "detected"


async def test_posts_without_the_csrf_token_are_refused(as_user, clock):
    bob = await as_user("bob")
    incident_id = await add_incident(clock)
    response = await bob.post(f"/incidents/{incident_id}/transition", data={"to": "acknowledged"})
    assert response.status_code == 403
    assert await status_of(incident_id) == "detected"


async def test_the_dashboard_lists_open_incidents_with_their_clock(as_user, clock):
    bob = await as_user("bob")
    open_id = await add_incident(clock, title="Wrong prices", severity="critical")
    closed_id = await add_incident(clock, title="Typo in tweet", severity="low")
    for to in ("acknowledged", "responding", "resolved"):
        await service.transition(incident_id=closed_id, to=to, actor=SYSTEM, now=clock())
    page = (await bob.get("/")).text
    assert f'href="/incidents/{open_id}"' in page and "Typo in tweet" not in page
    assert "target (15 min) missed" not in page
    clock.advance(minutes=16)
    page = (await bob.get("/")).text
    assert "acknowledgement target (15 min) missed" in page
