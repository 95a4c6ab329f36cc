"""The stay-supportive list, its CSV export and the health card on the member page."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from crm.advocacy import service
from crm.app import create_app
from crm.members import merge
from crm.members import service as members
from tests.advocacy.conftest import ACTOR
from tests.conftest import START, login, make_client

DAY = timedelta(days=1)


async def _cast(scene) -> dict[str, int]:
    """Asked (3 asks, never thanked, contacted recently): one warning. Lonely (active, never contacted): one.
    Quiet (going quiet after a briefed incident, 3 asks): two. Fine (briefed and thanked lately): none.
    Dnc (active, never contacted, do not contact): none. Plus people who must not appear."""
    ids = {}
    ids["asked"] = await scene.active("Asked Anna", tier="champion")
    incident = await scene.incident("Old fail", detected_at=START - 90 * DAY)
    for days in (30, 20, 10):
        await scene.brief(ids["asked"], incident, START - days * DAY)
    ids["lonely"] = await scene.active("Lonely Lou")
    ids["quiet"] = await scene.member("Quiet Quinn")
    await scene.every(ids["quiet"], first=START - 150 * DAY, last=START - 60 * DAY)
    for days in (89, 80, 70):
        await scene.brief(ids["quiet"], incident, START - days * DAY)
    ids["fine"] = await scene.active("Fine Fay")
    await scene.brief(ids["fine"], incident, START - 5 * DAY)
    await scene.thank(ids["fine"], START - 4 * DAY)
    ids["dnc"] = await scene.active("Dnc Dee", do_not_contact=True)
    ids["member"] = await scene.active("Member Max", tier="member")
    ids["deleted"] = await scene.active("Deleted Del")
    await members.delete_member(member_id=ids["deleted"], actor=ACTOR, now=START)
    ids["merged"] = await scene.active("Merged Mo")
    await merge.merge_members(keep_id=ids["fine"], merge_id=ids["merged"], actor=ACTOR, now=START)
    return ids


def rows_of(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="advocate-(\d+)"', html)]


async def test_the_list_shows_advocates_and_champions_most_warnings_first(scene, as_user):
    ids = await _cast(scene)
    client = await as_user("dave")  # any role may read it
    r = await client.get("/thanks/supportive")
    assert r.status_code == 200
    # two warnings, then one each by name, then none by name
    assert rows_of(r.text) == [ids["quiet"], ids["asked"], ids["lonely"], ids["dnc"], ids["fine"]]
    assert 'href="/thanks" aria-current="page"' in r.text  # the nav's Thank-yous item
    row = r.text.split(f'id="advocate-{ids["dnc"]}"')[1].split("</tr>")[0]
    assert "do not contact" in row and "none" in row
    row = r.text.split(f'id="advocate-{ids["quiet"]}"')[1].split("</tr>")[0]
    assert (
        "asked without thanks" in row and "quiet after incident" in row and "Briefed 3 times and never thanked" in row
    )
    assert "5 people, 3 with warnings." in r.text


@pytest.mark.parametrize(
    "sort, order",
    [
        ("name", ["asked", "dnc", "fine", "lonely", "quiet"]),
        ("asks", ["asked", "quiet", "fine", "dnc", "lonely"]),  # most asks first; fewer thanks first on a tie
        ("state", ["quiet", "asked", "dnc", "fine", "lonely"]),  # going quiet first
        ("last_contacted", ["dnc", "lonely", "quiet", "asked", "fine"]),  # never first, then longest ago
    ],
)
async def test_every_offered_sort(scene, as_user, sort, order):
    ids = await _cast(scene)
    client = await as_user("carol")
    r = await client.get("/thanks/supportive", params={"sort": sort})
    assert r.status_code == 200
    assert rows_of(r.text) == [ids[k] for k in order]
    assert f'<option value="{sort}" selected>' in r.text


async def test_only_with_warnings(scene, as_user):
    ids = await _cast(scene)
    client = await as_user("bob")
    r = await client.get("/thanks/supportive", params={"warnings": "1", "sort": "name"})
    assert rows_of(r.text) == [ids["asked"], ids["lonely"], ids["quiet"]]
    assert 'name="warnings" value="1" checked' in r.text
    assert 'href="/thanks/supportive.csv?sort=name&amp;warnings=1"' in r.text


async def test_a_sort_we_do_not_offer_is_refused_next_to_the_field(scene, as_user):
    await _cast(scene)
    client = await as_user("bob")
    for url in ("/thanks/supportive", "/thanks/supportive.csv"):
        r = await client.get(url, params={"sort": "id; DROP TABLE member"})
        assert r.status_code == 422, url
        assert r.headers["content-type"].startswith("text/html")
        assert 'id="e-sort"' in r.text and "Choose one of: warnings, last_contacted, name, asks, state." in r.text
        assert rows_of(r.text) == []


async def test_the_list_needs_a_signed_in_user(client, users):
    for url in ("/thanks/supportive", "/thanks/supportive.csv"):
        r = await client.get(url)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


async def test_the_list_agrees_with_each_members_own_health(scene):
    ids = await _cast(scene)
    listed = {f.member_id: f for f in await service.supportive(scene.now())}
    assert set(listed) == {ids[k] for k in ("asked", "lonely", "quiet", "fine", "dnc")}
    for member_id, f in listed.items():
        own = await scene.health(member_id)
        assert (f.state, f.last_briefed_at, f.last_thanked_at, f.asks_12m, f.thanks_12m, f.warnings) == (
            own.state,
            own.last_briefed_at,
            own.last_thanked_at,
            own.asks_12m,
            own.thanks_12m,
            own.warnings,
        )


async def test_csv_exports_the_current_view(scene, as_user):
    ids = await _cast(scene)
    client = await as_user("dave")
    r = await client.get("/thanks/supportive.csv", params={"warnings": "1", "sort": "name"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == 'attachment; filename="stay-supportive-20260302-0930.csv"'
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == [
        "id",
        "name",
        "tier",
        "state",
        "do_not_contact",
        "last_briefed_at",
        "last_thanked_at",
        "asks_12m",
        "thanks_12m",
        "warnings",
        "reasons",
    ]
    assert [int(row[0]) for row in rows[1:]] == [ids["asked"], ids["lonely"], ids["quiet"]]
    asked = rows[1]
    assert asked[1:9] == ["Asked Anna", "champion", "active", "no", "2026-02-20T09:30:00+00:00", "", "3", "0"]
    assert asked[9] == "asked_without_thanks" and asked[10].startswith("Briefed 3 times and never thanked.")
    assert rows[3][9] == "asked_without_thanks;quiet_after_incident" and " | " in rows[3][10]


async def test_csv_cells_that_would_run_as_formulas_are_plain_text(scene, as_user):
    names = ['=HYPERLINK("http://evil")', "+1 Plus", "-2 Minus", "@at Sign", "Plain =ok"]
    for name in names:
        await scene.active(name)
    client = await as_user("bob")
    rows = list(csv.reader(io.StringIO((await client.get("/thanks/supportive.csv?sort=name")).text)))
    assert sorted(row[1] for row in rows[1:]) == sorted(
        ['\'=HYPERLINK("http://evil")', "'+1 Plus", "'-2 Minus", "'@at Sign", "Plain =ok"]
    )


async def test_the_page_escapes_names(scene, as_user):
    await scene.active("<script>alert(1)</script>")
    client = await as_user("bob")
    r = await client.get("/thanks/supportive")
    assert "<script>alert(1)</script>" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text


async def test_the_member_page_shows_the_health_card_for_advocates_only(scene, as_user):
    ids = await _cast(scene)
    client = await as_user("dave")
    r = await client.get(f"/members/{ids['quiet']}")
    assert r.status_code == 200
    card = r.text.split('id="health"')[1].split("</section>")[0]
    assert "asked without thanks" in card and "quiet after incident" in card
    assert "\u201cOld fail\u201d" in card and "Around incidents" in card
    assert r.text.index('id="health"') < r.text.index('id="timeline"')  # right before the timeline
    r = await client.get(f"/members/{ids['member']}")
    assert r.status_code == 200 and 'id="health"' not in r.text


async def test_managers_get_a_thank_you_link_except_for_do_not_contact(scene, as_user):
    ids = await _cast(scene)
    manager = await (await as_user("bob")).get("/thanks/supportive")
    for key in ("asked", "lonely", "quiet", "fine"):
        assert f'href="/thanks/new?member_id={ids[key]}&amp;next=/thanks/supportive"' in manager.text
    assert f"/thanks/new?member_id={ids['dnc']}" not in manager.text
    viewer = await (await as_user("dave")).get("/thanks/supportive")
    assert "/thanks/new?" not in viewer.text


async def test_reasons_name_their_dates_in_the_crm_time_zone_on_every_face(scene, settings, engine, clock, users):
    """Thanked at 23:30 UTC on 25 Jan: in Paris that was already 26 Jan, as every page in Paris shows it."""
    m = await scene.active("Ada")
    incident = await scene.incident(detected_at=START - 50 * DAY)
    await scene.thank(m, datetime(2026, 1, 25, 23, 30, tzinfo=UTC))
    for days in (30, 20, 10):
        await scene.brief(m, incident, START - days * DAY)
    app = create_app(replace(settings, timezone="Europe/Paris"), engine=engine, clock=clock, manage_pool=False)
    async with make_client(app) as bob:
        await login(bob, "bob@example.com")
        card = (await bob.get(f"/members/{m}")).text.split('id="health"')[1].split("</section>")[0]
        listed = (await bob.get("/thanks/supportive")).text.split(f'id="advocate-{m}"')[1].split("</tr>")[0]
        reasons = [w["message"] for w in (await bob.get(f"/api/v1/members/{m}/health")).json()["warnings"]]
        exported = (await bob.get("/thanks/supportive.csv")).text
    for shown in (card, listed, " ".join(reasons), exported):
        assert "last thank-you on 26 Jan 2026." in shown and "25 Jan 2026" not in shown
