"""The FAQ pages: the search page (agents' main screen), the entry page with its history and draft rule, the
propose/write/edit forms with their 422s, publish/retire buttons, and the incident page's FAQ section."""

from __future__ import annotations

import re

import pytest

from crm.accounts import service as accounts
from crm.audit.service import Actor
from crm.faq.tables import FaqEntry, FaqRevision
from tests.conftest import PASSWORD, START, post_form


def results(html: str) -> list[str]:
    """The questions listed as search results, in order."""
    return re.findall(r'<h3 class="faq-question"><a href="/faq/\d+">([^<]*)</a>', html)


# ---- the search page --------------------------------------------------------------------------------


async def test_agents_find_the_stemmed_answer_with_its_incident_snippet_and_copy_text(faq, as_user):
    incident = await faq.incident()
    await faq.entry(incident, answer="No. We **never** deleted criticism.", tags=["moderation"])
    await faq.entry(incident, "Is the sale still on?", "Yes, until Friday.")
    carol = await as_user("carol")
    response = await carol.get("/faq", params={"q": "deleted comments"})
    assert response.status_code == 200
    assert results(response.text) == ["Did you delete negative comments?"]
    assert "Deleted comments" in response.text and START.strftime("%d %b %Y") in response.text
    assert "<mark>deleted</mark>" in response.text  # the snippet, highlighted
    assert "<strong>never</strong>" in response.text  # the answer, rendered
    assert '<textarea id="copy-' in response.text and "No. We **never** deleted criticism.</textarea>" in response.text
    assert 'data-faq-copy="copy-' in response.text and '<script src="/static/faq.js" defer>' in response.text
    assert 'data-faq-suggest="faq-suggestions"' in response.text


async def test_it_ranks_question_matches_first_on_the_page(faq, as_user):
    incident = await faq.incident()
    await faq.entry(incident, "What happened?", "A refund is available to everyone.")
    await faq.entry(incident, "How do I get a refund?", "Ask support.")
    carol = await as_user("carol")
    assert results((await carol.get("/faq", params={"q": "refu"})).text) == ["How do I get a refund?", "What happened?"]


async def test_drafts_only_for_managers_who_ask_and_retired_entries_never(faq, as_user):
    incident = await faq.incident()
    await faq.entry(incident, "Published comments answer?")
    await faq.entry(incident, "Draft comments answer?", status="draft", by="carol")
    retired = await faq.entry(incident, "Retired comments answer?")
    await faq.retire(retired["id"])
    for name in ("carol", "dave"):
        client = await as_user(name)
        for params in (
            {"q": "comments"},
            {"q": "comments", "drafts": "1"},
            {"incident_id": incident, "drafts": "1"},
            {},
        ):
            assert results((await client.get("/faq", params=params)).text) == ["Published comments answer?"], name
    bob = await as_user("bob")
    assert results((await bob.get("/faq", params={"q": "comments"})).text) == ["Published comments answer?"]
    with_drafts = await bob.get("/faq", params={"q": "comments", "drafts": "1"})
    assert sorted(results(with_drafts.text)) == ["Draft comments answer?", "Published comments answer?"]
    assert '<span class="status status-draft">draft</span>' in with_drafts.text
    assert "Include drafts" in with_drafts.text


async def test_it_filters_by_incident_and_tag_and_browses_them_newest_first(faq, as_user, clock):
    first = await faq.incident()
    other = await faq.incident("Outage")
    await faq.entry(first, "Old refund question?", tags=["refunds"])
    clock.advance(hours=1)
    await faq.entry(first, "New refund question?", tags=["refunds", "money"])
    await faq.entry(other, "Outage refund question?", tags=["refunds"])
    carol = await as_user("carol")
    by_incident = await carol.get("/faq", params={"incident_id": first})
    assert results(by_incident.text) == ["New refund question?", "Old refund question?"]
    by_tag = await carol.get("/faq", params={"tag": "Money"})
    assert results(by_tag.text) == ["New refund question?"]
    both = await carol.get("/faq", params={"q": "refund", "tag": "refunds", "incident_id": other})
    assert results(both.text) == ["Outage refund question?"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"incident_id": "abc"}, "incident_id"),
        ({"q": "x" * 501}, "q"),
        ({"tag": "t" * 41}, "tag"),
    ],
)
async def test_it_refuses_bad_filters_next_to_the_field(faq, as_user, params, field):
    await faq.entry(await faq.incident())
    carol = await as_user("carol")
    response = await carol.get("/faq", params=params)
    assert response.status_code == 422
    assert f'id="e-{field}" class="error"' in response.text
    assert results(response.text) == []


