"""The member HTML pages: list (search, filters, sorts, keyset pages, CSV), create/edit with errors next to
fields, the member page (engagement, chart, timeline, quick log), merge/undo, delete, erase, and who may write."""

from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import replace
from datetime import timedelta

import pytest

from crm.app import create_app
from crm.audit.service import Actor
from crm.formatting import csv_cell
from crm.members import interactions, merge, queries, service
from crm.members.tables import Interaction, Member
from tests.conftest import login, make_client, post_form

SYSTEM = Actor.system("test")


async def add_member(clock, **values) -> int:
    values.setdefault("name", "Ann Example")
    return (await service.create_member(values=values, actor=SYSTEM, now=clock()))["id"]


async def add_interaction(clock, member_id: int, *, days_ago: float = 0, kind: str = "comment", **extra) -> None:
    await interactions.log_interaction(
        values={
            "member_id": member_id,
            "platform": "x",
            "kind": kind,
            "occurred_at": clock() - timedelta(days=days_ago),
            **extra,
        },
        actor=SYSTEM,
        now=clock(),
    )


def names_in_list(body: str) -> list[str]:
    """The member names in the list table, in order."""
    table = body[body.index('<table class="members">') : body.index("</table>")]
    return [html.unescape(n) for n in re.findall(r'<td class="name"><a href="/members/\d+">([^<]*)</a>', table)]


def text_of(body: str, element_id: str) -> str:
    found = re.search(rf'id="{re.escape(element_id)}"[^>]*>([^<]*)<', body)
    assert found, f"no element #{element_id}"
    return html.unescape(found.group(1)).strip()


def bars(body: str) -> list[tuple[str, int]]:
    return [
        (week, int(count))
        for week, count in re.findall(r'<rect class="bar"[^>]*data-week="([^"]+)" data-count="(\d+)"', body)
    ]


def link(body: str, label: str) -> str:
    found = re.search(rf'<a [^>]*href="([^"]+)"[^>]*>{re.escape(label)}</a>', body)
    assert found, f"no link {label!r}"
    return html.unescape(found.group(1))


def field_error(body: str, name: str) -> str:
    found = re.search(rf'<p id="e-{re.escape(name)}" class="error">([^<]*)</p>', body)
    assert found, f"no error next to {name}"
    return html.unescape(found.group(1))


# ---- the list --------------------------------------------------------------------------------------


@pytest.fixture
async def cast(clock, users):
    """Four members that differ in every filter."""
    ann = await add_member(
        clock,
        name="Ann Advocate",
        email="ann@example.com",
        tier="advocate",
        topics=["travel"],
        handles=[{"platform": "x", "handle": "ann_travels", "followers": 500}],
        consent_private_briefing=True,
    )
    bea = await add_member(
        clock,
        name="Bea Champion",
        tier="champion",
        topics=["food"],
        handles=[{"platform": "instagram", "handle": "bea.cooks", "followers": 9000}],
    )
    cy = await add_member(clock, name="Cy Member", email="cy@corp.example")
    dee = await add_member(clock, name="Dee Quiet", tier="advocate", handles=[{"platform": "x", "handle": "dee"}])
    await add_interaction(clock, ann, kind="post")
    await add_interaction(clock, ann, days_ago=2)
    await add_interaction(clock, bea, days_ago=5, kind="mention")
    for days_ago in (100, 90, 80):  # a 10-day rhythm, silent for 80 days: going quiet
        await add_interaction(clock, dee, days_ago=days_ago)
    return {"ann": ann, "bea": bea, "cy": cy, "dee": dee}


async def test_it_lists_members_with_their_engagement(as_user, cast):
    body = (await (await as_user("carol")).get("/members")).text
    assert names_in_list(body) == ["Ann Advocate", "Bea Champion", "Dee Quiet", "Cy Member"]  # by score
    row = body[body.index(f'href="/members/{cast["ann"]}"') :]
    row = row[: row.index("</tr>")]
    assert "advocate" in row and ">new<" in row and ">2<" in row and "500" in row and "2026-03-02 09:30" in row


