"""The counter (issue 16) at the server: walk-in returns found by order number and proof,
the one-tap fast path, one visit with one receipt and one e-mail, and approval tiers."""

from __future__ import annotations

import re

import sqlalchemy as sa

from hub.counter.models import ApprovalRequest, CounterVisit
from hub.intake.models import Intake
from hub.outbox.models import OutboxMessage
from hub.refunds.models import Refund
from hub.returns.models import ReturnAuthorization, ReturnLine
from tests.conftest import count
from tests.integration.factories import create_order, issue_return, seed_stores, store_user
from tests.integration.test_store_app import _sign_in, _tablet

ORDER = "114-1234567-1234567"
TSHIRT = [{"item_id": "22222222222222", "quantity": 1, "reason": "fit.too_small"}]


def _counter(client, api_key, session):
    seed_stores(session)
    create_order(client, api_key("admin"))
    store_user(session, "NYC-1", "clerk", "101", "2468")
    store_user(session, "NYC-1", "supervisor", "900", "9090")
    _tablet(client, session)
    assert _sign_in(client).status_code == 302


def _intake_id(response) -> int:
    return int(re.search(r"/store/intakes/(\d+)", response.headers["Location"]).group(1))


def test_a_wrong_proof_is_answered_as_an_unknown_order_and_counts_per_tablet(
        client, api_key, session):
    _counter(client, api_key, session)
    unknown = client.post("/store/walk-in", data={"order_id": "114-0000000-0000000",
                                                  "proof": "10001"})
    wrong = client.post("/store/walk-in", data={"order_id": ORDER, "proof": "99999"})
    assert unknown.status_code == wrong.status_code == 404
    message = "No order matches this order number and postal code or e-mail"
    assert message in unknown.get_data(as_text=True) and message in wrong.get_data(as_text=True)
    for _ in range(3):
        assert client.post("/store/walk-in", data={"order_id": ORDER, "proof": "x"}
                           ).status_code == 404
    # The sixth miss from this tablet is refused, even with the right proof.
    limited = client.post("/store/walk-in", data={"order_id": ORDER, "proof": "10001"})
    assert limited.status_code == 429
    assert "Too many look-ups from this tablet" in limited.get_data(as_text=True)


def test_hostile_walk_in_input_is_refused_plainly(client, api_key, session):
    _counter(client, api_key, session)
    for data in ({}, {"order_id": "x" * 5000, "proof": ""}, {"order_id": "' OR 1=1 --",
                                                              "proof": "<script>"}):
        response = client.post("/store/walk-in", data=data)
        assert response.status_code in (404, 422), response.status_code
    assert client.get("/store/walk-in/order").status_code == 302  # no order found yet


def test_walk_in_issues_the_return_and_opens_its_intake_in_one_step(client, api_key, session):
    _counter(client, api_key, session)
    found = client.post("/store/walk-in", data={"order_id": ORDER, "proof": "10001"})
    assert found.status_code == 303
    page = client.get("/store/walk-in/order").get_data(as_text=True)
    assert "Headphones" in page and "Return by" in page
    line_id = int(re.search(r'name="qty-(\d+)"', page).group(1))
    nothing = client.post("/store/walk-in/order", data={f"qty-{line_id}": "0"})
    assert nothing.status_code == 422 and count(session, ReturnAuthorization) == 0
    issued = client.post("/store/walk-in/order", data={
        f"qty-{line_id}": "2", f"reason-{line_id}": "fit.too_small", "idempotency_key": "w1"})
    assert issued.status_code == 303, issued.get_data(as_text=True)
    intake = session.get(Intake, _intake_id(issued))
    rma = session.get(ReturnAuthorization, intake.rma_id)
    assert rma.source == "counter" and len(rma.lines) == 2 and intake.status == "open"
    # A walk-in hands the units in now: no voucher e-mail to the shopper.
    assert session.scalar(sa.select(sa.func.count(OutboxMessage.id)).where(
        OutboxMessage.dedupe_key == f"return:{rma.number}:voucher")) == 0


