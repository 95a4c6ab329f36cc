"""Members in a real browser: add one through the form, log an interaction from the member page, and see
the score go from 0 to a positive number and the weekly chart gain a bar; the pages fit a phone."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.async_api import Page, expect

from tests.e2e.test_login_flow import no_horizontal_scroll, sign_in

pytestmark = pytest.mark.browser


async def score(page: Page) -> float:
    return float(await page.locator("#engagement-score").inner_text())


WIDER_THAN_VIEWPORT = """() => [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(0, 8).map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + "." + [...e.classList].join("."))"""


async def fits(page: Page, what: str) -> None:
    scroll_width, inner_width = await no_horizontal_scroll(page)
    if scroll_width > inner_width:
        culprits = await page.evaluate(WIDER_THAN_VIEWPORT)
        raise AssertionError(f"horizontal scroll on {what}: {scroll_width}px > {inner_width}px; wider: {culprits}")


async def test_add_a_member_log_an_interaction_and_see_the_score_and_chart_change(new_page, server, tmp_path):
    name = f"Jane {uuid.uuid4().hex[:6]}"
    page = await new_page()
    await sign_in(page, server.email, server.password)
    await expect(page).to_have_url(server.url + "/")

    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Members").click()
    await expect(page.get_by_role("heading", name="Members", exact=True)).to_be_visible()
    await page.get_by_role("link", name="Add member").click()

    await page.get_by_label("Name", exact=True).fill(name)
    await page.get_by_label("Tier").select_option("advocate")
    await page.get_by_label("Topics").fill("travel, food")
    await page.get_by_label("Platform 1").select_option("instagram")
    await page.get_by_label("Handle 1").fill("@" + name.replace(" ", "_").lower())
    await page.get_by_label("Followers 1").fill("1200")
    await page.get_by_label("Consents to private briefings").check()
    await page.get_by_role("button", name="Add member").click()

    await expect(page).to_have_url(re.compile(re.escape(server.url) + r"/members/\d+$"))
    await expect(page.get_by_role("status")).to_have_text(f"{name} was added.")
    await expect(page.get_by_role("heading", name=name)).to_be_visible()
    await expect(page.locator("#engagement-score")).to_have_text("0.0")
    await expect(page.locator("#engagement-counts")).to_have_text("0 / 0 / 0 / 0")
    chart = page.get_by_role("img", name=re.compile("Weekly interactions"))
    await expect(chart).to_be_visible()
    await expect(chart.locator("rect.bar")).to_have_count(0)

    log = page.locator("#log")
    await expect(log.get_by_label("Platform", exact=True)).to_have_value("instagram")
    await log.get_by_label("Kind", exact=True).select_option("post")
    await log.get_by_label("Sentiment", exact=True).select_option("positive")
    await log.get_by_label("What they said").fill("Defended us in the comments, with sources.")
    await log.get_by_role("button", name="Log interaction").click()

    await expect(page.get_by_role("status")).to_have_text("Interaction logged.")
    await expect(page.locator("#engagement-counts")).to_have_text("1 / 1 / 1 / 1")
    assert await score(page) > 0
    await expect(chart.locator("rect.bar")).to_have_count(1)
    await expect(chart.locator("rect.bar")).to_have_attribute("data-count", "1")
    await expect(page.locator("#timeline")).to_contain_text("Defended us in the comments, with sources.")
    await fits(page, "the member page at desktop width")
    await page.screenshot(path=tmp_path / "member-desktop.png", full_page=True)

    await page.set_viewport_size({"width": 390, "height": 844})
    await fits(page, "the member page on a phone")
    await page.screenshot(path=tmp_path / "member-phone.png", full_page=True)

    await page.goto("/members?q=" + name.split()[1])
    await expect(page.get_by_role("link", name=name)).to_be_visible()
    await fits(page, "the member list on a phone")
    await page.screenshot(path=tmp_path / "members-phone.png", full_page=True)
    await page.goto("/members/new")
    await fits(page, "the member form on a phone")
    await page.screenshot(path=tmp_path / "member-new-phone.png", full_page=True)

    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.goto("/members")
    await fits(page, "the member list at desktop width")
    await page.screenshot(path=tmp_path / "members-desktop.png", full_page=True)
    print(f"screenshots: {tmp_path}")
