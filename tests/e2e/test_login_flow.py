"""Signing in and out through the real form, in a real browser, on a phone too."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

pytestmark = pytest.mark.browser


async def sign_in(page: Page, email: str, password: str) -> None:
    await page.goto("/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()


def at(server, path: str) -> re.Pattern:
    """The page's URL is exactly this path (with any query string)."""
    return re.compile("^" + re.escape(server.url + path) + r"(\?.*)?$")


async def test_sign_in_then_sign_out(new_page, server):
    page = await new_page()
    await page.goto("/")
    await expect(page).to_have_url(at(server, "/login"))

    await sign_in(page, server.email, server.password)
    await expect(page).to_have_url(server.url + "/")
    await expect(page.get_by_role("heading", name=f"Welcome, {server.name}")).to_be_visible()

    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(at(server, "/login"))
    await expect(page.get_by_role("status")).to_have_text("You are signed out.")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    await page.goto("/")
    await expect(page).to_have_url(at(server, "/login"))
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()


async def test_wrong_password_shows_the_form_again(new_page, server):
    page = await new_page()
    await sign_in(page, server.email, "not-the-right-password-42")
    await expect(page).to_have_url(at(server, "/login"))
    await expect(page.get_by_role("alert")).to_have_text("Email or password is incorrect.")
    await expect(page.get_by_label("Email")).to_have_value(server.email)
    await expect(page.get_by_label("Password")).to_have_value("")
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    await expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


async def no_horizontal_scroll(page: Page) -> tuple[int, int]:
    return await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


async def test_dashboard_fits_a_phone(new_page, server, tmp_path):
    page = await new_page(390, 844)
    await sign_in(page, server.email, server.password)
    await expect(page).to_have_url(server.url + "/")
    await expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    await expect(page.get_by_role("link", name="Dashboard")).to_be_visible()
    await expect(page.get_by_role("heading", name=f"Welcome, {server.name}")).to_be_visible()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    scroll_width, inner_width = await no_horizontal_scroll(page)
    assert scroll_width <= inner_width, f"horizontal scroll at phone width: {scroll_width}px > {inner_width}px"
    await page.screenshot(path=tmp_path / "dashboard-phone.png", full_page=True)

    await page.set_viewport_size({"width": 1280, "height": 800})
    await expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    scroll_width, inner_width = await no_horizontal_scroll(page)
    assert scroll_width <= inner_width, f"horizontal scroll at desktop width: {scroll_width}px > {inner_width}px"
    await page.screenshot(path=tmp_path / "dashboard-desktop.png", full_page=True)
    print(f"screenshots: {tmp_path}")
