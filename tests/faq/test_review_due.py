"""Review due: a published answer not reviewed for ``faq_review_days`` (90 by default) is flagged, in the API
(FaqRead.review_due and the search filter) and on the pages; publishing and "mark reviewed" restart the count.
The boundary is checked with the injected clock on both engines."""

from __future__ import annotations

from datetime import timedelta

from crm.audit.service import Actor
from crm.preferences import service as preferences
from tests.conftest import START, post_form

DAY = timedelta(days=1)


async def create(api, incident_id, **body) -> dict:
    response = await api.post(
        f"/api/v1/incidents/{incident_id}/faq",
        json={"question": "Did you delete negative comments?", "answer": "No.", **body},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def due(api, entry_id) -> bool:
    response = await api.get(f"/api/v1/faq/{entry_id}")
    assert response.status_code == 200, response.text
    return response.json()["review_due"]


async def listed(api) -> list[int]:
    response = await api.get("/api/v1/faq/search", params={"review_due": "true"})
    assert response.status_code == 200, response.text
    return [i["id"] for i in response.json()["items"]]


async def test_it_flags_an_answer_exactly_when_the_review_age_is_reached(api, incident_id, clock, users):
    entry = await create(api, incident_id, status="published")
    assert entry["review_due"] is False
    assert entry["reviewed_by_id"] == users["bob"]["id"]  # publishing is a review
    clock.at = START + 90 * DAY - timedelta(seconds=1)
    assert await due(api, entry["id"]) is False and await listed(api) == []
    clock.at = START + 90 * DAY
    assert await due(api, entry["id"]) is True and await listed(api) == [entry["id"]]


async def test_marking_reviewed_restarts_the_count(api, incident_id, clock, auth, users):
    entry = await create(api, incident_id, status="published")
    clock.at = START + 100 * DAY
    response = await api.patch(f"/api/v1/faq/{entry['id']}", json={"reviewed": True}, headers=auth["alice"])
    body = response.json()
    assert body["review_due"] is False and body["reviewed_by_id"] == users["alice"]["id"]
    clock.advance(days=90, seconds=-1)
    assert await due(api, entry["id"]) is False
    clock.advance(seconds=1)
    assert await due(api, entry["id"]) is True


async def test_the_setting_moves_the_boundary(api, incident_id, clock):
    entry = await create(api, incident_id, status="published")
    await preferences.update(values={"faq_review_days": 30}, actor=Actor.system("t"), now=START)
    clock.at = START + 30 * DAY
    assert await due(api, entry["id"]) is True and await listed(api) == [entry["id"]]
    await preferences.update(values={"faq_review_days": 31}, actor=Actor.system("t"), now=START)
    assert await due(api, entry["id"]) is False and await listed(api) == []


async def test_drafts_and_retired_entries_are_never_due_and_a_late_publication_starts_fresh(api, incident_id, clock):
    draft = await create(api, incident_id)
    retired = await create(api, incident_id, status="published")
    await api.patch(f"/api/v1/faq/{retired['id']}", json={"status": "retired"})
    clock.at = START + 400 * DAY
    assert await due(api, draft["id"]) is False and await due(api, retired["id"]) is False
    assert await listed(api) == []
    published = await api.patch(f"/api/v1/faq/{draft['id']}", json={"status": "published"})
    assert published.json()["review_due"] is False
    assert published.json()["reviewed_at"].startswith((START + 400 * DAY).date().isoformat())


async def test_pages_show_the_flag_to_managers_and_list_due_entries(api, incident_id, clock, as_user):
    entry = await create(api, incident_id, status="published", question="Is the old answer right?")
    fresh = await create(api, incident_id, status="published", question="Is the new answer right?")
    clock.at = START + 91 * DAY
    await api.patch(f"/api/v1/faq/{fresh['id']}", json={"reviewed": True})
    bob = await as_user("bob")
    listing = await bob.get("/faq", params={"review_due": "1"})
    assert listing.status_code == 200
    assert "Is the old answer right?" in listing.text and "Is the new answer right?" not in listing.text
    assert 'class="status review-due"' in listing.text
    page = await bob.get(f"/faq/{entry['id']}")
    assert 'id="review-due"' in page.text and "Mark reviewed" in page.text
    response = await post_form(bob, f"/faq/{entry['id']}/reviewed", {"next": "/faq?review_due=1"})
    assert response.status_code == 303 and response.headers["location"] == "/faq?review_due=1"
    assert await due(api, entry["id"]) is False
    after = await bob.get("/faq", params={"review_due": "1"})
    assert "Is the old answer right?" not in after.text
    # Agents are not offered the review-due list: asking for it shows the ordinary results.
    carol = await as_user("carol")
    agent_view = await carol.get("/faq", params={"review_due": "1"})
    assert "Is the new answer right?" in agent_view.text and "Review due only" not in agent_view.text


async def test_only_managers_may_mark_reviewed_on_pages(api, incident_id, as_user):
    entry = await create(api, incident_id, status="published")
    for name in ("carol", "dave"):
        client = await as_user(name)
        assert (await post_form(client, f"/faq/{entry['id']}/reviewed")).status_code == 403
    bob = await as_user("bob")
    assert (await post_form(bob, "/faq/999/reviewed")).status_code == 404


async def test_only_a_published_entry_may_be_marked_reviewed(api, incident_id, clock):
    """Reviewing vouches for an answer given out: a draft or retired one is refused naming "reviewed", and
    nothing changes; publishing with "reviewed" in the same request is fine."""
    draft = await create(api, incident_id, status="draft")
    retired = await create(api, incident_id, status="published")
    assert (await api.patch(f"/api/v1/faq/{retired['id']}", json={"status": "retired"})).status_code == 200
    clock.advance(days=1)
    for entry in (draft, retired):
        response = await api.patch(f"/api/v1/faq/{entry['id']}", json={"reviewed": True})
        assert response.status_code == 422 and "reviewed" in response.json()["error"]["fields"], response.text
        assert (await api.get(f"/api/v1/faq/{entry['id']}")).json()["reviewed_at"] == entry["reviewed_at"]
    published = await create(api, incident_id, status="published")
    response = await api.patch(f"/api/v1/faq/{published['id']}", json={"status": "retired", "reviewed": True})
    assert response.status_code == 422 and "reviewed" in response.json()["error"]["fields"]
    assert (await api.get(f"/api/v1/faq/{published['id']}")).json()["status"] == "published"
    response = await api.patch(f"/api/v1/faq/{draft['id']}", json={"status": "published", "reviewed": True})
    assert response.status_code == 200 and response.json()["reviewed_at"] is not None
