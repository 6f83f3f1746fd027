"""A shopper's data-subject requests: `homing shoppers export EMAIL` shows what Homing keeps,
`homing shoppers erase EMAIL` removes the contact details and position (the return and its
money stay), audited without the address."""

from __future__ import annotations

import json

from hub.audit.models import AuditEvent
from hub.orders.models import Order
from hub.returns.models import ReturnAuthorization


def test_export_then_erase(runner, session, admin, rma):
    exported = runner.invoke(args=["shoppers", "export", "Shopper@Example.com"])
    assert exported.exit_code == 0, exported.output
    data = json.loads(exported.output)
    assert [o["postal_code"] for o in data["orders"]] == ["10001"]
    assert [r["number"] for r in data["returns"]] == [rma["number"]]
    erased = runner.invoke(args=["shoppers", "erase", "shopper@example.com", "--yes"])
    assert erased.exit_code == 0 and "1 orders, 1 returns" in erased.output
    order = session.query(Order).one()
    assert (order.buyer_email, order.buyer_name, order.ship_postal_code) == ("", "", "")
    kept = session.query(ReturnAuthorization).one()
    assert kept.shopper_email == "" and kept.origin_latitude is None
    assert kept.number == rma["number"] and kept.expected_refund > 0  # the books stay
    event = session.query(AuditEvent).filter_by(action="shopper.erased").one()
    assert "example.com" not in json.dumps(event.after) + str(event.subject_id)
    again = json.loads(runner.invoke(args=["shoppers", "export", "shopper@example.com"]).output)
    assert again["orders"] == [] and again["returns"] == []
