"""The FAQ in a real browser: an agent's main screen. Type the start of a customer's question into the search box,
see the matching answer appear while typing (crm/static/faq.js), copy it, open it; without waiting for the
script, the same search works as a plain form. The page fits a phone."""

from __future__ import annotations

import secrets

import pytest
from playwright.async_api import expect

from tests.e2e.test_briefing_flow import api
from tests.e2e.test_login_flow import no_horizontal_scroll, sign_in

pytestmark = pytest.mark.browser


async def test_type_a_question_see_the_answer_while_typing_copy_and_open_it(new_page, server, tmp_path):
    page = await new_page()
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    await sign_in(page, server.email, server.password)
    await expect(page).to_have_url(server.url + "/")

    tag = secrets.token_hex(3)
    incident = await api(page, "POST", "/api/v1/incidents", {"title": f"Refund mix-up {tag}", "severity": "high"})
    refund = await api(
        page,
        "POST",
        f"/api/v1/incidents/{incident['id']}/faq",
        {
            "question": f"Can I get a refund {tag}?",
            "answer": "Yes: refunds are **automatic** within 7 days.",
            "tags": ["refunds"],
            "status": "published",
        },
    )
    await api(
        page,
        "POST",
        f"/api/v1/incidents/{incident['id']}/faq",
        {"question": f"Did you delete negative comments {tag}?", "answer": "No, never.", "status": "published"},
    )
    await api(
        page,
        "POST",
        f"/api/v1/incidents/{incident['id']}/faq",
        {"question": f"Refund draft {tag}?", "answer": "Not approved yet."},
    )  # a draft: never suggested

    await page.goto("/faq")
    box = page.get_by_label("Customer's question")
    await box.press_sequentially(f"{tag} refu", delay=30)
    suggestions = page.locator("#faq-suggestions")
    suggestion = suggestions.get_by_role("link", name=f"Can I get a refund {tag}?")
    await expect(suggestion).to_be_visible()
    await expect(suggestions.locator("mark").first).to_be_visible()
    await expect(suggestions.get_by_text(f"Refund mix-up {tag}")).to_be_visible()
    await expect(suggestions.get_by_role("link", name=f"Did you delete negative comments {tag}?")).to_have_count(0)
    await expect(suggestions.get_by_role("link", name=f"Refund draft {tag}?")).to_have_count(0)

    await suggestion.click()
    await expect(page).to_have_url(f"{server.url}/faq/{refund['id']}")
    await expect(page.get_by_role("heading", name=f"Can I get a refund {tag}?")).to_be_visible()
    await expect(page.locator("#answer strong")).to_have_text("automatic")

    # The full search (the form itself, works without JavaScript) with its copy button.
    await page.goto("/faq")
    await page.get_by_label("Customer's question").fill(f"deleted comments {tag}")
    await page.get_by_role("button", name="Search").click()
    result = page.locator(".faq-result").first
    await expect(result.get_by_role("link", name=f"Did you delete negative comments {tag}?")).to_be_visible()
    await result.get_by_role("button", name="Copy answer").click()
    assert await page.evaluate("navigator.clipboard.readText()") == "No, never."

    phone = await new_page(375, 812)
    await sign_in(phone, server.email, server.password)
    await phone.goto(f"/faq?q=refund+{tag}")
    await expect(phone.get_by_role("link", name=f"Can I get a refund {tag}?")).to_be_visible()
    scroll_width, inner_width = await no_horizontal_scroll(phone)
    assert scroll_width <= inner_width, f"horizontal scroll at phone width: {scroll_width}px > {inner_width}px"
    await phone.screenshot(path=tmp_path / "faq-phone.png", full_page=True)
