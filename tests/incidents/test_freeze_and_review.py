"""The promotion freeze (GET /api/v1/status, the banner, lifting it as a recorded action) and the
post-incident review with its Markdown export. On both engines."""

from __future__ import annotations

import re
from datetime import date, timedelta

from markdown_it import MarkdownIt

from crm.audit.service import Actor
from crm.audit.tables import AuditEntry
from crm.incidents import queries, review, service
from crm.incidents.tables import Incident
from tests.conftest import START
from tests.incidents.test_api import (
    audit_actions,
    error,
    move_ok,
    open_incident,
)

BANNER = "Promotion is paused"


async def status(api) -> dict:
    response = await api.get("/api/v1/status")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"promotion_freeze", "incidents"}
    return body


def actor(users, name: str) -> Actor:
    return Actor(user_id=users[name]["id"], label=f"{name}@example.com")


# ---- the promotion freeze ------------------------------------------------------------------------


async def test_the_freeze_is_on_while_an_incident_is_acknowledged_or_responding(api):
    critical = await open_incident(api, title="Tone-deaf ad", severity="critical")
    low = await open_incident(api, title="Typo in a post", severity="low")
    assert await status(api) == {"promotion_freeze": False, "incidents": []}  # detected does not freeze yet
    assert BANNER not in (await api.get("/")).text

    await move_ok(api, low["id"], "acknowledged", "responding")  # a low incident without freeze never freezes
    assert await status(api) == {"promotion_freeze": False, "incidents": []}

    await move_ok(api, critical["id"], "acknowledged")
    assert await status(api) == {
        "promotion_freeze": True,
        "incidents": [
            {"id": critical["id"], "title": "Tone-deaf ad", "severity": "critical", "status": "acknowledged"}
        ],
    }
    page = (await api.get("/")).text
    assert BANNER in page and "Tone-deaf ad" in page

    await move_ok(api, critical["id"], "responding")
    assert (await status(api))["incidents"][0]["status"] == "responding"

    await move_ok(api, critical["id"], "resolved")
    assert await status(api) == {"promotion_freeze": False, "incidents": []}
    assert BANNER not in (await api.get("/")).text
    await move_ok(api, low["id"], "resolved")
    assert await status(api) == {"promotion_freeze": False, "incidents": []}


async def test_a_low_incident_freezes_when_asked_and_every_freezing_incident_is_listed(api):
    asked = await open_incident(api, title="Low but touchy", severity="low", freeze_promotion=True)
    high = await open_incident(api, title="Bad reply", severity="high")
    await move_ok(api, asked["id"], "acknowledged")
    await move_ok(api, high["id"], "acknowledged", "responding")
    body = await status(api)
    assert body["promotion_freeze"] is True
    assert {i["id"] for i in body["incidents"]} == {asked["id"], high["id"]}


async def test_lifting_the_freeze_is_recorded_and_happens_once(api, auth, users, clock):
    first = await open_incident(api, title="First", severity="critical")
    second = await open_incident(api, title="Second", severity="high")
    await move_ok(api, first["id"], "acknowledged")
    await move_ok(api, second["id"], "acknowledged")
    clock.advance(minutes=45)

    response = await api.post(f"/api/v1/incidents/{first['id']}/freeze/lift", headers=auth["alice"])
    assert response.status_code == 200, response.text
    assert response.json()["freeze_promotion"] is False and response.json()["status"] == "acknowledged"
    row = await Incident.select().where(Incident.id == first["id"]).first().run()
    assert row["freeze_lifted_at"] == START + timedelta(minutes=45)
    assert row["freeze_lifted_by"] == users["alice"]["id"]
    entry = await AuditEntry.select().where(AuditEntry.action == "incident.freeze_lift").first().run()
    assert entry["actor"] == users["alice"]["id"] and entry["record_id"] == str(first["id"])
    assert entry["at"] == START + timedelta(minutes=45)
    # The other incident still freezes promotion.
    assert [i["id"] for i in (await status(api))["incidents"]] == [second["id"]]

    before = (await Incident.select().where(Incident.id == first["id"]).first().run(), await AuditEntry.count().run())
    clock.advance(minutes=5)
    response = await api.post(f"/api/v1/incidents/{first['id']}/freeze/lift")
    assert response.status_code == 409 and error(response)["code"] == "conflict"
    assert "not frozen" in error(response)["message"]
    assert (
        await Incident.select().where(Incident.id == first["id"]).first().run(),
        await AuditEntry.count().run(),
    ) == before

    assert (await api.post(f"/api/v1/incidents/{second['id']}/freeze/lift")).status_code == 200
    assert await status(api) == {"promotion_freeze": False, "incidents": []}
    assert (await audit_actions()).count("incident.freeze_lift") == 2

    never = await open_incident(api, severity="low")
    assert (await api.post(f"/api/v1/incidents/{never['id']}/freeze/lift")).status_code == 409
    assert (await api.post("/api/v1/incidents/999999/freeze/lift")).status_code == 404


