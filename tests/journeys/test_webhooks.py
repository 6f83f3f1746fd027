"""The brand's till and ERP hear what happened, through the real stack (gunicorn, the RQ
worker, PostgreSQL, the sandbox over HTTP): HQ adds an endpoint in the console and copies its
secret once; a receiver of the test's own, over HTTP, gets every outcome event signed with it
(return issued, intake completed, stock moved by the restock, refund accepted and refused by
Amazon, store credit issued and redeemed); its first answer is a 500, which never holds up
the intake and is retried. The web shop's story of store credit with a bonus rides along:
issued at the counter, redeemed twice up to its balance, refused beyond it."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from hub.refunds.models import Refund
from hub.returns.models import ReturnAuthorization
from hub.webhooks.events import EVENT_NAMES
from tests.journeys.clerk_helpers import (
    DESKTOP,
    check_in_over_the_api,
    issue_return,
    new_order,
    sign_in_to_hq,
)
from tests.webhook_receiver import Receiver


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


def _refund_status(stack, number: str) -> str | None:
    with stack.session() as s:
        return s.scalar(sa.select(Refund.status).join(
            ReturnAuthorization, ReturnAuthorization.id == Refund.rma_id)
            .where(ReturnAuthorization.number == number))


def _push_until(stack, number: str, status: str) -> None:
    def reached():
        stack.run_job("outbox-relay")
        stack.run_job("amazon-push-refunds")
        return _refund_status(stack, number) == status

    stack.wait_for(reached, timeout=90, what=f"refund of {number} {status}", every=1)


def _web_order(stack) -> dict:
    stem = f"{secrets.randbelow(10**9):09d}"
    delivered = datetime.now(UTC) - timedelta(days=2)
    payload = {"channel": "web", "order_id": f"W-{stem}", "currency": "USD",
               "status": "delivered", "purchased_at": (delivered - timedelta(days=2)).isoformat(),
               "delivered_at": delivered.isoformat(),
               "buyer": {"email": f"web-{stem}@example.com", "postal_code": "10001",
                         "country": "US"},
               "lines": [{"item_id": f"8{stem}01", "sku": "TEE-ORG-L", "title": "T-shirt (L)",
                          "category": "apparel", "size_class": "small", "quantity": 1,
                          "item_price": "40.00", "item_tax": "3.55"}]}
    assert stack.api("POST", "/api/v1/orders", json=payload).status_code in (200, 201)
    return payload


def _credit_return(stack, order: dict) -> dict:
    response = stack.api("POST", "/api/v1/returns", json={
        "channel": "web", "order_id": order["order_id"], "postal_code": "10001",
        "store_code": stack.seed["store_code"], "outcome": "credit",
        "lines": [{"item_id": order["lines"][0]["item_id"], "quantity": 1,
                   "reason": "fit.too_small"}]})
    assert response.status_code == 201, response.text
    return response.json()


def _redeem(stack, key: str, code: str, amount: str, idempotency: str):
    return stack.api("POST", f"/api/v1/credits/{code}/redeem", key=key,
                     headers={"Idempotency-Key": idempotency},
                     json={"amount": amount, "reference": f"till {idempotency}"})


def test_every_outcome_event_reaches_the_till_signed(stack, emu, receiver, new_page,
                                                     screenshot):
    page = new_page(viewport=DESKTOP)
    sign_in_to_hq(page, stack)
    page.goto(f"{stack.url}/hq/admin/webhooks")
    page.fill("#w-name", "Till and ERP")
    page.fill("#w-url", receiver.url)
    page.click("button:has-text('Add endpoint')")  # every event is ticked by default
    receiver.secret = page.inner_text("[data-secret]")
    assert receiver.secret.startswith("whsec_")
    page.goto(f"{stack.url}/hq/admin/webhooks")
    assert receiver.secret not in page.content()  # shown once, never again
    receiver.answers = [500]  # the till is down for the first event

    # An Amazon return taken in and restocked; Amazon pays it.
    paid_order = new_order(stack)
    paid = issue_return(stack, paid_order, item=1, reason="fit.too_small")
    intake = check_in_over_the_api(stack, paid)
    assert intake["status"] == "completed"  # whatever the till answered
    _push_until(stack, paid["number"], "succeeded")

    # Another that Amazon refuses (its copy of the order charged less tax than Homing's).
    refused_order = new_order(stack)
    refused = issue_return(stack, refused_order, item=1, reason="fit.too_small")
    for item in emu._order(refused_order["order_id"])["items"].values():
        item["ItemTax"] = 1
    check_in_over_the_api(stack, refused)
    _push_until(stack, refused["number"], "failed")

    # A web order settled as store credit with the policy's 10 % bonus: 43.55 + 4.35.
    credit_rma = _credit_return(stack, _web_order(stack))
    credit = check_in_over_the_api(stack, credit_rma)["credit"]
    assert (credit["amount"], credit["bonus"], credit["balance"]) == ("43.55", "4.35", "47.90")
    till = stack.api_key("clerk", stack.seed["store_code"])
    first = _redeem(stack, till, credit["code"], "30.00", "pos-1")
    assert first.status_code == 201 and first.json()["balance"] == "17.90"
    assert _redeem(stack, till, credit["code"], "30.00", "pos-1").json()["balance"] == "17.90"
    beyond = _redeem(stack, till, credit["code"], "17.91", "pos-2")
    assert beyond.status_code == 409 and beyond.json()["code"] == "insufficient_balance"
    rest = _redeem(stack, till, credit["code"], "17.90", "pos-3")
    assert rest.status_code == 201 and rest.json()["status"] == "spent"
    after = _redeem(stack, till, credit["code"], "0.01", "pos-4")
    assert after.status_code == 409 and after.json()["code"] == "credit_spent"

    ours = {paid["number"], refused["number"], credit_rma["number"]}

    def heard_everything():
        # Every kind of event, and each of our returns' own return.issued (deliveries are
        # independent: the types can all be in before the last return.issued is).
        stack.run_job("outbox-relay")
        issued = {e["data"]["return"] for e in receiver.events("return.issued")}
        return set(EVENT_NAMES) <= {e["type"] for e in receiver.events()} and ours <= issued

    stack.wait_for(heard_everything, timeout=120, every=1,
                   what=f"every event at the till (heard: {receiver.events()})")
    assert receiver.all_verified()
    assert receiver.received[0]["status"] == 500  # the first answer, sent again after it
    issued = [e["data"]["return"] for e in receiver.events("return.issued")]
    assert ours <= set(issued)
    # The stack is shared with the other journeys: their events reach this endpoint too, so
    # each check looks at this story's own returns and code.
    moved = [e["data"] for e in receiver.events("stock.moved")]
    assert any({"sku": "TEE-ORG-M", "delta": 1, "reason": "restock"}.items() <= m.items()
               for m in moved)
    assert refused["number"] in {e["data"]["return"] for e in receiver.events("refund.failed")}
    assert paid["number"] in {e["data"]["return"] for e in receiver.events("refund.succeeded")}
    def same(code) -> bool:
        return str(code).replace("-", "").upper() == credit["code"].replace("-", "").upper()

    redeemed = [e["data"] for e in receiver.events("credit.redeemed")
                if same(e["data"].get("code"))]
    assert [d["balance"] for d in redeemed] == ["17.90", "0.00"]  # pos-1's retry: no second
    [issued_credit] = [e["data"] for e in receiver.events("credit.issued")
                       if same(e["data"].get("code"))]
    assert issued_credit["bonus"] == "4.35"

    page.click("text=Till and ERP")
    page.wait_for_selector("#deliveries")
    deliveries = page.inner_text("#deliveries")
    assert "HTTP 500" in deliveries and "HTTP 200" in deliveries
    screenshot(page, "hq-webhook-deliveries")
    replay = page.locator("#deliveries tr[data-delivery] button").first
    before = len(receiver.received)
    replay.click()
    page.wait_for_selector("text=The event will be sent again.")
    stack.wait_for(lambda: stack.run_job("outbox-relay") is not None
                   and len(receiver.received) > before, timeout=60, every=1,
                   what="the replayed event at the till")