async def test_the_search_page_needs_a_signed_in_user(client):
    response = await client.get("/faq")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


# ---- the entry page --------------------------------------------------------------------------------


async def test_the_entry_page_shows_answer_facts_and_history(faq, as_user, clock):
    incident = await faq.incident()
    entry = await faq.entry(incident, answer="Old answer.", tags=["moderation"], status="draft")
    clock.advance(hours=2)
    bob = await as_user("bob")
    edited = await post_form(
        bob,
        f"/faq/{entry['id']}/edit",
        {
            "question": entry["question"],
            "answer": "New *answer*.",
            "tags": "moderation, spam",
            "status": "published",
            "talking_points_version": "",
        },
    )
    assert edited.status_code == 303 and edited.headers["location"] == f"/faq/{entry['id']}"
    page = (await bob.get(f"/faq/{entry['id']}")).text
    assert "<em>answer</em>" in page and 'href="/incidents/' in page
    assert "Bob" in page  # author and reviewer
    history = page[page.index("Change history") :]
    assert history.index("changed it") < history.index("created it")  # newest first
    assert "Old answer." in history and "New *answer*." in history and "moderation, spam" in history
    assert "draft" in history and "published" in history
    assert "Edit" in page and "Retire" in page and "Mark reviewed" in page


async def test_drafts_are_visible_to_their_author_and_managers_only(faq, as_user, users, clock):
    await accounts.create_user(
        email="erin@example.com", name="Erin", role="agent", password=PASSWORD, actor=Actor.system("t"), now=clock()
    )
    draft = await faq.entry(await faq.incident(), status="draft", by="carol")
    for name, status in (("carol", 200), ("bob", 200), ("alice", 200), ("erin", 403), ("dave", 403)):
        client = await as_user(name)
        assert (await client.get(f"/faq/{draft['id']}")).status_code == status, name
    carol = await as_user("carol")
    assert "Edit" not in (await carol.get(f"/faq/{draft['id']}")).text.split("About this entry")[0].split("</h1>")[1]
    assert (await carol.get("/faq/999")).status_code == 404


async def test_publish_and_retire_buttons_for_managers_only(faq, as_user):
    entry = await faq.entry(await faq.incident(), status="draft")
    carol = await as_user("carol")
    assert (await post_form(carol, f"/faq/{entry['id']}/status", {"status": "published"})).status_code == 403
    bob = await as_user("bob")
    published = await post_form(bob, f"/faq/{entry['id']}/status", {"status": "published"})
    assert published.status_code == 303
    assert (await FaqEntry.select(FaqEntry.status).where(FaqEntry.id == entry["id"]).first().run())[
        "status"
    ] == "published"
    retired = await post_form(bob, f"/faq/{entry['id']}/status", {"status": "retired"})
    assert retired.status_code == 303
    page = (await bob.get(f"/faq/{entry['id']}")).text
    assert "Retired: this answer is no longer used." in page
    bad = await post_form(bob, f"/faq/{entry['id']}/status", {"status": "gone"})
    assert bad.status_code == 422 and "Choose one of" in bad.text
    assert await FaqRevision.count().where(FaqRevision.entry == entry["id"]).run() == 3
    assert (await post_form(bob, "/faq/999/status", {"status": "retired"})).status_code == 404


# ---- the forms ---------------------------------------------------------------------------------------


async def test_agents_propose_drafts_even_when_they_send_a_status(faq, as_user, users):
    incident = await faq.incident()
    carol = await as_user("carol")
    form = await carol.get("/faq/new", params={"incident_id": incident})
    assert form.status_code == 200 and 'name="status"' not in form.text
    assert f'<option value="{incident}" selected>' in form.text and "Markdown" in form.text
    response = await post_form(
        carol,
        "/faq",
        {"incident_id": str(incident), "question": "Why?", "answer": "Because.", "tags": "a, b", "status": "published"},
    )
    assert response.status_code == 303
    row = await FaqEntry.select().first().run()
    assert row["status"] == "draft" and row["author"] == users["carol"]["id"] and row["reviewed_at"] is None