def test_an_item_outside_the_window_is_taken_with_a_reason_and_needs_a_supervisor(
        client, api_key, session):
    seed_stores(session)
    create_order(client, api_key("admin"), delivered_days_ago=45)
    store_user(session, "NYC-1", "clerk", "101", "2468")
    _tablet(client, session)
    _sign_in(client)
    client.post("/store/walk-in", data={"order_id": ORDER, "proof": "shopper@example.com"})
    page = client.get("/store/walk-in/order").get_data(as_text=True)
    assert "return window closed" in page and "Take it anyway" in page
    tshirt = int(re.findall(r'name="qty-(\d+)"', page)[1])
    form = {f"qty-{tshirt}": "1", f"reason-{tshirt}": "fit.too_small",
            f"override-{tshirt}": "yes"}
    no_reason = client.post("/store/walk-in/order", data=form)
    assert no_reason.status_code == 422 and count(session, ReturnAuthorization) == 0
    issued = client.post("/store/walk-in/order", data={**form, "override_reason": "gift"})
    assert issued.status_code == 303
    intake_id = _intake_id(issued)
    unit = session.scalar(sa.select(ReturnLine.id))
    client.post(f"/store/intakes/{intake_id}/units/{unit}/as-new", data={})
    refused = client.post(f"/store/intakes/{intake_id}/complete", data={})
    assert refused.status_code == 403
    assert "outside the return policy" in refused.get_data(as_text=True)


def test_as_new_is_one_tap_per_unit(client, api_key, session):
    _counter(client, api_key, session)
    rma = issue_return(client, api_key("admin"), TSHIRT)
    opened = client.post("/store/scan", data={"code": rma["voucher"]["short_code"]})
    intake_id = _intake_id(opened)
    unit = session.scalar(sa.select(ReturnLine.id))
    tapped = client.post(f"/store/intakes/{intake_id}/units/{unit}/as-new",
                         data={"idempotency_key": "t1"})
    again = client.post(f"/store/intakes/{intake_id}/units/{unit}/as-new",
                        data={"idempotency_key": "t1"})
    assert tapped.status_code == again.status_code == 303
    line = session.get(ReturnLine, unit)
    session.refresh(line)
    assert (line.acceptance_status, line.grade, line.disposition) == ("accepted", "A", "restock")
    done = client.post(f"/store/intakes/{intake_id}/complete", data={})
    assert done.status_code == 303 and count(session, Refund) == 1


def test_two_orders_in_one_visit_make_one_receipt_and_one_email(client, api_key, session):
    _counter(client, api_key, session)
    admin = api_key("admin")
    create_order(client, admin, order_id="114-7654321-7654321")
    first = issue_return(client, admin, TSHIRT)
    second = issue_return(client, admin, TSHIRT, order_id="114-7654321-7654321")
    for rma in (first, second):
        intake_id = _intake_id(client.post("/store/scan",
                                           data={"code": rma["voucher"]["short_code"]}))
        unit = session.scalar(sa.select(ReturnLine.id).join(ReturnAuthorization).where(
            ReturnAuthorization.number == rma["number"]))
        client.post(f"/store/intakes/{intake_id}/units/{unit}/as-new", data={})
        assert client.post(f"/store/intakes/{intake_id}/complete", data={}).status_code == 303
    closed = client.post("/store/visit/close", data={})
    assert closed.status_code == 303
    receipt = client.get(closed.headers["Location"]).get_data(as_text=True)
    assert first["number"] in receipt and second["number"] in receipt and "RV-" in receipt
    assert count(session, Refund) == 2  # each return keeps its own refund
    events = [m.payload.get("event") for m in session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.topic == "shopper.notify"))]
    assert events.count("visit_receipt") == 1 and "dropped_off" not in events
    assert session.scalar(sa.select(CounterVisit.status)) == "closed"


