"""A property of returns, store credit, redemptions and store stock together: whatever the
order of returns (refunded or credited, restocked or scrapped), redemptions (within the
balance or beyond it) and the POS's sales and receipts, every journal entry balances, the
store-credit liability equals what the credits still hold, each credit's balance is what it
was issued less what was spent, and no store's stock is ever below zero or off its changes."""

from __future__ import annotations

import itertools

import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from hub.credits.models import CreditRedemption, StoreCredit
from hub.ledger.models import JournalEntry, JournalLine
from hub.outbox import service as outbox
from hub.outbox.models import OutboxMessage
from hub.stock.models import StockChange, StoreStock
from tests.integration.factories import create_order, seed_stores

ITEM, SKU = "33333333333333", "TEE-PROP"
JOURNAL_TOPICS = ("credit.journal", "finance.journal", "stock.movement")
_orders = itertools.count(1)

returns_ = st.tuples(st.just("return"), st.sampled_from(["refund", "credit"]),
                     st.sampled_from(["restock", "open_box", "scrap"]))
redemptions = st.tuples(st.just("redeem"), st.integers(1, 6000), st.integers(0, 3))
sales = st.tuples(st.just("pos"), st.integers(-3, 3).filter(bool), st.just(None))
operations = st.lists(st.one_of(returns_, redemptions, sales), min_size=1, max_size=5)


def _run(client, session, keys, ops) -> None:
    admin, clerk = keys
    order_id = f"W-P{next(_orders):06d}"
    create_order(client, admin, order_id=order_id, channel="web", marketplace_id="",
                 lines=[{"item_id": ITEM, "sku": SKU, "title": "T-shirt", "category": "apparel",
                         "quantity": 3, "item_price": "60.00", "item_tax": "5.31"}])
    codes: list[str] = []
    for n, (kind, first, second) in enumerate(ops):
        if kind == "return":
            _return(client, admin, clerk, order_id, first, second, codes)
        elif kind == "redeem" and codes:
            _redeem(client, session, clerk, codes[second % len(codes)], first, f"{order_id}-{n}")
        elif kind == "pos":
            _sale(client, session, clerk, first, f"{order_id}-{n}")
    _journal(session)


def _return(client, admin, clerk, order_id, outcome, disposition, codes) -> None:
    answer = client.post("/api/v1/returns", headers=admin, json={
        "channel": "web", "order_id": order_id, "outcome": outcome,
        "latitude": 40.7580, "longitude": -73.9855,
        "lines": [{"item_id": ITEM, "quantity": 1, "reason": "fit.too_small"}]})
    if answer.status_code == 422:  # every unit of the order is already being returned
        return
    rma = answer.get_json()
    intake = client.post("/api/v1/intakes", json={"voucher": rma["voucher"]["token"]},
                         headers=clerk).get_json()
    for unit in intake["units"]:
        client.post(f"/api/v1/intakes/{intake['id']}/units/{unit['unit_id']}", headers=clerk,
                    json={"reception": "received", "decision": "accept", "grade": "A",
                          "disposition": disposition})
    done = client.post(f"/api/v1/intakes/{intake['id']}/complete", headers=clerk).get_json()
    if done.get("credit"):
        codes.append(done["credit"]["code"])


def _redeem(client, session, clerk, code, minor, key) -> None:
    credit = session.scalar(sa.select(StoreCredit).where(
        StoreCredit.code == code.replace("-", "")))
    balance = credit.balance
    answer = client.post(f"/api/v1/credits/{code}/redeem", json={"amount": f"{minor / 100:.2f}"},
                         headers={**clerk, "Idempotency-Key": key})
    if minor > balance:
        assert answer.status_code == 409, answer.get_json()
    else:
        assert answer.status_code == 201, answer.get_json()
        assert answer.get_json()["balance"] == f"{(balance - minor) / 100:.2f}"


def _sale(client, session, clerk, delta, key) -> None:
    before = session.scalar(sa.select(StoreStock.quantity).where(StoreStock.sku == SKU)) or 0
    answer = client.post("/api/v1/stores/NYC-1/stock/deltas", json={"sku": SKU, "delta": delta},
                         headers={**clerk, "Idempotency-Key": key})
    assert answer.status_code == (409 if before + delta < 0 else 201), answer.get_json()


def _journal(session) -> None:
    for message in session.scalars(sa.select(OutboxMessage).where(
            OutboxMessage.topic.in_(JOURNAL_TOPICS),
            OutboxMessage.status == "pending").order_by(OutboxMessage.id)).all():
        assert outbox.deliver(session, message), message.last_error
    session.commit()


def _check(session) -> None:
    for entry in session.scalars(sa.select(JournalEntry)).all():
        assert sum(ln.debit for ln in entry.lines) == sum(ln.credit for ln in entry.lines)
    liability = session.scalar(sa.select(sa.func.coalesce(
        sa.func.sum(JournalLine.credit - JournalLine.debit), 0))
        .where(JournalLine.account_code == "2310"))
    assert liability == session.scalar(sa.select(sa.func.coalesce(
        sa.func.sum(StoreCredit.balance), 0)))
    spent = dict(session.execute(sa.select(CreditRedemption.credit_id,
                                           sa.func.sum(CreditRedemption.amount))
                                 .group_by(CreditRedemption.credit_id)).all())
    for credit in session.scalars(sa.select(StoreCredit)).all():
        assert credit.balance == credit.amount + credit.bonus - spent.get(credit.id, 0) >= 0
    for row in session.scalars(sa.select(StoreStock)).all():
        moved = session.scalar(sa.select(sa.func.sum(StockChange.delta)).where(
            StockChange.store_id == row.store_id, StockChange.sku == row.sku)) or 0
        assert row.quantity == moved >= 0


def test_the_journal_and_the_stock_agree_after_any_sequence(client, api_key, session):
    seed_stores(session)
    keys = (api_key("admin"), api_key("clerk", "NYC-1"))

    # No shrinking: each example costs seconds against PostgreSQL; the first failing
    # sequence is reported as generated.
    @settings(max_examples=12, deadline=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(operations)
    def sequence(ops):
        _run(client, session, keys, ops)
        _check(session)

    sequence()
