"""Store credit on PostgreSQL: a web return settled as credit with the policy's bonus at the
counter, its journal on the store-credit liability, redemptions that never go below zero,
idempotent per caller and key, refused after expiry; none for Amazon orders."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from hub.credits import service as credits
from hub.credits.models import CreditRedemption, StoreCredit
from hub.ledger.models import JournalEntry, JournalLine
from hub.models import utcnow
from hub.outbox import service as outbox
from hub.outbox.models import OutboxMessage
from hub.refunds.models import Refund
from hub.returns.models import ReturnAuthorization
from tests.integration.factories import (
    clerk_may_approve_up_to,
    create_order,
    issue_return,
    seed_stores,
)

ACCEPT = {"reception": "received", "decision": "accept", "grade": "A", "disposition": "restock"}
WEB_ORDER = "W-100200"


def _web_credit(client, api_key, session) -> dict:
    seed_stores(session)
    admin = api_key("admin")
    create_order(client, admin, order_id=WEB_ORDER, channel="web", marketplace_id="")
    rma = issue_return(client, admin, channel="web", order_id=WEB_ORDER, outcome="credit",
                       lines=[{"item_id": "22222222222222", "quantity": 1,
                               "reason": "fit.too_small"}])
    assert rma["outcome"] == "credit"
    clerk = api_key("clerk", "NYC-1")
    intake = client.post("/api/v1/intakes", json={"voucher": rma["voucher"]["token"]},
                         headers=clerk).get_json()
    [unit] = intake["units"]
    client.post(f"/api/v1/intakes/{intake['id']}/units/{unit['unit_id']}", json=ACCEPT,
                headers=clerk)
    done = client.post(f"/api/v1/intakes/{intake['id']}/complete", headers=clerk)
    assert done.status_code == 200, done.get_json()
    return done.get_json()


def _journal(session):
    for message in session.scalars(sa.select(OutboxMessage).where(
            OutboxMessage.topic == "credit.journal", OutboxMessage.status == "pending")).all():
        assert outbox.deliver(session, message), message.last_error
    session.commit()


def _account_balance(session, code: str) -> int:
    return int(session.scalar(sa.select(sa.func.coalesce(
        sa.func.sum(JournalLine.credit - JournalLine.debit), 0))
        .where(JournalLine.account_code == code)))


def test_a_web_return_ends_as_credit_with_a_bonus(client, api_key, session):
    body = _web_credit(client, api_key, session)
    credit = body["credit"]
    # The T-shirt: 25.00 + 2.22 tax (shipping stays: the headphones were kept) = 27.22; the
    # default policy's 10 % bonus on top, rounded down to the cent: 2.72.
    assert (credit["amount"], credit["bonus"], credit["balance"]) == ("27.22", "2.72", "29.94")
    assert credit["code"].startswith("SC-") and credit["status"] == "active"
    assert body["refund"] is None and session.scalar(sa.select(sa.func.count())
                                                     .select_from(Refund)) == 0
    assert session.scalar(sa.select(ReturnAuthorization.status)) == "completed"
    _journal(session)
    entry = session.scalar(sa.select(JournalEntry).where(JournalEntry.source_type ==
                                                         "store_credit"))
    assert sum(ln.debit for ln in entry.lines) == sum(ln.credit for ln in entry.lines) == 2994
    assert _account_balance(session, "2310") == 2994  # owed to the shopper as credit


def test_redemptions_spend_up_to_the_balance_and_no_further(client, api_key, session):
    code = _web_credit(client, api_key, session)["credit"]["code"]
    till = api_key("clerk", "NYC-1")
    url = f"/api/v1/credits/{code}/redeem"
    first = client.post(url, json={"amount": "20.00", "reference": "till 4 / 881"},
                        headers={**till, "Idempotency-Key": "sale-881"})
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["balance"] == "9.94"
    again = client.post(url, json={"amount": "20.00", "reference": "till 4 / 881"},
                        headers={**till, "Idempotency-Key": "sale-881"})
    assert again.status_code == 200 and again.get_json()["redemption_id"] == \
        first.get_json()["redemption_id"] and again.get_json()["balance"] == "9.94"
    other = client.post(url, json={"amount": "1.00"},
                        headers={**till, "Idempotency-Key": "sale-881"})
    assert other.status_code == 422 and other.get_json()["code"] == "idempotency_key_reused"
    beyond = client.post(url, json={"amount": "9.95"},
                         headers={**till, "Idempotency-Key": "sale-882"})
    assert beyond.status_code == 409 and beyond.get_json()["code"] == "insufficient_balance"
    assert beyond.get_json()["balance"] == "9.94"
    rest = client.post(url, json={"amount": "9.94", "currency": "USD"},
                       headers={**till, "Idempotency-Key": "sale-883"})
    assert rest.status_code == 201 and rest.get_json()["status"] == "spent"
    spent = client.post(url, json={"amount": "0.01"},
                        headers={**till, "Idempotency-Key": "sale-884"})
    assert spent.status_code == 409 and spent.get_json()["code"] == "credit_spent"
    _journal(session)
    assert _account_balance(session, "2310") == 0
    assert _account_balance(session, "4020") == 2994
    assert session.scalar(sa.select(sa.func.count()).select_from(CreditRedemption)) == 2


def test_hostile_redemptions_are_refused_and_change_nothing(client, api_key, session):
    code = _web_credit(client, api_key, session)["credit"]["code"]
    till = api_key("clerk", "NYC-1")
    url = f"/api/v1/credits/{code}/redeem"
    assert client.post(url, json={"amount": "1.00"}, headers=till).status_code == 400
    for body in ({"amount": 1.5}, {"amount": "1.005"}, {"amount": "-1.00"}, {"amount": "0"},
                 {"amount": "NaN"}, {"amount": "1e3"}, {"amount": True}, {"amount": None},
                 {"amount": "1.00", "currency": "EUR"},
                 {"amount": "1.00", "reference": "a\x00b"}, {"amount": "1.00",
                                                            "reference": "x" * 121}):
        answer = client.post(url, json=body, headers={**till, "Idempotency-Key": "k"})
        assert answer.status_code == 422, (body, answer.get_json())
    unknown = client.post("/api/v1/credits/SC-NOPE-NOPE-NOPE-NOPE/redeem",
                          json={"amount": "1.00"}, headers={**till, "Idempotency-Key": "k"})
    assert unknown.status_code == 404
    assert client.get(f"/api/v1/credits/{code}", headers=till).get_json()["balance"] == "29.94"
    # Typed as read out at a till: lower case, no dashes.
    typed = code.replace("-", "").lower()
    assert client.get(f"/api/v1/credits/{typed}", headers=till).status_code == 200


def test_an_expired_credit_is_refused_and_written_back(client, api_key, session):
    code = _web_credit(client, api_key, session)["credit"]["code"]
    credit = credits.find(session, code)
    credit.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    till = api_key("clerk", "NYC-1")
    answer = client.post(f"/api/v1/credits/{code}/redeem", json={"amount": "1.00"},
                         headers={**till, "Idempotency-Key": "late"})
    assert answer.status_code == 409 and answer.get_json()["code"] == "credit_expired"
    assert credits.expire_due(session) == 1
    session.commit()
    _journal(session)
    assert session.scalar(sa.select(StoreCredit.status)) == "expired"
    assert _account_balance(session, "2310") == 0 and _account_balance(session, "4410") == 2994


def test_amazon_orders_get_no_store_credit(client, api_key, session):
    seed_stores(session)
    admin = api_key("admin")
    create_order(client, admin)
    answer = client.post("/api/v1/returns", headers=admin, json={
        "channel": "amazon-mfn", "order_id": "114-1234567-1234567", "outcome": "credit",
        "lines": [{"item_id": "11111111111111", "quantity": 1, "reason": "fit.too_small"}]})
    assert answer.status_code == 422
    [error] = answer.get_json()["errors"]
    assert error["field"] == "outcome" and "Amazon" in error["message"]
    bad = client.post("/api/v1/returns", headers=admin, json={
        "channel": "amazon-mfn", "order_id": "114-1234567-1234567", "outcome": "gift",
        "lines": [{"item_id": "11111111111111", "quantity": 1, "reason": "fit.too_small"}]})
    assert bad.status_code == 422
    assert session.scalar(sa.select(sa.func.count()).select_from(ReturnAuthorization)) == 0


def test_a_unit_settled_as_credit_is_not_refunded_again_by_a_later_return(
        client, api_key, session):
    seed_stores(session)
    clerk_may_approve_up_to(session)  # the story is about settling, not approval
    admin = api_key("admin")
    create_order(client, admin, order_id=WEB_ORDER, channel="web", marketplace_id="")
    clerk = api_key("clerk", "NYC-1")
    settled = []
    for outcome in ("credit", "refund"):
        rma = issue_return(client, admin, channel="web", order_id=WEB_ORDER, outcome=outcome,
                           lines=[{"item_id": "11111111111111", "quantity": 1,
                                   "reason": "fit.too_small"}])
        intake = client.post("/api/v1/intakes", json={"voucher": rma["voucher"]["token"]},
                             headers=clerk).get_json()
        [unit] = intake["units"]
        client.post(f"/api/v1/intakes/{intake['id']}/units/{unit['unit_id']}", json=ACCEPT,
                    headers=clerk)
        settled.append(client.post(f"/api/v1/intakes/{intake['id']}/complete",
                                   headers=clerk).get_json())
    assert settled[0]["credit"]["amount"] == "108.86"
    # Without the credit counted as settled, this refund paid both headphones (217.72).
    assert settled[1]["refund"]["amount"] == "108.86"
