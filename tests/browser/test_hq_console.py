"""HQ on a desktop, in the real demo driven by Debian's Chromium: sign in, read the
dashboard, switch the range without a page reload (htmx), drill into a return and export a
CSV whose numbers agree with the page."""

from __future__ import annotations

import csv
import os
import shutil

import pytest

from hub.demo.seed import DEMO_HQ_ADMIN
from tests.browser.conftest import wait_for_js

DESKTOP = {"width": 1440, "height": 1000}


@pytest.fixture
def page(browser, demo_url):
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()


def _kpi(page, name: str) -> str:
    return page.locator(f'[data-kpi="{name}"]').inner_text().strip()


def test_sign_in_dashboard_drill_down_and_csv(page, demo_url, tmp_path):
    page.goto(f"{demo_url}/hq/")
    assert "/hq/login" in page.url
    page.fill("#email", DEMO_HQ_ADMIN[0])
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text().startswith("E-mail or password is wrong")
    page.fill("#password", DEMO_HQ_ADMIN[1])
    page.click("button[type=submit]")
    page.wait_for_selector('[data-kpi="intakes"]')
    week = int(_kpi(page, "intakes"))
    assert week > 0  # the demo's month of sample history
    assert page.locator("svg.chart circle").count() > 0  # busy stores on the offline map
    shots = os.environ.get("HOMING_SCREENSHOT_DIR")
    page.screenshot(path=str(tmp_path / "hq-dashboard.png"), full_page=False)
    if shots:
        shutil.copy(tmp_path / "hq-dashboard.png", os.path.join(shots, "hq-dashboard.png"))

    # A wider range swaps only the panel: the page (and this marker) stays.
    page.evaluate("window.__stay = 'same page'")
    page.click("button[value='30d']")
    tile = "document.querySelector('[data-kpi=\"intakes\"]')"
    wait_for_js(page, f"{tile} && Number({tile}.innerText) > {week}")
    assert page.evaluate("window.__stay") == "same page"
    month = int(_kpi(page, "intakes"))

    # The CSV of the month agrees with the tile.
    with page.expect_download() as download:
        page.click('a[data-export="stores"]')
    path = tmp_path / "stores.csv"
    download.value.save_as(path)
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    assert sum(int(r["drop_offs"]) for r in rows) == month
    assert rows[0].keys() >= {"store", "drop_offs", "refund_value", "currency"}

    # Drill into a return from the search box: voucher to refund on one page.
    page.fill("#q", "RS00000003")
    page.press("#q", "Enter")
    page.wait_for_selector("h1:has-text('RS00000003')")
    body = page.locator("main").inner_text()
    assert "Timeline" in body and "Units" in body and "Refund attempts" in body

    # A store code that is not a return is explained, not an error page.
    page.fill("#q", "NO-SUCH-RETURN")
    page.press("#q", "Enter")
    assert "No return matches NO-SUCH-RETURN." in page.locator(".notice").inner_text()