# ---- the post-incident review --------------------------------------------------------------------

REVIEW = {
    "review_what_happened": "An ad joked about a flood.",
    "review_what_changed": "Two reviewers per ad.",
    "review_lessons": "Check the news before posting.",
}


async def test_the_review_opens_once_the_incident_is_resolved(api, clock):
    iid = (await open_incident(api))["id"]
    for step in (None, "acknowledged", "responding"):
        if step:
            await move_ok(api, iid, step)
        before = (await Incident.select().where(Incident.id == iid).first().run(), await AuditEntry.count().run())
        for field, text in REVIEW.items():
            response = await api.patch(f"/api/v1/incidents/{iid}", json={field: text})
            assert response.status_code == 409, (step, field, response.text)
            assert "resolved" in error(response)["message"]
        response = await api.patch(f"/api/v1/incidents/{iid}", json={"title": "Renamed", **REVIEW})
        assert response.status_code == 409
        assert (
            await Incident.select().where(Incident.id == iid).first().run(),
            await AuditEntry.count().run(),
        ) == before
    # Other fields may change while it is open.
    response = await api.patch(f"/api/v1/incidents/{iid}", json={"summary": "Still unfolding."})
    assert response.status_code == 200 and response.json()["summary"] == "Still unfolding."

    await move_ok(api, iid, "resolved")
    clock.advance(hours=1)
    response = await api.patch(f"/api/v1/incidents/{iid}", json=REVIEW)
    assert response.status_code == 200, response.text
    row = await Incident.select().where(Incident.id == iid).first().run()
    assert {k: row[k] for k in REVIEW} == REVIEW and row["updated_at"] == START + timedelta(hours=1)
    assert (await audit_actions(iid))[-1] == "incident.update"
    await move_ok(api, iid, "reviewed")
    response = await api.patch(f"/api/v1/incidents/{iid}", json={"review_lessons": "And listen to the team."})
    assert response.status_code == 200
    assert (await Incident.select(Incident.review_lessons).where(Incident.id == iid).first().run())[
        "review_lessons"
    ] == "And listen to the team."


async def walk_to_review(
    users,
    clock,
    *,
    title: str = "Tone-deaf ad",
    signed_by: str = "Jane Doe, CEO",
    apology: str = "We got this wrong.\nWe are sorry.",
    action: str = "Add a second review",
    review_text: dict | None = None,
) -> dict:
    """A critical incident found 10 minutes late and handled over four and a half hours (times in UTC)."""
    bob, alice = actor(users, "bob"), actor(users, "alice")
    incident = await service.create_incident(
        values={
            "title": title,
            "severity": "critical",
            "summary": "The summary.",
            "detected_at": START - timedelta(minutes=10),
        },
        actor=bob,
        now=clock(),
    )  # detected 09:20
    iid = incident["id"]
    clock.advance(minutes=10)
    await service.transition(incident_id=iid, to="acknowledged", actor=bob, now=clock())  # 09:40
    clock.advance(minutes=5)
    await service.transition(incident_id=iid, to="responding", actor=bob, now=clock())  # 09:45
    clock.advance(minutes=5)
    ack = await service.add_statement(
        incident_id=iid, values={"kind": "acknowledgement", "text": "We are looking into it."}, actor=bob, now=clock()
    )
    await service.publish_statement(statement_id=ack["id"], actor=bob, now=clock())  # 09:50
    await service.add_statement(
        incident_id=iid, values={"kind": "update", "text": "Never published."}, actor=bob, now=clock()
    )
    clock.advance(minutes=70)
    sorry = await service.add_statement(
        incident_id=iid, values={"kind": "apology", "text": apology, "signed_by": signed_by}, actor=alice, now=clock()
    )
    await service.publish_statement(statement_id=sorry["id"], actor=alice, now=clock())  # 11:00
    done = await service.add_action(
        incident_id=iid, values={"what": action, "due_on": date(2026, 3, 31)}, actor=bob, now=clock()
    )
    await service.add_action(incident_id=iid, values={"what": "Train the social team"}, actor=bob, now=clock())
    clock.advance(minutes=60)
    await service.set_action_status(action_id=done["id"], status="done", actor=bob, now=clock())  # 12:00
    clock.advance(minutes=30)
    await service.transition(incident_id=iid, to="resolved", actor=bob, now=clock())  # 12:30
    await service.update_incident(incident_id=iid, values=review_text or REVIEW, actor=bob, now=clock())
    clock.advance(minutes=30)
    await service.transition(incident_id=iid, to="reviewed", actor=alice, now=clock())  # 13:00
    return await queries.snapshot(iid)