@pytest.mark.parametrize(
    "query, expected",
    [
        ("q=ann_tr", ["Ann Advocate"]),  # part of a handle
        ("q=%40bea", ["Bea Champion"]),  # a handle written with @
        ("q=CORP.example", ["Cy Member"]),  # part of an email, any case
        ("q=quie", ["Dee Quiet"]),  # part of a name
        ("tier=champion", ["Bea Champion"]),
        ("topic=Travel", ["Ann Advocate"]),
        ("platform=instagram", ["Bea Champion"]),
        ("consent=yes", ["Ann Advocate"]),
        ("state=going_quiet", ["Dee Quiet"]),
        ("state=inactive", ["Cy Member"]),
        ("state=new", ["Ann Advocate", "Bea Champion"]),
        ("tier=advocate&platform=x&sort=name", ["Ann Advocate", "Dee Quiet"]),
        ("sort=name", ["Ann Advocate", "Bea Champion", "Cy Member", "Dee Quiet"]),
        ("sort=reach", ["Bea Champion", "Ann Advocate", "Dee Quiet", "Cy Member"]),
        ("sort=last_interaction", ["Ann Advocate", "Bea Champion", "Dee Quiet", "Cy Member"]),
    ],
)
async def test_it_searches_filters_and_sorts(as_user, cast, query, expected):
    response = await (await as_user("dave")).get(f"/members?{query}")
    assert response.status_code == 200
    assert names_in_list(response.text) == expected


async def test_the_filter_form_shows_the_current_filters(as_user, cast):
    body = (await (await as_user("bob")).get("/members?q=ann&tier=advocate&sort=name")).text
    assert 'name="q" type="search" value="ann"' in body
    assert '<option value="advocate" selected>' in body and '<option value="name" selected>' in body


@pytest.mark.parametrize(
    "query, field",
    [
        ("tier=emperor", "tier"),
        ("sort=shoe_size", "sort"),
        ("state=asleep", "state"),
        ("consent=maybe", "consent"),
        ("platform=myspace", "platform"),
        ("q=" + "a" * 201, "q"),
    ],
)
async def test_bad_filters_show_the_page_again_with_the_message(as_user, cast, query, field):
    response = await (await as_user("bob")).get(f"/members?{query}")
    assert response.status_code == 422
    assert field_error(response.text, field)
    assert names_in_list(response.text) == []
    assert (await (await as_user("bob")).get(f"/members.csv?{query}")).status_code == 422


async def test_a_forged_cursor_is_refused_politely(as_user, cast):
    response = await (await as_user("bob")).get("/members?cursor=not-a-cursor")
    assert response.status_code == 422 and "cursor is not valid" in response.text


async def test_next_page_carries_the_cursor_and_the_filters(as_user, clock, users):
    for n in range(53):
        await add_member(clock, name=f"Adv {n:02d}", tier="advocate")
    await add_member(clock, name="Adv zz but a plain member")
    bob = await as_user("bob")
    first = (await bob.get("/members?tier=advocate&sort=name")).text
    assert names_in_list(first) == [f"Adv {n:02d}" for n in range(50)]
    next_url = link(first, "Next page")
    assert "tier=advocate" in next_url and "sort=name" in next_url and "cursor=" in next_url
    second = (await bob.get(next_url)).text
    assert names_in_list(second) == ["Adv 50", "Adv 51", "Adv 52"]
    assert "Next page" not in second and link(second, "First page") == "/members?tier=advocate&sort=name"


# ---- CSV ---------------------------------------------------------------------------------------------


