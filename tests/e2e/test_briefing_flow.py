"""Briefing advocates in a real browser: from the incident page to the suggestions, tick two suggested members, brief
them at once by email, see each composed message ready to copy with its mailto: link, and see both leave the
suggestions and appear as briefed on the incident page, with an outcome to record, and on the member's timeline.
The pages fit a phone."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.async_api import Page, expect

from tests.e2e.test_incident_flow import set_two_person_approval
from tests.e2e.test_login_flow import no_horizontal_scroll, sign_in

pytestmark = pytest.mark.browser


async def api(page: Page, method: str, path: str, body: dict | None = None) -> dict:
    """The JSON API with the browser's own session (and its CSRF cookie as the header)."""
    cookies = {c["name"]: c["value"] for c in await page.context.cookies()}
    response = await page.request.fetch(path, method=method, data=body, headers={"X-CSRFToken": cookies["crm_csrf"]})
    assert response.ok, f"{method} {path}: {response.status} {await response.text()}"
    return await response.json()


async def test_brief_two_suggested_members_from_the_incident_page(new_page, server, tmp_path):
    page = await new_page()
    await sign_in(page, server.email, server.password)
    await expect(page).to_have_url(server.url + "/")
    await set_two_person_approval(page, on=False)  # the server has one admin: they approve their own draft

    tag = secrets.token_hex(3)
    title = f"Loyalty email mix-up {tag}"
    incident = await api(
        page,
        "POST",
        "/api/v1/incidents",
        {"title": title, "severity": "high", "topics": ["loyalty"], "platforms": ["x"]},
    )
    names = [f"Priya {tag}", f"Marco {tag}", f"Quiet {tag}"]
    members = {}
    for n, name in enumerate(names):
        members[name] = (
            await api(
                page,
                "POST",
                "/api/v1/members",
                {
                    "name": name,
                    "tier": "advocate",
                    "consent_private_briefing": n < 2,
                    "topics": ["loyalty"],
                    "email": f"{name.split()[0].lower()}.{tag}@example.org",
                    "handles": [
                        {"platform": "x", "handle": f"{name.split()[0].lower()}_{tag}", "followers": 1000 * (n + 1)}
                    ],
                },
            )
        )["id"]
    await api(
        page,
        "POST",
        f"/api/v1/incidents/{incident['id']}/talking-points",
        {"points": ["We sent the wrong email", "Every point balance is correct"]},
    )
    await api(page, "POST", f"/api/v1/incidents/{incident['id']}/talking-points/1/approve")

    await page.goto(f"/incidents/{incident['id']}")
    advocates = page.locator("#advocates")
    await expect(advocates.locator("#fig-briefed")).to_have_text("0")
    await advocates.get_by_role("link", name="Suggestions and briefing").click()
    await expect(page.get_by_role("heading", name="Whom to brief")).to_be_visible()
    suggestions = page.locator("#suggestion-list")
    for name in names[:2]:
        await expect(suggestions.get_by_role("link", name=name)).to_be_visible()
    await expect(suggestions.get_by_role("link", name=names[2])).to_have_count(0)  # no consent: never suggested

    # Why is Quiet not suggested?
    await page.get_by_label("Member name or id").fill(names[2])
    await page.get_by_role("button", name="Explain").click()
    await expect(page.locator("#why-answers")).to_contain_text("No recorded consent to be contacted privately.")

    # The factors behind a suggestion open on demand.
    first = page.locator(f"#suggestion-{members[names[0]]}")
    await first.get_by_text("How the score adds up").click()
    await expect(first.get_by_role("row", name="Already in the conversation")).to_be_visible()

    phone = await new_page(390, 844)
    await sign_in(phone, server.email, server.password)
    await phone.goto(page.url)
    await expect(phone.get_by_role("heading", name="Whom to brief")).to_be_visible()
    scroll_width, inner_width = await no_horizontal_scroll(phone)
    assert scroll_width <= inner_width, f"horizontal scroll at phone width: {scroll_width}px > {inner_width}px"
    await phone.screenshot(path=tmp_path / "suggestions-phone.png", full_page=True)

    for name in names[:2]:
        await page.get_by_label(f"Brief {name}").check()
    await page.get_by_label("Channel").select_option("email")
    await page.get_by_label("Note").fill("Sent from the browser test")
    await page.get_by_role("button", name="Brief selected").click()

    await expect(page.get_by_role("heading", name="Briefed", exact=True)).to_be_visible()
    for name in names[:2]:
        message = page.get_by_label(f"Message for {name}")
        await expect(message).to_have_js_property("readOnly", True)
        assert (await message.input_value()).startswith(f"Hi {name} (@{name.split()[0].lower()}_{tag}),")
        link = page.get_by_role("link", name=f"Open in your mail app to {name.split()[0].lower()}.{tag}@example.org")
        href = await link.get_attribute("href")
        assert href.startswith(f"mailto:{name.split()[0].lower()}.{tag}@example.org?subject=") and "&body=Hi%20" in href
    await expect(page.locator("#refused")).to_have_count(0)
    await page.screenshot(path=tmp_path / "briefed-desktop.png", full_page=True)

    await page.get_by_role("link", name="Back to the suggestions").click()
    for name in names[:2]:
        await expect(suggestions.get_by_role("link", name=name)).to_have_count(0)  # they left the suggestions

    await page.goto(f"/incidents/{incident['id']}")
    await expect(advocates.locator("#fig-briefed")).to_have_text("2")
    await advocates.get_by_label(f"Outcome for {names[0]} (v1)", exact=True).select_option("helped")
    await advocates.get_by_role("button", name=f"Save the outcome for {names[0]} (v1)").click()
    await expect(page.get_by_text(f"Briefing of {names[0]} (v1): helped.")).to_be_visible()
    await expect(advocates.locator("#fig-helped")).to_have_text("1")

    # The briefing is on the member's one timeline, with its outcome.
    await page.goto(f"/members/{members[names[0]]}")
    events = page.locator("#timeline li.event")
    await expect(events.first).to_have_class(re.compile(r"\bevent-briefing\b"))
    await expect(events.first).to_contain_text(title)
    await expect(events.first).to_contain_text("helped")
    await expect(page.locator("#briefings")).to_have_count(0)

    await phone.goto(f"/incidents/{incident['id']}#advocates")
    scroll_width, inner_width = await no_horizontal_scroll(phone)
    assert scroll_width <= inner_width, f"horizontal scroll at phone width: {scroll_width}px > {inner_width}px"
    await phone.locator("#advocates").screenshot(path=tmp_path / "advocates-phone.png")

    await set_two_person_approval(page, on=True)
    print(f"screenshots: {tmp_path}")
