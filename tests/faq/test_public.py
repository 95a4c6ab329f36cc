"""The public FAQ: reachable without signing in, only incidents a manager marked public, only their published
entries, no personal data and no signed-in navigation; the manager's switch with its role checks and audit."""

from __future__ import annotations

from crm.audit.tables import AuditEntry
from crm.faq import service
from crm.incidents.tables import Incident
from tests.conftest import make_client, post_form


async def is_public(incident_id: int) -> bool:
    return (await Incident.select(Incident.faq_public).where(Incident.id == incident_id).first().run())["faq_public"]


async def test_managers_switch_the_public_faq_on_and_off_with_an_audit_entry(faq, as_user, users):
    incident = await faq.incident()
    bob = await as_user("bob")
    response = await post_form(bob, f"/incidents/{incident}/faq/public", {"public": "1"})
    assert response.status_code == 303 and response.headers["location"] == f"/incidents/{incident}#faq"
    assert await is_public(incident) is True
    page = (await bob.get(f"/incidents/{incident}")).text
    assert "On the public FAQ page:" in page and "Remove from the public FAQ" in page
    assert (await post_form(bob, f"/incidents/{incident}/faq/public", {"public": "1"})).status_code == 303
    await post_form(bob, f"/incidents/{incident}/faq/public", {"public": "0"})
    assert await is_public(incident) is False
    audit = (
        await AuditEntry.select()
        .where(AuditEntry.action == "incident.faq_public")
        .order_by(AuditEntry.id)
        .output(load_json=True)
        .run()
    )
    assert len(audit) == 2  # setting it to what it already was changes (and records) nothing
    assert audit[0]["actor"] == users["bob"]["id"] and audit[0]["record_id"] == str(incident)
    assert [a["before"] for a in audit] == [{"faq_public": False}, {"faq_public": True}]
    assert [a["after"] for a in audit] == [{"faq_public": True}, {"faq_public": False}]


async def test_only_managers_and_admins_may_switch_it(faq, as_user):
    incident = await faq.incident()
    for name in ("carol", "dave"):
        client = await as_user(name)
        assert (await post_form(client, f"/incidents/{incident}/faq/public", {"public": "1"})).status_code == 403
    assert await is_public(incident) is False
    alice = await as_user("alice")
    assert (await post_form(alice, "/incidents/999/faq/public", {"public": "1"})).status_code == 404
    assert (await post_form(alice, f"/incidents/{incident}/faq/public", {"public": "1"})).status_code == 303
    assert await AuditEntry.count().where(AuditEntry.action == "incident.faq_public").run() == 1


async def test_the_public_page_needs_no_sign_in_and_shows_only_published_answers_of_public_incidents(faq, app, clock):
    shown = await faq.incident("Holiday sale prices", topics=["sale"])
    await faq.resolve(shown)
    hidden = await faq.incident("Internal mix-up")
    await faq.entry(shown, "Will you honour the prices?", "Yes, **every** booking.")
    await faq.entry(shown, "Secret draft?", "Not approved.", status="draft", by="carol")
    retired = await faq.entry(shown, "Retired question?", "Old answer.")
    await faq.retire(retired["id"])
    await faq.entry(hidden, "Hidden incident question?")
    await service.set_public(incident_id=shown, public=True, actor=faq.actor(), now=clock())
    clock.advance(days=3)
    async with make_client(app) as anonymous:
        for path in ("/public/faq", f"/public/faq/{shown}"):
            response = await anonymous.get(path)
            assert response.status_code == 200, path
            html = response.text
            assert "Holiday sale prices" in html and "Will you honour the prices?" in html
            assert "<strong>every</strong>" in html
            assert "we have had no similar incident in 3 days." in html
            for secret in (
                "Secret draft?",
                "Retired question?",
                "Old answer.",
                "Internal mix-up",
                "Hidden incident question?",
                "Bob",
                "Carol",
                "bob@example.com",
            ):
                assert secret not in html, (path, secret)
            assert "Sign out" not in html and 'aria-label="Main"' not in html and "/members" not in html
        assert (await anonymous.get(f"/public/faq/{hidden}")).status_code == 404
        assert (await anonymous.get("/public/faq/999")).status_code == 404
        assert (await anonymous.get("/faq")).status_code == 303  # the internal FAQ still needs a sign-in


async def test_a_signed_in_visitor_still_sees_the_public_page_without_the_app_navigation(faq, as_user, clock):
    incident = await faq.incident("Public one")
    await faq.entry(incident)
    await service.set_public(incident_id=incident, public=True, actor=faq.actor(), now=clock())
    bob = await as_user("bob")
    html = (await bob.get(f"/public/faq/{incident}")).text
    assert "Did you delete negative comments?" in html and "We are still working on this." in html
    assert "Sign out" not in html and "Bob" not in html


async def test_taking_an_incident_off_the_public_page_hides_it_at_once(faq, app, clock):
    incident = await faq.incident("Was public")
    await faq.entry(incident, "Visible while public?")
    await service.set_public(incident_id=incident, public=True, actor=faq.actor(), now=clock())
    async with make_client(app) as anonymous:
        assert "Visible while public?" in (await anonymous.get("/public/faq")).text
        await service.set_public(incident_id=incident, public=False, actor=faq.actor(), now=clock())
        assert "Visible while public?" not in (await anonymous.get("/public/faq")).text
        assert (await anonymous.get(f"/public/faq/{incident}")).status_code == 404