def read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_csv_cells_cannot_become_spreadsheet_formulas(as_user, clock, users):
    for name in ('=HYPERLINK("http://evil")', "+1+2", "-3", "@SUM(A1)", "Plain - name"):
        await add_member(clock, name=name)
    rows = read_csv((await (await as_user("bob")).get("/members.csv?sort=name")).text)
    assert sorted(r["name"] for r in rows) == sorted(
        ["'+1+2", "'-3", '\'=HYPERLINK("http://evil")', "'@SUM(A1)", "Plain - name"]
    )
    assert csv_cell(-1) == -1 and csv_cell("\t=x") == "'\t=x"


# ---- create and edit -----------------------------------------------------------------------------------


def member_form(**overrides) -> dict:
    form = {
        "name": "Jane Doe",
        "email": "Jane@Example.com",
        "tier": "advocate",
        "topics": "Travel, food, travel",
        "location": "Lyon",
        "language": "fr",
        "time_zone": "Europe/Paris",
        "notes": "Met at the meetup.",
        "owner": "",
        "consent_private_briefing": "1",
        "handles[0].platform": "x",
        "handles[0].handle": "@janed",
        "handles[0].followers": "1,200",
        "handles[0].url": "https://x.com/janed",
        "handles[1].platform": "instagram",
        "handles[1].handle": "",
        "handles[1].followers": "",
        "handles[1].url": "",
        "handles[2].platform": "tiktok",
        "handles[2].handle": "jane.tok",
        "handles[2].followers": "",
        "handles[2].url": "",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


async def test_it_creates_a_member_from_the_form(as_user, users):
    bob = await as_user("bob")
    form_page = await bob.get("/members/new")
    assert form_page.status_code == 200 and 'name="handles[2].url"' in form_page.text
    response = await post_form(bob, "/members", member_form(owner=str(users["bob"]["id"])))
    assert response.status_code == 303
    member_id = int(response.headers["location"].rsplit("/", 1)[1])
    body = (await bob.get(response.headers["location"])).text
    assert "Jane Doe was added." in body
    member = await queries.get_member(member_id)
    assert (
        member["email"] == "jane@example.com" and member["tier"] == "advocate" and member["owner"] == users["bob"]["id"]
    )
    assert member["topics"] == ["food", "travel"]
    assert [(h["platform"], h["handle"], h["followers"]) for h in member["handles"]] == [
        ("tiktok", "jane.tok", None),
        ("x", "janed", 1200),
    ]
    assert member["consent_private_briefing"] and not member["do_not_contact"]
    assert '<a href="https://x.com/janed" rel="noopener noreferrer nofollow">@janed</a>' in body
    assert "Consents to private briefings, recorded 2026-03-02 09:30 by Bob." in body


async def test_create_shows_errors_next_to_fields_and_writes_nothing(as_user, users):
    bob = await as_user("bob")
    response = await post_form(
        bob,
        "/members",
        member_form(
            **{
                "name": "",
                "email": "not-an-email",
                "time_zone": "Mars/Olympus",
                "handles[0].followers": "lots",
                "handles[2].url": "ftp://nope",
                "handles[1].followers": "12",
            }
        ),
    )
    assert response.status_code == 422
    body = response.text
    assert field_error(body, "name") == "This is required."
    assert "valid email" in field_error(body, "email")
    assert "Unknown time zone" in field_error(body, "time_zone")
    assert "whole number" in field_error(body, "handles[0].followers")
    assert field_error(body, "handles[1].handle") == "This is required."  # a row with only followers
    assert "http" in field_error(body, "handles[2].url")
    assert 'value="not-an-email"' in body and 'value="lots"' in body  # what was typed is kept
    assert await Member.count() == 0


async def test_create_with_a_taken_email_or_handle_is_a_conflict(as_user, clock, users):
    other = await add_member(
        clock, name="First Jane", email="jane@example.com", handles=[{"platform": "tiktok", "handle": "Jane.Tok"}]
    )
    bob = await as_user("bob")
    response = await post_form(bob, "/members", member_form())
    assert response.status_code == 409 and f"Already used by member {other}." == field_error(response.text, "email")
    response = await post_form(bob, "/members", member_form(email=""))
    assert response.status_code == 409 and f"tiktok:jane.tok is already used by member {other}" in response.text
    assert await Member.count() == 1


async def test_it_edits_a_member(as_user, clock, users):
    member_id = await add_member(
        clock,
        name="Jane",
        tier="member",
        topics=["travel"],
        handles=[{"platform": "x", "handle": "jane", "followers": 10}, {"platform": "reddit", "handle": "jane_r"}],
    )
    bob = await as_user("bob")
    form_page = (await bob.get(f"/members/{member_id}/edit")).text
    assert 'name="name" type="text" value="Jane"' in form_page
    assert 'name="handles[0].handle" type="text" value="jane_r"' in form_page  # ordered by platform
    assert 'name="handles[1].followers" type="text" value="10"' in form_page
    assert 'name="handles[2].handle"' in form_page  # a spare row
    response = await post_form(
        bob,
        f"/members/{member_id}/edit",
        {
            "name": "Jane Renamed",
            "email": "",
            "tier": "champion",
            "topics": "Food",
            "location": "",
            "language": "",
            "time_zone": "",
            "notes": "",
            "owner": "",
            "do_not_contact": "1",
            "handles[0].platform": "reddit",
            "handles[0].handle": "",
            "handles[0].followers": "",
            "handles[0].url": "",
            "handles[1].platform": "x",
            "handles[1].handle": "jane",
            "handles[1].followers": "25",
            "handles[1].url": "",
        },
    )
    assert response.status_code == 303 and response.headers["location"] == f"/members/{member_id}"
    member = await queries.get_member(member_id)
    assert (member["name"], member["tier"], member["topics"], member["do_not_contact"]) == (
        "Jane Renamed",
        "champion",
        ["food"],
        True,
    )
    assert [(h["platform"], h["followers"]) for h in member["handles"]] == [("x", 25)]
    body = (await bob.get(f"/members/{member_id}")).text
    assert 'class="dnc"' in body and "Do not contact." in body

    response = await post_form(
        bob,
        f"/members/{member_id}/edit",
        {"name": "", "tier": "member", "handles[0].platform": "x", "handles[0].handle": "jane"},
    )
    assert response.status_code == 422 and field_error(response.text, "name") == "This is required."
    assert (await queries.get_member(member_id))["name"] == "Jane Renamed"


# ---- the member page -------------------------------------------------------------------------------------


async def test_logging_an_interaction_updates_the_score_and_the_chart(as_user, clock, users):
    member_id = await add_member(clock, name="Jane", handles=[{"platform": "instagram", "handle": "jane"}])
    bob = await as_user("bob")
    before = (await bob.get(f"/members/{member_id}")).text
    assert text_of(before, "engagement-score") == "0.0"
    assert text_of(before, "engagement-counts") == "0 / 0 / 0 / 0"
    assert bars(before) == [] and "No interactions in the last 26 weeks." in before
    assert 'name="occurred_at" type="datetime-local" value="2026-03-02T09:30"' in before
    assert '<option value="instagram" selected>' in before  # the member's first handle's platform

    response = await post_form(
        bob,
        f"/members/{member_id}/interactions",
        {
            "platform": "instagram",
            "kind": "post",
            "sentiment": "positive",
            "occurred_at": "2026-03-01T18:00",
            "text": "Loved the new range!",
            "url": "https://instagram.com/p/1",
        },
    )
    assert response.status_code == 303
    after_response = await bob.get(f"/members/{member_id}")
    assert after_response.status_code == 200, after_response.text
    after = after_response.text
    assert "Interaction logged." in after
    assert float(text_of(after, "engagement-score")) > 2.9
    assert text_of(after, "engagement-counts") == "1 / 1 / 1 / 1"
    assert text_of(after, "engagement-state") == "new"
    assert bars(after) == [("2026-02-23", 1)]
    assert "Loved the new range!" in after

    clock.advance(days=30)  # the score halves every 30 days; the chart keeps the week
    later = (await (await as_user("bob")).get(f"/members/{member_id}")).text  # (a new session: 30 days later)
    assert 1.4 < float(text_of(later, "engagement-score")) < 1.6
    assert bars(later) == [("2026-02-23", 1)]


async def test_the_quick_log_form_reads_times_in_the_crm_time_zone(settings, engine, clock, users):
    app = create_app(replace(settings, timezone="Europe/Paris"), engine=engine, clock=clock, manage_pool=False)
    member_id = await add_member(clock, name="Jane")
    async with make_client(app) as bob:
        await login(bob, "bob@example.com")
        page = (await bob.get(f"/members/{member_id}")).text
        assert 'value="2026-03-02T10:30"' in page and "When (Europe/Paris)" in page
        response = await post_form(
            bob,
            f"/members/{member_id}/interactions",
            {"platform": "x", "kind": "reply", "occurred_at": "2026-03-02T10:00"},
        )
        assert response.status_code == 303
    rows, _ = await queries.timeline(member_id)
    assert rows[0]["occurred_at"].isoformat() == "2026-03-02T09:00:00+00:00"


async def test_the_quick_log_form_shows_errors_and_writes_nothing(as_user, clock, users):
    member_id = await add_member(clock, name="Jane")
    bob = await as_user("bob")
    response = await post_form(
        bob,
        f"/members/{member_id}/interactions",
        {"platform": "x", "kind": "gossip", "occurred_at": "", "url": "javascript:alert(1)", "text": "kept"},
    )
    assert response.status_code == 422
    assert field_error(response.text, "log-occurred_at") == "Say when it happened."
    assert "Choose one of" in field_error(response.text, "log-kind")
    assert "http" in field_error(response.text, "log-url")
    assert ">kept</textarea>" in response.text
    response = await post_form(
        bob, f"/members/{member_id}/interactions", {"platform": "x", "kind": "post", "occurred_at": "2026-03-05T10:00"}
    )
    assert response.status_code == 422 and "more than a day in the future" in response.text
    assert await Interaction.count() == 0


async def test_the_timeline_is_newest_first_with_older_pages_and_trolls_marked(as_user, clock, users):
    member_id = await add_member(clock, name="Jane")
    for n in range(30):
        await add_interaction(clock, member_id, days_ago=n, text=f"note {n:02d}", troll=(n == 1))
    bob = await as_user("bob")
    first = (await bob.get(f"/members/{member_id}")).text
    notes = re.findall(r'<p class="said">note (\d\d)</p>', first)
    assert notes == [f"{n:02d}" for n in range(25)]
    troll_item = re.search(r'<li class="event event-interaction troll"[^>]*>.*?</li>', first, re.S).group(0)
    assert "note 01" in troll_item and ">troll</span>" in troll_item
    older = link(first, "Older")
    second = (await bob.get(older)).text
    assert re.findall(r'<p class="said">note (\d\d)</p>', second) == ["25", "26", "27", "28", "29"]
    assert (await bob.get(f"/members/{member_id}?before=garbage")).status_code == 422


async def test_the_state_is_explained_in_plain_words(as_user, clock, users):
    quiet = await add_member(clock, name="Quiet")
    for days_ago in (100, 90, 80):
        await add_interaction(clock, quiet, days_ago=days_ago)
    body = (await (await as_user("dave")).get(f"/members/{quiet}")).text
    assert text_of(body, "engagement-state") == "going quiet"
    assert "no interaction for more than twice their usual gap (10 days)" in body


async def test_unknown_deleted_merged_and_erased_members_are_404(as_user, clock, users):
    alice = await as_user("alice")
    assert (await alice.get("/members/999999")).status_code == 404
    deleted = await add_member(clock, name="Gone")
    confirm = await alice.get(f"/members/{deleted}/delete")
    assert confirm.status_code == 200 and "Delete Gone?" in confirm.text
    response = await post_form(alice, f"/members/{deleted}/delete")
    assert response.status_code == 303 and response.headers["location"] == "/members"
    assert "Gone was deleted." in (await alice.get("/members")).text
    for path in ("", "/edit", "/delete"):
        assert (await alice.get(f"/members/{deleted}{path}")).status_code == 404
    assert (
        await post_form(
            alice,
            f"/members/{deleted}/interactions",
            {"platform": "x", "kind": "post", "occurred_at": "2026-03-01T10:00"},
        )
    ).status_code == 404


# ---- merge, undo, erase ------------------------------------------------------------------------------------


async def test_merge_and_undo_from_the_member_page(as_user, clock, users):
    keep = await add_member(clock, name="Jane Doe", handles=[{"platform": "x", "handle": "janedoe"}])
    dup = await add_member(clock, name="jane doe", handles=[{"platform": "instagram", "handle": "janedoe"}])
    await add_interaction(clock, dup, kind="post")
    bob = await as_user("bob")
    body = (await bob.get(f"/members/{keep}")).text
    assert "Likely duplicates" in body and f'href="/members/{dup}">jane doe</a>' in body
    assert "same handle @janedoe on instagram" in body and "same name" in body
    assert f'name="merge_id" value="{dup}"' in body

    response = await post_form(bob, f"/members/{keep}/merge", {"merge_id": str(dup)})
    assert response.status_code == 303 and response.headers["location"] == f"/members/{keep}"
    body = (await bob.get(f"/members/{keep}")).text
    assert "jane doe was merged into this member" in body
    assert text_of(body, "engagement-counts") == "1 / 1 / 1 / 1" and "@janedoe" in body
    assert "Past merges" in body and "jane doe merged 2026-03-02 09:30 by Bob" in body
    assert (await bob.get(f"/members/{dup}")).status_code == 404
    (row,) = await merge.merges_into(keep)

    response = await post_form(bob, f"/members/{keep}/merges/{row['id']}/undo")
    assert response.status_code == 303
    body = (await bob.get(f"/members/{keep}")).text
    assert "The merge was undone." in body and text_of(body, "engagement-counts") == "0 / 0 / 0 / 0"
    assert "undone 2026-03-02 09:30" in body
    assert (await bob.get(f"/members/{dup}")).status_code == 200
    assert (await post_form(bob, f"/members/{keep}/merges/{row['id']}/undo")).status_code == 409
    assert (await post_form(bob, f"/members/{dup}/merges/{row['id']}/undo")).status_code == 404  # not its merge


async def test_only_admins_erase_and_only_after_confirming(as_user, clock, users):
    member_id = await add_member(
        clock, name="Private Person", email="pp@example.com", handles=[{"platform": "x", "handle": "pp"}]
    )
    await add_interaction(clock, member_id, text="something personal")
    bob = await as_user("bob")
    assert "Erase (GDPR)" not in (await bob.get(f"/members/{member_id}")).text
    assert (await bob.get(f"/members/{member_id}/erase")).status_code == 403
    assert (await post_form(bob, f"/members/{member_id}/erase")).status_code == 403
    alice = await as_user("alice")
    assert link((await alice.get(f"/members/{member_id}")).text, "Erase (GDPR)") == f"/members/{member_id}/erase"
    confirm = await alice.get(f"/members/{member_id}/erase")
    assert confirm.status_code == 200 and "cannot be undone" in confirm.text
    response = await post_form(alice, f"/members/{member_id}/erase")
    assert response.status_code == 303
    assert (await alice.get(f"/members/{member_id}")).status_code == 404
    assert (await Interaction.select(Interaction.text).first().run())["text"] == ""
    assert "Private Person" not in (await alice.get("/members.csv")).text


# ---- who may write ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["carol", "dave"])
async def test_agents_and_viewers_read_but_cannot_write(as_user, clock, name):
    keep = await add_member(clock, name="Jane Doe", handles=[{"platform": "x", "handle": "janedoe"}])
    dup = await add_member(clock, name="Jane Doe")
    merge_id = await merge.merge_members(keep_id=keep, merge_id=dup, actor=SYSTEM, now=clock())
    other_dup = await add_member(clock, name="Jane Doe")
    reader = await as_user(name)
    listing = (await reader.get("/members")).text
    # Exports hold everyone's emails and notes: admins and managers only (tests/exports/test_pages.py).
    assert "Jane Doe" in listing and "Add member" not in listing and "Export CSV" not in listing
    body = (await reader.get(f"/members/{keep}")).text
    assert "Likely duplicates" in body and "Past merges" in body
    for write_control in (
        "Log interaction",
        f"/members/{keep}/edit",
        f"/members/{keep}/delete",
        "Merge into this member",
        ">Undo<",
        "Erase (GDPR)",
        'method="post" action="/members',
    ):
        assert write_control not in body, write_control
    for path in ("/members/new", f"/members/{keep}/edit", f"/members/{keep}/delete", f"/members/{keep}/erase"):
        assert (await reader.get(path)).status_code == 403, path
    posts = {
        "/members": member_form(),
        f"/members/{keep}/edit": {"name": "Hacked"},
        f"/members/{keep}/interactions": {"platform": "x", "kind": "post", "occurred_at": "2026-03-01T10:00"},
        f"/members/{keep}/merge": {"merge_id": str(other_dup)},
        f"/members/{keep}/merges/{merge_id}/undo": {},
        f"/members/{keep}/delete": {},
        f"/members/{keep}/erase": {},
    }
    for path, data in posts.items():
        response = await post_form(reader, path, data)
        assert response.status_code == 403, path
        assert "cannot" in response.text
    member = await queries.get_member(keep)
    assert member["name"] == "Jane Doe" and await Interaction.count() == 0 and await Member.count() == 3
    assert await queries.get_member(other_dup) is not None


async def test_a_write_without_the_csrf_token_is_refused(as_user, clock):
    member_id = await add_member(clock, name="Jane")
    bob = await as_user("bob")
    response = await bob.post(f"/members/{member_id}/delete", data={})
    assert response.status_code == 403
    assert await queries.get_member(member_id) is not None


async def test_member_text_is_escaped_everywhere(as_user, clock):
    member_id = await add_member(clock, name="<script>alert(1)</script>", topics=["<b>x</b>"])
    await add_interaction(clock, member_id, text="<img src=x onerror=alert(1)>")
    bob = await as_user("bob")
    for path in (f"/members/{member_id}", "/members", f"/members/{member_id}/edit"):
        body = (await bob.get(path)).text
        assert "<script>alert(1)</script>" not in body and "<img src=x" not in body and "<b>x</b>" not in body


# ---- dashboard ----------------------------------------------------------------------------------------------


async def test_the_dashboard_lists_advocates_and_champions_going_quiet(as_user, clock, users):
    quiet = {}
    for name, tier in (("Quiet Advocate", "advocate"), ("Quiet Champion", "champion"), ("Quiet Member", "member")):
        quiet[name] = await add_member(clock, name=name, tier=tier)
        for days_ago in (100, 90, 80):
            await add_interaction(clock, quiet[name], days_ago=days_ago)
    busy = await add_member(clock, name="Busy Advocate", tier="advocate")
    await add_interaction(clock, busy, days_ago=40)
    await add_interaction(clock, busy, days_ago=1)
    body = (await (await as_user("dave")).get("/")).text
    section = body[body.index('id="h-going-quiet"') : body.index("Your role")]
    assert f'<a href="/members/{quiet["Quiet Advocate"]}">Quiet Advocate</a>' in section
    assert f'<a href="/members/{quiet["Quiet Champion"]}">Quiet Champion</a>' in section
    assert "last 2025-12-12" in section
    assert "Quiet Member" not in section and "Busy Advocate" not in section


async def test_members_is_no_longer_a_placeholder(as_user):
    body = (await (await as_user("carol")).get("/members")).text
    assert "being built" not in body and 'aria-current="page">Members</a>' in body
