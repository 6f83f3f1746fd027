"""The counter shows a business return's PO number, company and VAT id on the intake page
and on the receipt."""

from __future__ import annotations

import re

import sqlalchemy as sa

from hub.business.models import BusinessBuyer
from hub.orders.models import Order
from tests.integration.business_helpers import BUSINESS_ORDER, business_order_payload
from tests.integration.factories import seed_stores, store_user
from tests.integration.test_store_app import _decide, _scan, _sign_in, _tablet


def test_the_receipt_carries_the_po_number(client, api_key, session):
    seed_stores(session)
    admin = api_key("admin")
    assert client.post("/api/v1/orders", json=business_order_payload(),
                       headers=admin).status_code in (200, 201)
    order = session.scalar(sa.select(Order).where(Order.external_id == BUSINESS_ORDER))
    session.add(BusinessBuyer(order_id=order.id, po_number="PO-<b>77</b>",
                              company="Muster GmbH", vat_id="DE123456789"))
    session.commit()
    rma = client.post("/api/v1/returns", headers=admin, json={
        "channel": "amazon-business", "order_id": BUSINESS_ORDER, "latitude": 40.758,
        "longitude": -73.9855, "lines": [{"item_id": "44444444444444", "quantity": 1,
                                          "reason": "changed_mind.better_price"}]}).get_json()
    store_user(session, "NYC-1", "clerk", "101", "2468")
    store_user(session, "NYC-1", "supervisor", "900", "9090")
    _tablet(client, session)
    assert _sign_in(client).status_code == 302
    scanned = _scan(client, rma["voucher"]["short_code"])
    overview = client.get(scanned.headers["Location"]).get_data(as_text=True)
    assert "Muster GmbH" in overview and "DE123456789" in overview
    assert "PO-&lt;b&gt;77&lt;/b&gt;" in overview  # escaped, never markup
    unit_path = re.search(r'href="(/store/intakes/\d+/units/\d+)"', overview).group(1)
    saved = _decide(client, unit_path)
    assert saved.status_code == 303
    intake_path = saved.headers["Location"]
    # A third of the buyer's units back: above the 10 % alert, so a supervisor approves.
    done = client.post(intake_path.split("?")[0] + "/complete", data={
        "supervisor_staff": "900", "supervisor_pin": "9090"})
    assert done.status_code == 303, done.get_data(as_text=True)[:500]
    receipt = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Receipt RC-" in receipt and "data-po-number" in receipt
    assert "PO-&lt;b&gt;77&lt;/b&gt;" in receipt and "Muster GmbH" in receipt
