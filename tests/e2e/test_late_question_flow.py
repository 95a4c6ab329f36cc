"""A late question in a real browser: a resolved incident with a published FAQ answer, the log form showing the
answer while the question is typed, the question page with the stored suggestion and its composed answer
("our record since" included), "Send this answer", and the question marked answered; the asker is a known
member, so it lands on their timeline. The question page fits a phone."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.async_api import expect

from tests.e2e.test_briefing_flow import api
from tests.e2e.test_login_flow import no_horizontal_scroll, sign_in

pytestmark = pytest.mark.browser


async def test_log_a_late_question_and_send_the_suggested_answer(new_page, server, tmp_path):
    page = await new_page()
    await sign_in(page, server.email, server.password)
    await expect(page).to_have_url(server.url + "/")

    tag = secrets.token_hex(3)
    title = f"Deleted comments row {tag}"
    incident = await api(
        page, "POST", "/api/v1/incidents", {"title": title, "severity": "low", "topics": [f"moderation{tag}"]}
    )
    for to in ("acknowledged", "responding", "resolved"):
        await api(page, "POST", f"/api/v1/incidents/{incident['id']}/transitions", {"to": to})
    entry = await api(
        page,
        "POST",
        f"/api/v1/incidents/{incident['id']}/faq",
        {
            "question": "Did you delete negative comments?",
            "answer": "No. A spam filter hid **some** comments for a day; every one is back.",
            "status": "published",
        },
    )
    member = await api(
        page,
        "POST",
        "/api/v1/members",
        {"name": f"Asker {tag}", "handles": [{"platform": "x", "handle": f"asker_{tag}"}]},
    )

    await page.goto("/questions/new")
    await expect(page.get_by_role("heading", name="Log a late question")).to_be_visible()
    await page.get_by_label("Incident").select_option(str(incident["id"]))
    await page.get_by_label("Question", exact=True).fill("Why were the negative comments deleted?")
    await page.get_by_label("Who asked").fill(f"@asker_{tag}")
    await page.get_by_label("Platform").select_option("x")
    # faq.js shows the matching answer while typing (the page works without it: see the next page).
    await expect(page.locator("#faq-suggestions").get_by_text("Did you delete negative comments?")).to_be_visible()
    await page.get_by_role("button", name="Log question").click()

    await expect(page).to_have_url(re.compile(r"/questions/\d+$"))
    await expect(page.locator("#question-status")).to_have_text("unanswered")
    suggestion = page.locator(f"#suggestion-{entry['id']}")
    await expect(suggestion.get_by_role("heading", name="Did you delete negative comments?")).to_be_visible()
    await expect(suggestion.locator("strong", has_text="some")).to_be_visible()  # the answer rendered
    composed = await suggestion.get_by_label("Answer to send (copy it)").input_value()
    assert composed.startswith("No. A spam filter hid **some** comments")
    assert "we have had no similar incident in 0 days." in composed
    await expect(page.locator("#record-since")).to_contain_text("no similar incident in 0 days")

    await suggestion.get_by_role("button", name="Send this answer").click()
    await expect(page.get_by_text("Answer recorded.")).to_be_visible()
    await expect(page.locator("#question-status")).to_have_text("answered")
    await expect(page.get_by_role("heading", name=re.compile(f"^Answered by {server.name} on "))).to_be_visible()
    assert await page.locator("#answer-sent").input_value() == composed

    question_url = page.url.split("#")[0]
    await page.screenshot(path=tmp_path / "question-desktop.png", full_page=True)
    phone = await new_page(390, 844)
    await sign_in(phone, server.email, server.password)
    await phone.goto(question_url)
    await expect(phone.locator("#question-status")).to_have_text("answered")
    scroll_width, inner_width = await no_horizontal_scroll(phone)
    assert scroll_width <= inner_width, f"horizontal scroll at phone width: {scroll_width}px > {inner_width}px"
    await phone.screenshot(path=tmp_path / "question-phone.png", full_page=True)

    # The asker's handle is a member's: the question is on their timeline, answered.
    await page.goto(f"/members/{member['id']}")
    asked = page.locator("#timeline li.event-question")
    await expect(asked).to_have_count(1)
    await expect(asked).to_contain_text("Why were the negative comments deleted?")
    await expect(asked.locator(".status")).to_have_text("answered")
    await expect(page.locator("#late-questions")).to_have_count(0)

    await page.goto(f"/incidents/{incident['id']}")
    await page.locator("#late-questions").get_by_role("link", name="Late-question report").click()
    await expect(page.locator("#chart-summary")).to_contain_text("1 late question in the 1 week since it was resolved")
    print(f"screenshots: {tmp_path}")
