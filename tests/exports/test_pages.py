"""The members page's exports and the API's: the current filters kept, every page of the view streamed, the BOM
option, who may export (admins and managers) and the refusals, and the audit entry naming who exported what."""

from __future__ import annotations

import csv
import io
import json

import pytest

from crm.audit.tables import AuditEntry
from crm.exports import service
from crm.imports import formats
from tests.conftest import error
from tests.members.test_pages import add_member, field_error, link


def read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


async def audit_entries() -> list[dict]:
    rows = await AuditEntry.select().where(AuditEntry.action.like("export.%")).order_by(AuditEntry.id).run()
    for row in rows:
        if isinstance(row["after"], str):
            row["after"] = json.loads(row["after"])
    return rows


async def test_the_members_page_exports_the_whole_filtered_view(as_user, cast, clock, monkeypatch):
    monkeypatch.setattr(service, "PAGE", 2)  # several pages, to check the export walks all of them
    for n in range(3):
        await add_member(clock, name=f"Extra {n}", tier="advocate", email=f"extra{n}@example.com")
    bob = await as_user("bob")
    page = (await bob.get("/members?tier=advocate&sort=name")).text
    assert link(page, "Export CSV") == "/members.csv?tier=advocate&sort=name"
    assert link(page, "Export interactions") == "/interactions.csv?tier=advocate&sort=name"

    response = await bob.get("/members.csv?tier=advocate&sort=name")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="members-')
    assert not response.content.startswith(b"\xef\xbb\xbf")
    assert response.text.splitlines()[0] == ",".join(formats.MEMBER_COLUMNS)
    rows = read_csv(response.text)
    assert [r["name"] for r in rows] == ["Ann Advocate", "Dee Quiet", "Extra 0", "Extra 1", "Extra 2"]
    ann = rows[0]
    assert (ann["email"], ann["tier"], ann["topics"], ann["interactions_total"], ann["reach"]) == (
        "ann@example.com",
        "advocate",
        "travel",
        "2",
        "500",
    )
    assert json.loads(ann["handles"]) == [{"platform": "x", "handle": "ann_travels", "followers": 500, "url": None}]
    assert float(ann["score"]) > 0 and ann["last_interaction_at"].endswith("Z")
    assert ann["consent_private_briefing"] == "true" and ann["do_not_contact"] == "false"
    assert [r["name"] for r in read_csv((await bob.get("/members.csv?q=bea")).text)] == ["Bea Champion"]


async def test_the_interactions_export_holds_the_filtered_members_interactions(as_user, cast, clock, monkeypatch):
    monkeypatch.setattr(service, "PAGE", 2)
    bob = await as_user("bob")

    every = read_csv((await bob.get("/interactions.csv")).text)
    advocates = read_csv((await bob.get("/interactions.csv?tier=advocate")).text)

    assert len(every) == 6 and [int(r["id"]) for r in every] == sorted(int(r["id"]) for r in every)
    assert {r["member_name"] for r in every} == {"Ann Advocate", "Bea Champion", "Dee Quiet"}
    assert {r["member_name"] for r in advocates} == {"Ann Advocate", "Dee Quiet"} and len(advocates) == 5
    ann = next(r for r in advocates if r["member_name"] == "Ann Advocate")
    assert (ann["handle"], ann["platform"], ann["member_email"], ann["member_id"]) == (
        "ann_travels",
        "x",
        "ann@example.com",
        str(cast["ann"]),
    )
    assert ann["occurred_at"].endswith("Z") and ann["troll"] == "false"
    quiet = read_csv((await bob.get("/interactions.csv?state=going_quiet&platform=x")).text)
    assert [r["member_name"] for r in quiet] == ["Dee Quiet"] * 3


async def test_the_bom_option_starts_the_file_with_a_byte_order_mark(as_user, cast):
    bob = await as_user("bob")
    page = (await bob.get("/members?tier=advocate")).text
    assert link(page, "members") == "/members.csv?tier=advocate&bom=1"

    response = await bob.get("/members.csv?tier=advocate&bom=1")

    assert response.content.startswith(b"\xef\xbb\xbfid,name,")
    assert [r["name"] for r in read_csv(response.content.decode("utf-8-sig"))] == ["Ann Advocate", "Dee Quiet"]
    assert (await bob.get("/interactions.csv?bom=1")).content.startswith(b"\xef\xbb\xbfid,member_id,")


async def test_an_export_is_audited_with_who_and_which_filters(as_user, cast, users):
    bob = await as_user("bob")
    await bob.get("/members.csv?tier=advocate&sort=name")
    await bob.get("/interactions.csv?bom=1")

    first, second = await audit_entries()
    assert (first["action"], first["entity"], first["actor"]) == ("export.members", "member", users["bob"]["id"])
    assert first["after"] == {"filters": {"tier": "advocate", "sort": "name"}, "bom": False}
    assert (second["action"], second["entity"], second["after"]) == (
        "export.interactions",
        "interaction",
        {"filters": {}, "bom": True},
    )


@pytest.mark.parametrize("who", ["carol", "dave"])
async def test_agents_and_viewers_cannot_export_and_see_no_export_links(as_user, cast, who):
    client = await as_user(who)
    assert "Export CSV" not in (await client.get("/members")).text
    for url in ("/members.csv", "/interactions.csv?bom=1"):
        response = await client.get(url)
        assert response.status_code == 403 and "cannot export" in response.text
    assert await audit_entries() == []


async def test_signed_out_visitors_cannot_export(client, cast):
    for url in ("/members.csv", "/interactions.csv", "/api/v1/exports/members.csv"):
        assert (await client.get(url)).status_code in (302, 303, 401)


@pytest.mark.parametrize("url", ["/members.csv?tier=emperor", "/interactions.csv?state=asleep"])
async def test_bad_filters_show_the_members_page_with_the_message_and_export_nothing(as_user, cast, url):
    response = await (await as_user("bob")).get(url)
    assert response.status_code == 422 and response.headers["content-type"].startswith("text/html")
    assert field_error(response.text, "tier" if "tier" in url else "state").startswith("Choose one of")
    assert await audit_entries() == []


async def test_the_api_streams_the_same_csv_to_admins_and_managers_only(client, auth, cast, users):
    page = await client.get("/api/v1/exports/members.csv?tier=advocate&sort=name", headers=auth["alice"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/csv")
    assert [r["name"] for r in read_csv(page.text)] == ["Ann Advocate", "Dee Quiet"]
    bom = await client.get("/api/v1/exports/interactions.csv?bom=true&tier=champion", headers=auth["bob"])
    assert bom.content.startswith(b"\xef\xbb\xbf") and len(read_csv(bom.content.decode("utf-8-sig"))) == 1

    refused = await client.get("/api/v1/exports/members.csv", headers=auth["carol"])
    assert refused.status_code == 403 and "cannot export" in error(refused)["message"]
    bad = await client.get("/api/v1/exports/interactions.csv?platform=myspace", headers=auth["alice"])
    assert bad.status_code == 422 and "platform" in error(bad)["fields"]
    assert [e["actor"] for e in await audit_entries()] == [users["alice"]["id"], users["bob"]["id"]]
