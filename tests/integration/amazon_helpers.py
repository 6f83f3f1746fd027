"""Shared set-up for the Amazon pipeline tests: the sandbox on a real port, a connector to
it, and completed intakes with refund intents."""

from __future__ import annotations

import sqlalchemy as sa

from hub.amazon.connector import SANDBOX_CREDENTIALS, Connector
from hub.amazon.ratelimit import Buckets
from hub.orders.models import Order
from hub.outbox import service as outbox
from hub.refunds.models import Refund
from hub.sandbox.fixtures import order_fixture
from tests.integration.factories import create_order, issue_return, seed_stores, store_user

SELLER = "A1DEMOSELLER"
ACCEPT = {"reception": "received", "decision": "accept", "grade": "A", "disposition": "restock"}


def connector(sandbox) -> Connector:
    return Connector(seller_id=SELLER, endpoint=sandbox.url, lwa_url=sandbox.url,
                     credentials=SANDBOX_CREDENTIALS, buckets=Buckets())


def completed_refund(client, api_key, session, sandbox, *, order_id="114-1234567-1234567",
                     lines=None, seed=True, drain=True, seller_id=SELLER,
                     order: dict | None = None) -> Refund:
    """An order known to Homing and to the sandbox, returned and accepted at a store; the
    outbox delivered, so the refund is queued for Amazon."""
    if seed:
        seed_stores(session)
        store_user(session, "NYC-1", "supervisor", staff_number="201", pin="9753")
    admin = api_key("admin")
    create_order(client, admin, order_id=order_id, **{"seller_id": seller_id, **(order or {})})
    rma = issue_return(client, admin, lines, order_id=order_id)
    clerk = api_key("clerk", "NYC-1")
    intake = client.post("/api/v1/intakes", json={"voucher": rma["voucher"]["token"]},
                         headers=clerk).get_json()
    for unit in intake["units"]:
        response = client.post(f"/api/v1/intakes/{intake['id']}/units/{unit['unit_id']}",
                               json=ACCEPT, headers=clerk)
        assert response.status_code == 200, response.get_json()
    done = client.post(f"/api/v1/intakes/{intake['id']}/complete", headers=clerk,
                       json={"supervisor": {"staff_number": "201", "pin": "9753"}})
    assert done.status_code == 200, done.get_json()
    order = session.scalar(sa.select(Order).where(Order.external_id == order_id))
    sandbox.emulator.add_orders([order_fixture(order)])
    if drain:
        outbox.drain(session)
        session.commit()
    return session.scalar(sa.select(Refund).where(Refund.order_id == order.id))
