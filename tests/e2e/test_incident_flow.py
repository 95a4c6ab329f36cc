"""An incident from detection to review in a real browser: open it, acknowledge (the freeze banner appears on
every page), write and approve talking points, respond, lift the freeze (the banner goes), resolve, fill the
review, mark it reviewed; the incident page fits a phone."""

from __future__ import annotations

import secrets

import pytest
from playwright.async_api import Page, expect

from tests.e2e.test_login_flow import at, no_horizontal_scroll, sign_in

pytestmark = pytest.mark.browser


async def set_two_person_approval(page: Page, on: bool) -> None:
    await page.goto("/admin/settings")
    box = page.get_by_label("Two-person approval of talking points")
    await (box.check() if on else box.uncheck())
    await page.get_by_role("button", name="Save settings").click()
    await expect(page.get_by_role("status").filter(has_text="Settings saved.")).to_be_visible()


async def test_an_incident_from_detection_to_review(new_page, server, tmp_path):
    page = await new_page()
    await sign_in(page, server.email, server.password)
    await expect(page).to_have_url(server.url + "/")
    # The server has one admin: let the author approve their own draft for this walk-through.
    await set_two_person_approval(page, on=False)

    title = f"Holiday email with wrong prices {secrets.token_hex(3)}"
    await page.goto("/incidents")
    await page.get_by_role("link", name="New incident").click()
    await page.get_by_label("Title").fill(title)
    await page.get_by_label("Severity").select_option("critical")
    await page.get_by_label("x", exact=True).check()
    await page.get_by_role("button", name="Open incident").click()
    await expect(page.get_by_role("heading", name=title)).to_be_visible()
    await expect(page.locator("#incident-status")).to_have_text("detected")
    banner = page.locator("#freeze-banner")
    await expect(banner.filter(has_text=title)).to_have_count(0)

    await page.get_by_role("button", name="Acknowledge", exact=True).click()
    await expect(page.locator("#incident-status")).to_have_text("acknowledged")
    await expect(banner.filter(has_text=title)).to_be_visible()
    await page.goto("/members")
    await expect(banner.filter(has_text=title)).to_be_visible()  # on every page
    await banner.get_by_role("link", name=title).click()

    await page.get_by_role("link", name="New version").click()
    await page.get_by_label("Points to share").fill("We got the prices wrong\nEvery order is honoured")
    await page.get_by_label("What not to say").fill("Blaming the agency")
    await page.get_by_role("button", name="Save draft").click()
    await expect(page.get_by_text("Talking points version 1 saved as a draft.")).to_be_visible()
    await page.get_by_role("button", name="Approve version 1").click()
    await expect(page.locator("#tp-current")).to_contain_text("Approved: version 1")
    await expect(page.locator("#tp-current")).to_contain_text("Every order is honoured")

    await page.get_by_role("button", name="Start responding").click()
    await expect(page.locator("#incident-status")).to_have_text("responding")
    await expect(banner.filter(has_text=title)).to_be_visible()

    page_phone = await new_page(390, 844)
    await sign_in(page_phone, server.email, server.password)
    await page_phone.goto(page.url)
    await expect(page_phone.get_by_role("heading", name=title)).to_be_visible()
    scroll_width, inner_width = await no_horizontal_scroll(page_phone)
    assert scroll_width <= inner_width, f"horizontal scroll at phone width: {scroll_width}px > {inner_width}px"
    await page_phone.screenshot(path=tmp_path / "incident-phone.png", full_page=True)

    await page.get_by_role("button", name="Lift freeze").click()
    await expect(page.get_by_text("The promotion freeze is lifted")).to_be_visible()
    await expect(banner.filter(has_text=title)).to_have_count(0)
    await page.goto("/")
    await expect(banner.filter(has_text=title)).to_have_count(0)
    await page.go_back()

    await expect(page.get_by_label("Lessons")).to_have_count(0)  # the review opens once resolved
    await page.get_by_role("button", name="Resolve").click()
    await expect(page.locator("#incident-status")).to_have_text("resolved")
    await page.get_by_role("textbox", name="What happened").fill("A price feed broke during the export.")
    await page.get_by_label("What we changed").fill("Prices are checked by a second person.")
    await page.get_by_label("Lessons").fill("Own the mistake early.")
    await page.get_by_role("button", name="Save review").click()
    await expect(page.get_by_text("Review saved.")).to_be_visible()
    await expect(page.get_by_label("Lessons")).to_have_value("Own the mistake early.")

    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Download as Markdown").click()
    download = await download_info.value
    markdown = (await download.path()).read_text()
    assert title in markdown and "## Timeline" in markdown and "Own the mistake early." in markdown

    await page.get_by_role("button", name="Mark reviewed").click()
    await expect(page.locator("#incident-status")).to_have_text("reviewed")
    await expect(page.get_by_role("button", name="Acknowledge", exact=True)).to_have_count(0)
    await page.screenshot(path=tmp_path / "incident-desktop.png", full_page=True)

    await page.goto("/incidents?state=closed")
    await expect(page.get_by_role("link", name=title)).to_be_visible()
    await expect(page).to_have_url(at(server, "/incidents"))
    await set_two_person_approval(page, on=True)
    print(f"screenshots: {tmp_path}")