async def test_managers_write_published_entries(faq, as_user):
    incident = await faq.incident()
    bob = await as_user("bob")
    assert 'name="status"' in (await bob.get("/faq/new")).text
    response = await post_form(
        bob,
        "/faq",
        {
            "incident_id": str(incident),
            "question": "Why?",
            "answer": "Because.",
            "tags": " Refunds ,, money ",
            "status": "published",
        },
    )
    assert response.status_code == 303
    row = await FaqEntry.select().first().run()
    assert row["status"] == "published" and row["tags"] in ('["refunds", "money"]', ["refunds", "money"])


async def test_the_new_form_shows_every_message_next_to_its_field_and_keeps_values(faq, as_user):
    await faq.incident()
    bob = await as_user("bob")
    response = await post_form(
        bob,
        "/faq",
        {
            "incident_id": "",
            "question": "  ",
            "answer": "",
            "tags": "x" * 41 + ", fine",
            "status": "approved",
            "talking_points_version": "two",
        },
    )
    assert response.status_code == 422
    for field in ("incident_id", "question", "answer", "tags", "status", "talking_points_version"):
        assert f'id="e-{field}" class="error"' in response.text, field
    assert 'value="two"' in response.text and "fine" in response.text
    assert await FaqEntry.count().run() == 0


async def test_the_new_form_refuses_an_unknown_incident_and_a_missing_talking_points_version(faq, as_user):
    incident = await faq.incident()
    bob = await as_user("bob")
    unknown = await post_form(bob, "/faq", {"incident_id": "999", "question": "Q?", "answer": "A."})
    assert unknown.status_code == 422 and 'id="e-incident_id"' in unknown.text
    version = await post_form(
        bob, "/faq", {"incident_id": str(incident), "question": "Q?", "answer": "A.", "talking_points_version": "3"}
    )
    assert version.status_code == 422 and 'id="e-talking_points_version"' in version.text
    assert await FaqEntry.count().run() == 0


async def test_the_edit_form_refuses_bad_input_and_other_roles(faq, as_user):
    entry = await faq.entry(await faq.incident())
    bob = await as_user("bob")
    form = await bob.get(f"/faq/{entry['id']}/edit")
    assert form.status_code == 200 and entry["question"] in form.text
    response = await post_form(
        bob, f"/faq/{entry['id']}/edit", {"question": "", "answer": "x" * 20_001, "tags": "", "status": "published"}
    )
    assert response.status_code == 422
    assert 'id="e-question"' in response.text and 'id="e-answer"' in response.text
    assert (await FaqEntry.select(FaqEntry.answer).first().run())["answer"] == entry["answer"]
    for name in ("carol", "dave"):
        client = await as_user(name)
        assert (await client.get(f"/faq/{entry['id']}/edit")).status_code == 403
        assert (
            await post_form(client, f"/faq/{entry['id']}/edit", {"question": "x", "answer": "y"})
        ).status_code == 403
    assert (await bob.get("/faq/999/edit")).status_code == 404


async def test_viewers_cannot_propose(faq, as_user):
    incident = await faq.incident()
    dave = await as_user("dave")
    assert (await dave.get("/faq/new")).status_code == 403
    assert (
        await post_form(dave, "/faq", {"incident_id": str(incident), "question": "Q", "answer": "A"})
    ).status_code == 403
    assert await FaqEntry.count().run() == 0


# ---- the incident page's FAQ section -----------------------------------------------------------------


async def test_the_incident_page_lists_its_answers_by_role(faq, as_user):
    incident = await faq.incident()
    await faq.entry(incident, "Published question?")
    await faq.entry(incident, "Bob's draft question?", status="draft")
    await faq.entry(incident, "Carol's draft question?", status="draft", by="carol")
    retired = await faq.entry(incident, "Retired question?")
    await faq.retire(retired["id"])

    def section(html: str) -> str:
        return html[html.index('id="faq"') : html.index("</section>", html.index('id="faq"'))]

    bob = section((await (await as_user("bob")).get(f"/incidents/{incident}")).text)
    assert "Published question?" in bob and "Bob&#39;s draft question?" in bob and "Carol&#39;s draft" in bob
    assert "Retired question?" not in bob and "Show on the public FAQ" in bob and "Add an entry" in bob
    carol = section((await (await as_user("carol")).get(f"/incidents/{incident}")).text)
    assert "Published question?" in carol and "Carol&#39;s draft question?" in carol
    assert "Bob&#39;s draft" not in carol and "Show on the public FAQ" not in carol and "Propose an entry" in carol
    dave = section((await (await as_user("dave")).get(f"/incidents/{incident}")).text)
    assert "Published question?" in dave and "draft" not in dave and "Propose" not in dave
