"""Importing in a real browser: upload a small CSV, map a column the guess did not know, start the import, watch
the job page (it refreshes itself, no script needed) until the job is done, and download the rejected rows."""

from __future__ import annotations

import csv
import io
import re
import secrets

import pytest
from playwright.async_api import expect

from tests.e2e.test_login_flow import sign_in

pytestmark = pytest.mark.browser


async def test_upload_map_watch_and_download_the_rejected_rows(new_page, server, tmp_path):
    tag = secrets.token_hex(3)
    path = tmp_path / f"mentions-{tag}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user", "date", "message", "feeling"])
        writer.writerow([f"ana_{tag}", "2026-01-05T10:00:00Z", "Great crew today", "yay"])
        writer.writerow([f"ben_{tag}", "last tuesday", "Where is my bag", "grr"])  # line 3: rejected
        writer.writerow([f"ben_{tag}", "2026-01-06T08:15:00Z", "Bag found, thanks", "yay"])

    page = await new_page()
    await sign_in(page, server.email, server.password)
    await page.get_by_role("link", name="Imports").click()
    await page.get_by_label("CSV file").set_input_files(str(path))
    await page.get_by_label("The file holds").select_option("interactions")
    await page.get_by_role("button", name="Upload and preview").click()

    await expect(page.get_by_role("heading", level=1)).to_contain_text(path.name)
    await expect(page.locator("table.import-preview")).to_contain_text("Great crew today")
    # "feeling" is no name the guess knows: map it by hand, and say what its words mean.
    await expect(page.get_by_label("Field fed by feeling")).to_have_value("ignore")
    await page.get_by_label("Field fed by feeling").select_option("sentiment")
    await page.get_by_label("Platform (when the file has none)").select_option("instagram")
    await page.get_by_label("Sentiment values").fill("yay = positive\ngrr = negative")
    await page.get_by_role("button", name="Start the import").click()

    await expect(page).to_have_url(re.compile(re.escape(server.url) + r"/imports/\d+$"))
    status = page.locator("#import-status")
    await expect(status).to_have_attribute("data-status", "done", timeout=30_000)
    await expect(page.locator("#count-interactions_added")).to_have_text("2")
    await expect(page.locator("#count-rejected")).to_have_text("1")
    await expect(page.locator("table.import-issues")).to_contain_text("last tuesday")

    async with page.expect_download() as info:
        await page.locator("#rejected-download").click()
    download = await info.value
    rows = list(csv.DictReader(io.StringIO((await download.path()).read_text(encoding="utf-8"))))
    assert [(r["user"], r["_line"], r["_column"], r["_problem"]) for r in rows] == [
        (f"ben_{tag}", "3", "date", "rejected")
    ]
    assert "last tuesday" in rows[0]["_reason"]

    await page.get_by_role("link", name="Imports").first.click()
    await expect(page.locator("table.imports-list")).to_contain_text(path.name)
