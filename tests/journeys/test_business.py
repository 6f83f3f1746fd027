"""Amazon Business: a German company returns part of a business order through the portal,
sees its PO number on the voucher, hands the units in at the counter; Amazon refunds it,
and the VAT credit note goes to Amazon as a PDF with the UPLOAD_VAT_INVOICE feed. The real
stack: gunicorn, the RQ worker, the sandbox over HTTP with python-amazon-sp-api."""

from __future__ import annotations

import hashlib
import secrets

import pytest
import sqlalchemy as sa

from tests.integration.business_helpers import BUYER_INFO, DE, business_order_payload
from tests.journeys.test_shopper import (
    PHONE,
    _find_order,
    _hand_in,
    _push_until,
    _qr_token,
    _rma,
    _store_point,
)

PO_LABEL = {"en-US": "PO number", "de-DE": "Bestellnummer", "ja-JP": "注文書番号"}


def _business_order(stack) -> str:
    from hub.orders.models import Order
    from hub.sandbox.fixtures import order_fixture

    order_id = f"302-{secrets.randbelow(10**7):07d}-{secrets.randbelow(10**7):07d}"
    response = stack.api("POST", "/api/v1/orders", json=business_order_payload(order_id))
    assert response.status_code in (200, 201), response.text
    with stack.session() as s:
        order = s.scalar(sa.select(Order).where(Order.external_id == order_id))
        fixture = order_fixture(order)
    # Amazon's side of it: a verified business buyer with a PO number and a VAT id.
    stack.emu.add_orders([{**fixture, "IsBusinessOrder": True, "BuyerInfo": BUYER_INFO}])
    return order_id


def _credit_note(stack, order_id: str):
    from hub.creditnotes.models import CreditNote
    from hub.orders.models import Order

    with stack.session() as s:
        note = s.scalar(sa.select(CreditNote).join(Order, Order.id == CreditNote.order_id)
                        .where(Order.external_id == order_id).order_by(CreditNote.id.desc()))
        if note is not None:
            s.expunge(note)
        return note


@pytest.mark.parametrize("locale", ["en-US", "de-DE", "ja-JP"])
def test_a_business_return_gets_its_po_number_and_a_vat_credit_note_at_amazon(
        stack, emu, new_page, screenshot, locale):
    order_id = _business_order(stack)
    stack.reset_rate_limits()
    page = new_page(locale=locale, viewport=PHONE, geolocation=_store_point(),
                    permissions=["geolocation"])

    # The buyer finds the order by its postal code and returns one drill.
    _find_order(page, stack, order_id, proof="10115")
    page.wait_for_url("**/return/items")
    drill = page.locator("fieldset").first
    drill.locator("select[name^=qty]").select_option("1")
    drill.locator("select[name^=reason]").select_option("changed_mind.better_price")
    page.click("#locate")
    page.wait_for_function("document.getElementById('lat').value !== ''")
    page.click("form#items button[type=submit]")
    page.wait_for_url("**/return/stores")
    page.click("form button[type=submit]")
    page.wait_for_url("**/return/r/**")
    number = page.url.split("/r/")[1].split("?")[0]

    # The voucher carries the PO number, the company and the VAT id Amazon gave through a
    # Restricted Data Token.
    assert page.inner_text("[data-po-number]") == "PO-4711-2026"
    assert page.inner_text("[data-company]") == "Muster Maschinenbau GmbH"
    assert page.inner_text("[data-vat-id]") == "DE123456789"
    assert PO_LABEL[locale] in page.inner_text("[data-business-buyer]")
    if locale == "de-DE":
        screenshot(page, "business-voucher")
    rdts = emu.requests.get("createRestrictedDataToken", 0)
    assert rdts >= 1

    # The counter takes it; Amazon refunds it.
    rma = _rma(stack, number)
    from hub.stores.models import Store

    with stack.session() as s:
        store_code = s.get(Store, rma.chosen_store_id).code
    _hand_in(stack, _qr_token(page), store_code, {})
    refund = _push_until(stack, number, ("succeeded",), "Amazon to accept the refund")

    # Its credit note: numbered with the refund, uploaded by the worker, accepted by Amazon.
    def accepted():
        note = _credit_note(stack, order_id)
        if note is None:
            return None
        if note.status != "accepted":
            stack.run_job("vat-credit-notes")
            note = _credit_note(stack, order_id)
        return note if note.status == "accepted" else None

    note = stack.wait_for(accepted, timeout=90, what="the credit note to be accepted", every=0.5)
    assert note.total_amount == refund.amount and note.po_number == "PO-4711-2026"
    [sent] = [u for u in emu.state()["vat_uploads"] if u["options"]["orderid"] == order_id]
    assert sent["marketplace_id"] == DE and sent["is_pdf"] and sent["accepted"]
    assert sent["options"]["documenttype"] == "CreditNote"
    assert sent["options"]["invoicenumber"] == note.number
    assert sent["options"]["totalvatamount"] == "19.00"
    assert sent["sha256"] == note.sha256 == hashlib.sha256(note.pdf).hexdigest()