def test_a_clerk_cannot_approve_and_is_told_who_may(client, api_key, session):
    _counter(client, api_key, session)
    rma = issue_return(client, api_key("admin"))  # one headphone: 108.86 > USD 50
    intake_id = _intake_id(client.post("/store/scan", data={"code": rma["voucher"]["short_code"]}))
    unit = session.scalar(sa.select(ReturnLine.id))
    client.post(f"/store/intakes/{intake_id}/units/{unit}/as-new", data={})
    refused = client.post(f"/store/intakes/{intake_id}/complete",
                          data={"supervisor_staff": "101", "supervisor_pin": "2468"})
    assert refused.status_code == 409
    assert "Who may approve it: a store supervisor" in refused.get_data(as_text=True)
    queued = client.post(f"/store/intakes/{intake_id}/request-approval", data={})
    assert queued.status_code == 303
    request = session.scalar(sa.select(ApprovalRequest))
    assert (request.role, request.status, request.reasons) == ("supervisor", "pending",
                                                               ["amount"])
    assert request.due_at > request.requested_at
    client.post("/store/logout")
    _sign_in(client, "900", "9090")
    approved = client.post(f"/store/intakes/{intake_id}/approval", data={"approve": "yes"})
    assert approved.status_code == 303
    session.refresh(request)
    assert request.status == "approved" and count(session, Refund) == 1


def test_above_the_stores_tiers_the_request_goes_to_hq_with_a_clock(client, api_key, session,
                                                                     app):
    from tests.integration.hq_helpers import hq_user, sign_in

    seed_stores(session)
    admin = api_key("admin")
    create_order(client, admin, lines=[{
        "item_id": "33333333333333", "sku": "CAMERA-1", "title": "Camera", "quantity": 1,
        "category": "electronics", "item_price": "1499.00", "item_tax": "133.04"}])
    store_user(session, "NYC-1", "clerk", "101", "2468")
    store_user(session, "NYC-1", "supervisor", "900", "9090")
    _tablet(client, session)
    _sign_in(client)
    rma = issue_return(client, admin, [{"item_id": "33333333333333", "quantity": 1,
                                        "reason": "changed_mind.better_price"}])
    intake_id = _intake_id(client.post("/store/scan", data={"code": rma["voucher"]["short_code"]}))
    unit = session.scalar(sa.select(ReturnLine.id))
    client.post(f"/store/intakes/{intake_id}/units/{unit}/as-new", data={})
    refused = client.post(f"/store/intakes/{intake_id}/complete",
                          data={"supervisor_staff": "900", "supervisor_pin": "9090"})
    assert refused.status_code == 409  # USD 1,632.04 is above a supervisor's USD 1,000
    assert "Who may approve it: HQ operations" in refused.get_data(as_text=True)
    assert count(session, Refund) == 0
    client.post(f"/store/intakes/{intake_id}/request-approval", data={})
    request = session.scalar(sa.select(ApprovalRequest))
    assert request.role == "hq"
    assert (request.due_at - request.requested_at).total_seconds() == 240 * 60
    from datetime import timedelta

    from hub.jobs.deadlines import overdue

    late = [o for o in overdue(session, request.due_at + timedelta(minutes=1))
            if o.kind == "approval_request"]
    assert [(o.ref, o.owner) for o in late] == [(str(request.id), "hq")]  # the clock ran out
    client.post("/store/logout")
    hq = app.test_client()
    hq_user(session, "hq_ops", email="ops@hq.example")
    sign_in(hq, "ops@hq.example")
    page = hq.get("/hq/approvals").get_data(as_text=True)
    assert rma["number"] in page
    decided = hq.post(f"/hq/approvals/{request.id}", data={"approve": "yes"})
    assert decided.status_code == 303
    session.refresh(request)
    assert request.status == "approved" and count(session, Refund) == 1
