"""The thank-you pages: the queue (why, when, how overdue, escaped names, one-click "Say thank you", dismissing with
a reason), the record form (pre-filled from the template, errors next to the fields with values kept, safe
redirects), the templates editor (managers and admins), the member page's thank-yous, the incident page's helpers,
the dashboard count and the nav badge. Both engines."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest

from crm.thanks.tables import ThankYou, ThankYouTemplate
from tests.briefings.test_pages import section, text
from tests.conftest import post_form
from tests.thanks.conftest import START, audit_entries


@pytest.fixture
async def scene(world, users):
    """Ann helped an hour after detection (due in ~2 days); Ben helped 3 days before (overdue)."""
    iid = await world.incident("Misleading ad")
    old = await world.incident("Old promo", detected_at=START - timedelta(days=4))
    ann = await world.member("Ann", tier="advocate")
    ben = await world.member("Ben", tier="champion")
    await world.supportive(ann, iid, 2)
    await world.interaction(ben, at=START - timedelta(days=3), sentiment="positive", incident_id=old, kind="share")
    return {"iid": iid, "old": old, "ann": ann, "ben": ben}


def thank_links(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'<a class="button small primary" href="([^"]+)"', html)]


async def test_the_queue_says_why_when_and_how_overdue_most_overdue_first(world, scene, as_user):
    bob = await as_user("bob")
    r = await bob.get("/thanks")
    assert r.status_code == 200, r.text
    queue = section(r.text, "due-queue")
    ids = re.findall(r'id="due-(\d+)-(\d+)"', queue)
    assert ids == [(str(scene["old"]), str(scene["ben"])), (str(scene["iid"]), str(scene["ann"]))]
    ben = text_of(section(r.text, f"due-{scene['old']}-{scene['ben']}"))
    assert "Ben for Old promo" in ben and "1 day overdue" in ben
    assert "Helped on 27 Feb: 1 supportive share" in ben
    ann = text_of(section(r.text, f"due-{scene['iid']}-{scene['ann']}"))
    assert "due in 1 day" in ann and "Helped on 2 Mar: 2 supportive replies" in ann
    assert "(2 due, 1 overdue)" in text(r)
    assert 'href="/thanks/supportive"' in r.text and "Stay supportive list" in r.text
    assert thank_links(queue) == [
        f"/thanks/new?member_id={scene['ben']}&incident_id={scene['old']}&next=%2Fthanks",
        f"/thanks/new?member_id={scene['ann']}&incident_id={scene['iid']}&next=%2Fthanks",
    ]
    assert queue.count('action="/thanks/dismiss#due-') == 2


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).replace(" ,", ",").strip()


async def test_the_queue_escapes_names_and_titles(world, scene, as_user):
    evil = await world.member("<script>alert(1)</script>")
    iid = await world.incident("<b>bold</b> & co")
    await world.supportive(evil, iid)
    r = await (await as_user("dave")).get("/thanks")
    assert r.status_code == 200
    assert "<script>alert(1)</script>" not in r.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert "<b>bold</b>" not in r.text and "&lt;b&gt;bold&lt;/b&gt; &amp; co" in r.text
    # Read-only roles see the queue without the buttons.
    assert thank_links(r.text) == [] and 'action="/thanks/dismiss' not in r.text


async def test_say_thank_you_opens_the_form_pre_filled_and_recording_clears_the_item(world, scene, as_user):
    bob = await as_user("bob")
    link = thank_links((await bob.get("/thanks")).text)[1]
    r = await bob.get(link)
    assert r.status_code == 200, r.text
    form = section(r.text, "f-message")
    assert "Hi Ann, thank you for standing with us during Misleading ad." in unescape(form)
    assert re.search(rf'<option value="{scene["iid"]}" selected>Misleading ad</option>', r.text)
    assert '<option value="dm" data-template="' in r.text and 'value="dm" data-template="Hi Ann' in r.text
    assert re.search(r'<option value="dm" data-template="[^"]*" selected>', r.text)
    assert 'name="next" value="/thanks"' in r.text
    r = await post_form(
        bob,
        "/thanks/new",
        {
            "member_id": scene["ann"],
            "incident_id": scene["iid"],
            "briefing_id": "",
            "channel": "public_reply",
            "message": "Thank you, Ann!",
            "gift": "Tote bag",
            "gift_value": "12.50",
            "sent_at": "",
            "next": "/thanks",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/thanks"
    [row] = await ThankYou.select().run()
    assert row["message"] == "Thank you, Ann!" and row["channel"] == "public_reply"
    assert row["gift_value_cents"] == 1250 and row["incident"] == scene["iid"]
    r = await bob.get("/thanks")
    assert "Thank-you to Ann for Misleading ad recorded." in text(r)
    assert f'id="due-{scene["iid"]}-{scene["ann"]}"' not in r.text
    assert "Tote bag" in section(r.text, "recent")


async def test_form_errors_come_back_next_to_the_fields_with_values_kept(world, scene, as_user, clock):
    bob = await as_user("bob")
    future = (START + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    r = await post_form(
        bob,
        "/thanks/new",
        {
            "member_id": scene["ann"],
            "incident_id": scene["iid"],
            "channel": "dm",
            "message": "Kept <text>",
            "gift": "",
            "gift_value": "-3",
            "sent_at": future,
            "next": "/thanks",
        },
    )
    assert r.status_code == 422
    assert 'id="e-gift_value" class="error">An amount cannot be negative.' in r.text
    assert 'id="e-sent_at" class="error">A thank-you cannot be sent in the future' in r.text
    assert "Kept &lt;text&gt;</textarea>" in r.text and 'value="-3"' in r.text and f'value="{future}"' in r.text
    r = await post_form(
        bob,
        "/thanks/new",
        {
            "member_id": scene["ann"],
            "incident_id": "abc",
            "channel": "nope",
            "message": "x",
            "gift_value": "1.234",
            "sent_at": "not a date",
        },
    )
    assert r.status_code == 422
    for field in ("incident_id", "channel", "gift_value", "sent_at"):
        assert f'id="e-{field}" class="error"' in r.text, field
    assert await ThankYou.count().run() == 0


async def test_a_past_sent_at_is_read_in_the_crm_time_zone(world, scene, as_user):
    bob = await as_user("bob")
    r = await post_form(
        bob,
        "/thanks/new",
        {
            "member_id": scene["ben"],
            "incident_id": scene["old"],
            "channel": "dm",
            "message": "",
            "sent_at": "2026-03-01T08:15",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/thanks"  # no next: back to the queue
    [row] = await ThankYou.select().run()
    assert row["sent_at"] == START.replace(day=1, hour=8, minute=15)
    assert "Hi Ben" in row["message"]  # an empty message is the channel's template


async def test_the_form_refuses_do_not_contact_missing_members_and_wrong_roles(world, scene, as_user):
    dnc = await world.member("Dnc", do_not_contact=True)
    bob = await as_user("bob")
    assert (await bob.get(f"/thanks/new?member_id={dnc}")).status_code == 409
    r = await post_form(bob, "/thanks/new", {"member_id": dnc, "channel": "dm", "message": "Hi"})
    assert r.status_code == 409
    assert (await bob.get("/thanks/new?member_id=999999")).status_code == 404
    assert (await bob.get("/thanks/new")).status_code == 404
    assert (await bob.get(f"/thanks/new?member_id={scene['ann']}&incident_id=999999")).status_code == 404
    other = await world.member("Other")
    helped = await world.helped(scene["iid"], other)
    assert (await bob.get(f"/thanks/new?member_id={scene['ann']}&briefing_id={helped['id']}")).status_code == 404
    # A link naming an incident or briefing that is not there is a link to nothing: 404, never a 200 form.
    for query in (
        "incident_id=abc",
        "incident_id=%C2%B2",
        "incident_id=9999999999",
        "briefing_id=abc",
        "briefing_id=999999",
        f"briefing_id={helped['id']}&incident_id={scene['old']}",
    ):
        r = await bob.get(f"/thanks/new?member_id={other}&{query}")
        assert r.status_code == 404, query
    r = await bob.get(f"/thanks/new?member_id={other}&briefing_id={helped['id']}")
    assert r.status_code == 200 and "For their briefing on v1" in text(r)
    assert re.search(rf'<option value="{scene["iid"]}" selected>', r.text)  # the briefing's incident
    for who in ("carol", "dave"):
        c = await as_user(who)
        assert (await c.get(f"/thanks/new?member_id={scene['ann']}")).status_code == 403
        r = await post_form(c, "/thanks/new", {"member_id": scene["ann"], "channel": "dm", "message": "Hi"})
        assert r.status_code == 403
        r = await post_form(
            c, "/thanks/dismiss", {"member_id": scene["ann"], "incident_id": scene["iid"], "reason": "no"}
        )
        assert r.status_code == 403
    assert await ThankYou.count().run() == 0


async def test_an_off_site_next_is_never_followed(world, scene, as_user):
    bob = await as_user("bob")
    r = await post_form(
        bob, "/thanks/new", {"member_id": scene["ann"], "channel": "dm", "message": "Hi", "next": "//evil.example/x"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/"
    r = await post_form(
        bob,
        "/thanks/new",
        {"member_id": scene["ann"], "channel": "dm", "message": "Hi", "next": f"/members/{scene['ann']}#thanks"},
    )
    assert r.headers["location"] == f"/members/{scene['ann']}#thanks"


async def test_dismissing_from_the_queue_needs_a_reason(world, scene, as_user):
    bob = await as_user("bob")
    key = {"member_id": scene["ben"], "incident_id": scene["old"]}
    r = await post_form(bob, "/thanks/dismiss", {**key, "reason": "  "})
    assert r.status_code == 422
    item = section(r.text, f"due-{scene['old']}-{scene['ben']}")
    assert '<details class="dismiss" open>' in item and "This is required." in item
    r = await post_form(bob, "/thanks/dismiss", {**key, "reason": "Asked us not to <write>"})
    assert r.status_code == 303 and r.headers["location"] == "/thanks"
    r = await bob.get("/thanks")
    assert f'id="due-{scene["old"]}-{scene["ben"]}"' not in r.text
    [entry] = await audit_entries("thanks.dismiss")
    assert entry["after"]["reason"] == "Asked us not to <write>"
    r = await post_form(bob, "/thanks/dismiss", {**key, "reason": "again"})
    assert r.status_code == 409


async def test_the_templates_editor_is_for_managers_and_admins(world, scene, as_user, users):
    for who in ("carol", "dave"):
        c = await as_user(who)
        assert (await c.get("/thanks/templates")).status_code == 403
        r = await post_form(c, "/thanks/templates", {"body_dm": "Hacked"})
        assert r.status_code == 403
        assert 'href="/thanks/templates"' not in (await c.get("/thanks")).text
    bob = await as_user("bob")
    r = await bob.get("/thanks/templates")
    assert r.status_code == 200 and 'name="body_public_reply"' in r.text and "The built-in default" in r.text
    r = await post_form(
        bob, "/thanks/templates", {"body_dm": "Cheers {member_name} ({incident_title}) {member}", "body_email": ""}
    )
    assert r.status_code == 422
    assert "Unknown placeholder {member}" in section(r.text, "e-body_dm")
    assert "This is required." in section(r.text, "e-body_email")
    assert "Cheers {member_name} ({incident_title}) {member}</textarea>" in r.text
    assert await ThankYouTemplate.count().run() == 0
    r = await post_form(bob, "/thanks/templates", {"body_dm": "Cheers {member_name}, for {incident_title}!"})
    assert r.status_code == 303
    [entry] = await audit_entries("thanks.template.update")
    assert entry["record_id"] == "dm" and entry["after"] == {"body": "Cheers {member_name}, for {incident_title}!"}
    assert entry["actor"] == users["bob"]["id"]
    r = await bob.get(f"/thanks/new?member_id={scene['ann']}&incident_id={scene['iid']}")
    assert "Cheers Ann, for Misleading ad!</textarea>" in r.text
    # A name holding a placeholder is never filled in a second time.
    odd = await world.member("{incident_title}")
    r = await bob.get(f"/thanks/new?member_id={odd}&incident_id={scene['iid']}")
    assert "Cheers {incident_title}, for Misleading ad!</textarea>" in r.text


async def test_the_member_timeline_shows_their_thank_yous_between_the_interactions(world, scene, as_user, clock):
    # Ann's two supportive replies were an hour ago (an hour after detection); the thank-you goes out now.
    r = await world.thank(scene["ann"], scene["iid"], channel="email", message="Thanks <3", gift="Mug", gift_value=8)
    thanked = r.json()["id"]
    later = await world.interaction(scene["ann"], at=clock() + timedelta(minutes=5), sentiment="positive")
    bob = await as_user("bob")
    r = await bob.get(f"/members/{scene['ann']}")
    assert r.status_code == 200
    timeline = section(r.text, "timeline")
    item = section(timeline, f"member-thanks-{thanked}")
    assert "Thanks &lt;3" in item and "gift: Mug (8.00)" in text_of(item) and "Thanked" in text_of(item)
    assert f'href="/incidents/{scene["iid"]}"' in item and "by Bob" in text_of(item)
    # Newest first: the later interaction, the thank-you, then the two replies it thanked.
    order = re.findall(r'<li class="event [^"]*" id="([a-z-]+-\d+)"', timeline)
    assert order[:2] == [f"interaction-{later}", f"member-thanks-{thanked}"] and len(order) == 4
    assert all(o.startswith("interaction-") for o in order[2:])
    assert f'href="/thanks/new?member_id={scene["ann"]}&amp;next=/members/{scene["ann"]}%23timeline"' in timeline
    assert 'id="thanks"' not in r.text  # no separate card any more
    dnc = await world.member("Dnc", do_not_contact=True)
    r = await bob.get(f"/members/{dnc}")
    assert "/thanks/new" not in section(r.text, "timeline")
    r = await (await as_user("dave")).get(f"/members/{scene['ann']}")
    assert "/thanks/new" not in section(r.text, "timeline") and f"member-thanks-{thanked}" in r.text


async def test_the_incident_page_lists_the_helpers_to_thank(world, scene, as_user):
    bob = await as_user("bob")
    r = await bob.get(f"/incidents/{scene['iid']}")
    assert r.status_code == 200
    helpers = section(r.text, "thank-helpers")
    assert "Thank these helpers" in helpers and "Ann" in helpers and "Ben" not in helpers
    assert thank_links(helpers) == [
        f"/thanks/new?member_id={scene['ann']}&incident_id={scene['iid']}&next=%2Fincidents%2F{scene['iid']}"
        "%23thank-helpers"
    ]
    await world.thank(scene["ann"], scene["iid"])
    r = await bob.get(f"/incidents/{scene['iid']}")
    assert 'id="thank-helpers"' not in r.text


async def test_the_dashboard_and_the_nav_badge_count_what_is_due(world, scene, as_user):
    bob = await as_user("bob")
    r = await bob.get("/")
    assert "2 thank-yous due, 1 overdue" in text_of(section(r.text, "thanks-due-count"))
    assert re.search(r'id="thanks-badge">2<span class="visually-hidden"> due</span>', r.text)
    assert 'class="badge late"' in r.text  # one is overdue
    await world.thank(scene["ben"], scene["old"])
    r = await bob.get("/members")
    assert re.search(r'id="thanks-badge">1<', r.text) and 'class="badge late"' not in r.text
    await world.thank(scene["ann"], scene["iid"])
    r = await bob.get("/")
    assert 'id="thanks-badge"' not in r.text and "0 thank-yous due" in text(r)


async def test_the_re_shown_form_keeps_only_a_safe_next(world, scene, as_user):
    """A 422 shows ``next`` again in a hidden field and the Cancel link: never an off-site or script target."""
    bob = await as_user("bob")
    for unsafe in ("javascript:alert(1)", "/\t/evil.example", "//evil.example", "/\\evil.example"):
        r = await post_form(
            bob,
            "/thanks/new",
            {"member_id": scene["ann"], "channel": "dm", "message": "Hi", "gift_value": "-1", "next": unsafe},
        )
        assert r.status_code == 422, unsafe
        assert '<input type="hidden" name="next" value="/">' in r.text and '<a href="/">Cancel</a>' in r.text
        assert "javascript:" not in r.text and "evil.example" not in r.text
    r = await post_form(
        bob,
        "/thanks/new",
        {
            "member_id": scene["ann"],
            "channel": "dm",
            "message": "Hi",
            "gift_value": "-1",
            "next": f"/members/{scene['ann']}#timeline",
        },
    )
    assert f'name="next" value="/members/{scene["ann"]}#timeline"' in r.text
    r = await post_form(
        bob, "/thanks/new", {"member_id": scene["ann"], "channel": "dm", "message": "Hi", "gift_value": "-1"}
    )
    assert '<input type="hidden" name="next" value="">' in r.text and '<a href="/thanks">Cancel</a>' in r.text
    assert await ThankYou.count().run() == 0


async def test_the_form_never_shows_a_briefing_of_someone_else(world, scene, as_user):
    other = await world.member("Other")
    helped = await world.helped(scene["iid"], other)
    bob = await as_user("bob")
    r = await post_form(
        bob, "/thanks/new", {"member_id": scene["ann"], "briefing_id": helped["id"], "channel": "dm", "message": "Hi"}
    )
    assert r.status_code == 422 and "is not Ann's" in text(r)
    assert "For their briefing on" not in text(r)
    mine = await world.helped(scene["old"], scene["ann"])
    r = await post_form(
        bob,
        "/thanks/new",
        {
            "member_id": scene["ann"],
            "briefing_id": mine["id"],
            "incident_id": scene["iid"],
            "channel": "dm",
            "message": "Hi",
        },
    )
    assert r.status_code == 422 and "belongs to another incident" in text(r)
    assert "For their briefing on" not in text(r)  # Ann's, but not for the incident the form is about
    r = await post_form(
        bob,
        "/thanks/new",
        {
            "member_id": scene["ann"],
            "briefing_id": mine["id"],
            "incident_id": scene["old"],
            "channel": "dm",
            "message": "Hi",
            "gift_value": "-1",
        },
    )
    assert r.status_code == 422 and "For their briefing on v1" in text(r)  # hers, for this incident: shown
    assert await ThankYou.count().run() == 0


async def test_thank_yous_of_deleted_merged_or_erased_members_are_listed_nowhere(world, scene, as_user, clock):
    from crm.members.tables import Member

    names = {"ann": "Ann", "ben": "Ben"}
    ids = {}
    for key in ("ann", "ben"):
        r = await world.thank(scene[key], message=f"Dear {names[key]}, thank you")
        ids[key] = r.json()["id"]
    gone = {}
    for state in ("deleted", "merged", "erased"):
        member = await world.member(f"Gone {state}")
        r = await world.thank(member, message=f"Dear Gone {state}, thank you")
        gone[state] = r.json()["id"]
        column = {"deleted": Member.deleted_at, "merged": Member.merged_into, "erased": Member.erased_at}[state]
        await Member.update({column: scene["ann"] if state == "merged" else clock()}).where(Member.id == member).run()
    bob = await as_user("bob")
    recent = section((await bob.get("/thanks")).text, "recent")
    assert "Dear Ann" in recent and "Dear Ben" in recent and "Gone" not in recent
    for state, thank_you_id in gone.items():
        r = await world.api.get(f"/api/v1/thank-yous/{thank_you_id}", headers=world.h)
        assert r.status_code == 404, state
    r = await world.api.get(f"/api/v1/thank-yous/{ids['ann']}", headers=world.h)
    assert r.status_code == 200 and r.json()["message"] == "Dear Ann, thank you"
