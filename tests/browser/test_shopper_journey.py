"""A newcomer on a phone-sized screen: from the portal's first page to a voucher, in the real
demo (`homing demo`) driven by Debian's Chromium through Playwright."""

from __future__ import annotations

import io

import pytest
from PIL import Image


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
    page.wait_for_function("() => document.querySelector('#quote').innerText.includes('$')")
    assert "Expected refund: $163.30" in page.inner_text("#quote")
    page.click("text=Choose a store")
    page.wait_for_url("**/return/stores")
    first_store = page.locator(".card.store strong").first.inner_text()
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
