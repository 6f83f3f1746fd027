"""A newcomer on a phone-sized screen: from the portal's first page to a voucher, in the real
demo (`homing demo`) driven by Debian's Chromium through Playwright."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import time
import urllib.request

import pytest
from PIL import Image

from tests.integration.test_demo import HOMING, _env, _free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    instance = tmp_path_factory.mktemp("demo")
    port = _free_port()
    server = subprocess.Popen([HOMING, "demo", "--port", str(port)], env=_env(instance),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{url}/api/v1/health", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the demo did not start")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI (.ci/run installs Debian's chromium)")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield browser
        browser.close()


@pytest.mark.browser
def test_portal_to_voucher_on_a_phone(demo_url, browser):
    import zxingcpp

    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True,
                            locale="en-US")
    page.goto(f"{demo_url}/return/")
    page.fill("#order_id", "114-3941689-8772232")
    page.fill("#proof", "99999")
    page.click("button[type=submit]")
    assert "could not find an order" in page.inner_text("[role=alert]")
    page.fill("#proof", "10001")
    page.click("button[type=submit]")
    page.wait_for_url("**/return/items")
    headphones = page.locator("fieldset").first
    headphones.locator("select[name^=qty]").select_option("1")
    headphones.locator("select[name^=reason]").select_option("fit.too_small")
    page.wait_for_function("document.querySelector('#quote').innerText.includes('$')")
    assert "Expected refund: $163.30" in page.inner_text("#quote")
    page.click("text=Choose a store")
    page.wait_for_url("**/return/stores")
    first_store = page.locator("label.store strong").first.inner_text()
    page.click("text=Get my return code")
    page.wait_for_url("**/return/r/**")
    assert first_store in page.inner_text("main")
    short_code = page.inner_text("[data-short-code]")
    assert len(short_code) == 12 and short_code[4] == "-"
    # The QR on the page decodes to a signed Homing voucher.
    qr = page.locator("img[alt='Return QR code']")
    image = Image.open(io.BytesIO(qr.screenshot()))
    [decoded] = zxingcpp.read_barcodes(image)
    assert decoded.text.startswith("HV1.")
    # The status page tells the truth: issued, not yet dropped off.
    assert page.locator("[data-step=issued].done").count() == 1
    assert page.locator("[data-step=dropped_off].done").count() == 0
    page.close()