async def test_the_markdown_export_tells_the_whole_story(users, clock):
    incident = await walk_to_review(users, clock)
    text = await review.markdown(incident, clock(), "Europe/Berlin")  # UTC+1 in March
    lines = text.splitlines()
    assert lines[0] == "# Tone-deaf ad: what happened and what we changed"
    assert "*Severity critical. Detected 02 Mar 2026 10:20 (Europe/Berlin).*" in lines

    def section(title: str) -> list[str]:
        start = lines.index(f"## {title}") + 2
        end = lines.index("", start) if "" in lines[start:] else len(lines)
        return lines[start:end]

    assert section("What happened") == ["An ad joked about a flood."]
    assert section("Timeline") == [
        "- 02 Mar 2026 10:20: Detected",
        "- 02 Mar 2026 10:40: Acknowledged",
        "- 02 Mar 2026 10:45: Responding",
        "- 02 Mar 2026 10:50: Published the acknowledgement",
        "- 02 Mar 2026 12:00: Published the apology",
        "- 02 Mar 2026 13:00: Done: Add a second review",
        "- 02 Mar 2026 13:30: Resolved",
        "- 02 Mar 2026 14:00: Reviewed",
    ]
    assert section("Response times") == [
        "- Acknowledged after 20 min (target 15 min, missed)",
        "- Resolved after 3.2 h",
    ]
    assert section("Our apology") == ["> We got this wrong.", "> We are sorry.", "> — Jane Doe, CEO"]
    assert section("What we changed") == ["Two reviewers per ad."]
    assert section("Corrective actions") == [
        "- [x] Add a second review (due 2026-03-31)",
        "- [ ] Train the social team",
    ]
    assert section("Lessons") == ["Check the news before posting."]
    assert "Never published" not in text  # drafts are not part of the story


async def test_the_markdown_export_keeps_user_text_inert(users, clock):
    hostile = "<script>alert(1)</script> [link](javascript:alert(1)) [site](https://evil.example) **bold**"
    incident = await walk_to_review(
        users,
        clock,
        title="<script>alert('t')</script> [click](javascript:alert(1))",
        signed_by="<b onmouseover=alert(1)>Jane</b>",
        apology="# Sorry\n<iframe src=https://evil.example>",
        action="[fix](https://evil.example) `code` <img src=x onerror=alert(1)>",
        review_text={
            "review_what_happened": hostile,
            "review_what_changed": "![pixel](https://evil.example/p.gif)",
            "review_lessons": "> quoted\n# heading\n<a href='https://evil.example'>x</a>\n"
            "- not a list\n1. nor this\n2) nor this\n    not code\n---\nnot a heading\n===\n"
            "~~~\nnot fenced",
        },
    )
    text = await review.markdown(incident, clock(), "UTC")
    html = MarkdownIt("commonmark", {"html": True}).render(text)  # even with raw HTML allowed
    # Only the export's own structure is markup: headings, paragraphs, the list items, the emphasised
    # severity line and one blockquote (the apology); nothing from the user text became a tag.
    assert set(re.findall(r"<([a-z0-9]+)", html)) <= {"h1", "h2", "p", "ul", "li", "em", "blockquote"}, html
    assert html.count("<h1>") == 1 and html.count("<blockquote>") == 1 and html.count("<em>") == 1
    assert html.count("<ul>") == 3  # the timeline, the response times, the corrective actions
    assert html.count("<h2>") == len([line for line in text.splitlines() if line.startswith("## ")])
    # The words are still there, shown as text.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "[link](javascript:alert(1))" in html
    assert "&lt;b onmouseover=alert(1)&gt;Jane&lt;/b&gt;" in html
