"""The clerk checks that the item handed in is the item ordered (issue 16, part 3), through the
real app: the item's box is filmed by the tablet's camera (a generated EAN-13 in Chromium's
fake camera stream), zxing-wasm reads it, the wrong item is shown at once, refused as that
unit without a supervisor and accepted with one; the right item passes."""

from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa

from hub.items.gtin import check_digit
from hub.items.models import ItemCheck
from tests.journeys.barcodes import ean13_video
from tests.journeys.clerk_helpers import (
    TABLET_LANDSCAPE,
    camera_browser,
    enrol_and_sign_in,
    issue_return,
    new_order,
    tablet_context,
)


def _ean(stem: str) -> str:
    return stem + check_digit(stem)


def _order_with_barcodes(stack, tshirt: str) -> dict:
    stem = f"{secrets.randbelow(10**9):09d}"
    return new_order(stack, [
        {"item_id": f"8{stem}2001", "sku": "TEE-ORG-M", "title": "Organic cotton T-shirt (M)",
         "category": "apparel", "size_class": "small", "quantity": 1, "item_price": "25.00",
         "item_tax": "2.22", "gtin": tshirt},
        {"item_id": f"8{stem}2002", "sku": "SOCKS-3", "title": "Socks, 3 pairs",
         "category": "apparel", "size_class": "small", "quantity": 1, "item_price": "12.00",
         "item_tax": "1.06", "gtin": _ean("50123456" + stem[:4])}])


def _open_the_unit(page, stack, rma) -> None:
    page.fill("#code", rma["voucher"]["short_code"])
    page.click("#code-form button[type=submit]")
    page.wait_for_url("**/store/intakes/**")
    page.click("text=Organic cotton T-shirt (M)")
    page.wait_for_url("**/units/**")


def _accept_as_new(page) -> None:
    page.click("label.choice:has(input[name=grade][value=A])")
    page.click("label.choice:has(input[name=disposition][value=restock])")
    page.click("label.choice:has(input[name=decision][value=accept])")
    page.click("#unit-form button[type=submit]")


def _checks(stack, result: str) -> int:
    with stack.session() as s:
        return s.scalar(sa.select(sa.func.count(ItemCheck.id)).where(ItemCheck.result == result))


def test_a_wrong_item_is_caught_by_its_barcode_and_needs_a_supervisor(
        stack, browser, screenshot, tmp_path):
    tshirt = _ean(f"40{secrets.randbelow(10**10):010d}")
    wrong = _ean("978020137962")  # a book's EAN-13: on no line of the order
    rma = issue_return(stack, _order_with_barcodes(stack, tshirt), item=0,
                       reason="fit.too_small")
    chromium = camera_browser(browser, ean13_video(wrong, tmp_path / "wrong.y4m"))
    try:
        page = tablet_context(chromium, stack, TABLET_LANDSCAPE).new_page()
        enrol_and_sign_in(page, stack)
        _open_the_unit(page, stack, rma)
        assert f"Expected barcode: {tshirt}" in page.inner_text("#item-card")
        page.click("#item-start-camera")  # the camera films the book's barcode
        page.wait_for_selector("#item-check[data-result=mismatch]", timeout=30_000)
        assert f"Wrong item: scanned {wrong}" in page.inner_text("#item-result")
        screenshot(page, "store-item-mismatch")
        _accept_as_new(page)  # the clerk tries to accept it anyway
        assert "not the item ordered" in page.inner_text("main")
        staff, pin = stack.seed["supervisor"]
        page.fill("#item-sup-staff", staff)
        page.fill("#item-sup-pin", "0000")
        page.click("#item-approve-form button[type=submit]")
        page.wait_for_selector("#item-check >> text=PIN is wrong")
        page.fill("#item-sup-staff", staff)
        page.fill("#item-sup-pin", pin)
        page.click("#item-approve-form button[type=submit]")
        page.wait_for_selector("#item-approved")
        _accept_as_new(page)
        page.click("#complete-form button[type=submit]")
        page.wait_for_url("**/receipt")
        assert rma["number"] in page.inner_text("main")
    finally:
        chromium.close()


@pytest.mark.parametrize("locale, right_item", [("en-US", "Right item"),
                                                ("de-DE", "Richtiger Artikel"),
                                                ("ja-JP", "正しい商品です")])
def test_the_right_item_passes_its_barcode_check(stack, browser, screenshot, tmp_path,
                                                 locale, right_item):
    tshirt = _ean(f"40{secrets.randbelow(10**10):010d}")
    rma = issue_return(stack, _order_with_barcodes(stack, tshirt), item=0,
                       reason="fit.too_small")
    before = _checks(stack, "match")
    chromium = camera_browser(browser, ean13_video(tshirt, tmp_path / "right.y4m"))
    try:
        page = tablet_context(chromium, stack, TABLET_LANDSCAPE, locale=locale).new_page()
        enrol_and_sign_in(page, stack)
        _open_the_unit(page, stack, rma)
        page.click("#item-start-camera")
        page.wait_for_selector("#item-check[data-result=match]", timeout=30_000)
        assert f"{right_item}" in page.inner_text("#item-result")
        assert tshirt in page.inner_text("#item-result")
        if locale == "en-US":
            screenshot(page, "store-item-match")
        _accept_as_new(page)
        page.click("#complete-form button[type=submit]")
        page.wait_for_url("**/receipt")
        assert _checks(stack, "match") == before + 1
    finally:
        chromium.close()
