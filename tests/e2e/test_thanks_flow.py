"""Thanking a helper in a real browser: a member replies supportively to an incident, the item waits in the due
queue saying why, "Say thank you" opens the form pre-filled from the template, recording it takes the item out of
the queue, and the thank-you shows in the member's timeline among their interactions. The queue and the member
timeline fit a phone."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import expect

from tests.e2e.test_briefing_flow import api
from tests.e2e.test_login_flow import no_horizontal_scroll, sign_in

pytestmark = pytest.mark.browser


async def test_thank_a_helper_from_the_due_queue(new_page, server, tmp_path):
    page = await new_page()
    await sign_in(page, server.email, server.password)
    await expect(page).to_have_url(server.url + "/")

    tag = secrets.token_hex(3)
    now = datetime.now(UTC)
    incident = await api(
        page,
        "POST",
        "/api/v1/incidents",
        {
            "title": f"Baggage fee typo {tag}",
            "severity": "medium",
            "platforms": ["x"],
            "detected_at": (now - timedelta(hours=3)).isoformat(),
        },
    )
    name = f"Noor {tag}"
    member = await api(
        page,
        "POST",
        "/api/v1/members",
        {"name": name, "tier": "advocate", "handles": [{"platform": "x", "handle": f"noor_{tag}"}]},
    )
    for minutes in (120, 90):
        await api(
            page,
            "POST",
            "/api/v1/interactions",
            {
                "member_id": member["id"],
                "platform": "x",
                "kind": "reply",
                "sentiment": "positive",
                "occurred_at": (now - timedelta(minutes=minutes)).isoformat(),
                "incident_id": incident["id"],
                "text": "They fixed the fee within the hour.",
            },
        )

    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Thank-yous").click()
    await expect(page.get_by_role("heading", name="Thank-yous", exact=True)).to_be_visible()
    item = page.locator(f"#due-{incident['id']}-{member['id']}")
    await expect(item).to_contain_text(name)
    await expect(item).to_contain_text("2 supportive replies")
    await expect(item).to_contain_text("due in ")
    await expect(page.get_by_role("link", name="Stay supportive list")).to_be_visible()

    phone = await new_page(390, 844)
    await sign_in(phone, server.email, server.password)
    await phone.goto("/thanks")
    await expect(phone.locator(f"#due-{incident['id']}-{member['id']}")).to_be_visible()
    scroll_width, inner_width = await no_horizontal_scroll(phone)
    assert scroll_width <= inner_width, f"horizontal scroll at phone width: {scroll_width}px > {inner_width}px"
    await phone.screenshot(path=tmp_path / "thanks-phone.png", full_page=True)

    await item.get_by_role("link", name="Say thank you").click()
    await expect(page.get_by_role("heading", name=f"Say thank you to {name}")).to_be_visible()
    message = page.get_by_label("Message")
    await expect(message).to_have_value(
        f"Hi {name}, thank you for standing with us during Baggage fee typo {tag}. "
        "Your replies helped people get the facts, and it meant a lot to the "
        "whole team."
    )
    # The small script swaps an untouched message for the chosen channel's template.
    await page.get_by_label("Channel").select_option("public_reply")
    await expect(message).to_have_value(
        f"Thank you, {name}, for helping people get the facts during Baggage fee typo {tag}."
    )
    await message.fill(f"Thank you {name}, your replies calmed everyone down.")
    await page.get_by_label("Gift (optional)").fill("Sticker pack")
    await page.get_by_label("Gift value (optional)").fill("4.50")
    await page.get_by_role("button", name="Record thank-you").click()

    await expect(page).to_have_url(server.url + "/thanks")
    await expect(page.get_by_role("status").filter(has_text="recorded")).to_contain_text(
        f"Thank-you to {name} for Baggage fee typo {tag} recorded."
    )
    await expect(page.locator(f"#due-{incident['id']}-{member['id']}")).to_have_count(0)

    await page.goto(f"/members/{member['id']}")
    # One timeline, newest first: the thank-you, then the two replies it thanks.
    events = page.locator("#timeline li.event")
    await expect(events).to_have_count(3)
    thanks = events.nth(0)
    await expect(thanks).to_have_class(re.compile(r"\bevent-thanks\b"))
    await expect(thanks).to_contain_text("your replies calmed everyone down")
    await expect(thanks).to_contain_text("gift: Sticker pack (4.50)")
    await expect(thanks.get_by_role("link", name=f"Baggage fee typo {tag}")).to_be_visible()
    for n in (1, 2):
        await expect(events.nth(n)).to_have_class(re.compile(r"\bevent-interaction\b"))
    await expect(page.locator("#thanks")).to_have_count(0)
    await page.screenshot(path=tmp_path / "member-timeline-desktop.png", full_page=True)
    await phone.goto(f"/members/{member['id']}#timeline")
    await expect(phone.locator("#timeline li.event-thanks")).to_be_visible()
    scroll_width, inner_width = await no_horizontal_scroll(phone)
    assert scroll_width <= inner_width, f"horizontal scroll at phone width: {scroll_width}px > {inner_width}px"
    await phone.locator("#timeline").screenshot(path=tmp_path / "member-timeline-phone.png")
