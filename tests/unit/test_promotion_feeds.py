"""Every breakdown the refund engine can produce becomes a feed Amazon accepts.

Random orders carry every promotion kind the engine knows (order and line, plain, multi-buy,
minimum spend) with tax and shipping; any set of units comes back one at a time, all at once
or in random batches, at any grade. Each refund's feed goes through the sandbox's reading and
validation (hub.sandbox.adjustments, Emulator._check_message), which keeps what it accepted,
so every later refund is checked against what Amazon has already refunded on each item. The
sandbox must accept every message, and what it applied per item must be the refund's line,
to the cent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.amazon import feed
from hub.refunds.engine import (
    PaidLine,
    PaidOrder,
    Promotion,
    RefundEngine,
    RefundRules,
    ReturnedUnit,
    allocate,
)
from hub.sandbox.emulator import Emulator, Job

ORDER_ID = "112-0000000-0000001"
MARKET = "ATVPDKIKX0DER"
SELLER = "A1DEMOSELLER"
RULES = RefundRules(restocking_percent={"electronics": Decimal(15)})


def item_code(line_id: str) -> str:
    return f"{int(line_id[1:]) + 1:014d}"


@st.composite
def promotions(draw, prefix: str, price: int, quantity: int, budget: int):
    """Up to two promotions of any kind worth at most ``budget`` together."""
    out = []
    for n in range(draw(st.integers(0, 2))):
        amount = draw(st.integers(0, max(0, budget)))
        budget -= amount
        kind = draw(st.sampled_from(["plain", "buy_x_get_y", "min_spend"]))
        condition = ({"buy": draw(st.integers(1, 3)), "get": 1} if kind == "buy_x_get_y" else
                     {"min_spend": draw(st.integers(0, price * 2))} if kind == "min_spend"
                     else {})
        out.append(Promotion(f"{prefix}{n}", amount, kind, condition))
    return tuple(out)


@st.composite
def orders(draw):
    lines = []
    for i in range(draw(st.integers(1, 4))):
        quantity = draw(st.integers(1, 5))
        price = draw(st.integers(quantity * 100, 200_000))
        lines.append(PaidLine(
            f"L{i}", quantity, price, draw(st.integers(0, price // 5)),
            draw(st.integers(0, 1500)), draw(st.integers(0, 300)),
            draw(st.sampled_from(["general", "electronics"])),
            draw(promotions(f"P{i}-", price, quantity, price // 3))))
    room = min(ln.item_price - sum(p.amount for p in ln.promotions) for ln in lines)
    order_promos = draw(promotions("O", sum(ln.item_price for ln in lines), 0, room // 3))
    return PaidOrder(draw(st.sampled_from(["USD", "EUR", "JPY", "GBP"])), tuple(lines),
                     order_promos)


def discounts(order: PaidOrder) -> dict[str, int]:
    out = {ln.line_id: sum(p.amount for p in ln.promotions) for ln in order.lines}
    for promo in order.promotions:
        for ln, part in zip(order.lines, allocate(promo.amount,
                                                  [ln.item_price for ln in order.lines]),
                            strict=True):
            out[ln.line_id] += part
    return out


def amazon_with(order: PaidOrder) -> Emulator:
    emu = Emulator()
    given_discounts = discounts(order)
    emu.add_orders([{"AmazonOrderId": ORDER_ID, "currency": order.currency, "items": [
        {"OrderItemId": item_code(ln.line_id), "SellerSKU": ln.line_id,
         "QuantityOrdered": ln.quantity, "ItemPrice": ln.item_price, "ItemTax": ln.item_tax,
         "ShippingPrice": ln.shipping_price, "ShippingTax": ln.shipping_tax,
         "PromotionDiscount": given_discounts[ln.line_id]} for ln in order.lines]}])
    return emu


def push(emu: Emulator, order: PaidOrder, breakdown, message_id: int) -> list:
    """Send one refund as Amazon would get it; the sandbox's errors (none when accepted)."""
    lines = tuple(feed.FeedLine(item_code(ln.line_id), f"R{message_id}-{ln.line_id}",
                                ln.components) for ln in breakdown.lines if ln.amount)
    data = feed.build(SELLER, [feed.FeedRefund(message_id, ORDER_ID, order.currency, lines)])
    doc = emu.create_feed_document(feed.CONTENT_TYPE)
    emu.upload(doc.id, feed.CONTENT_TYPE, data)
    job = Job(f"F{message_id}", "feed", feed.FEED_TYPE, SELLER, [MARKET],
              datetime.now(UTC), input_document_id=doc.id)
    report = feed.parse_processing_report(emu._process_feed(job))
    return report.failed(message_id)


def check_history(order: PaidOrder, rules: RefundRules, batches: list[list[ReturnedUnit]]):
    engine = RefundEngine(order, rules)
    emu = amazon_with(order)
    done: list[ReturnedUnit] = []
    made = []  # as intake passes them: the refunds made for the earlier returns
    for n, batch in enumerate(batches, start=1):
        breakdown = engine.refund(batch, already_returned=done, refunded_before=made)
        assert breakdown.total == max(0, engine.entitlement(done + batch).total
                                      - sum(r.total for r in made))
        for line in breakdown.lines:  # Amazon's shape, before the feed
            c = line.components
            assert line.amount > 0 or not c, (line, "a line is positive or carries nothing")
            assert all(c.get(k, 0) >= 0 for k in ("Principal", "Tax", "Shipping",
                                                   "ShippingTax"))
            assert all(c.get(k, 0) <= 0 for k in ("Promotion", "RestockingFee",
                                                   "PromotionClawback"))
        if breakdown.total > 0:
            applied_before = len(emu.applied)
            assert push(emu, order, breakdown, n) == [], breakdown.lines
            applied = {a["item_code"]: sum(a["charges"].values())
                       for a in emu.applied[applied_before:]}
            assert applied == {item_code(ln.line_id): ln.amount
                               for ln in breakdown.lines if ln.amount}
        done += batch
        made.append(breakdown)
    return emu


def every_unit(order: PaidOrder) -> list[ReturnedUnit]:
    return [ReturnedUnit(ln.line_id, u) for ln in order.lines for u in range(ln.quantity)]


def graded(data, chosen: list[ReturnedUnit]) -> list[ReturnedUnit]:
    return [ReturnedUnit(u.line_id, u.unit, data.draw(st.sampled_from("ABCD")),
                         data.draw(st.booleans())) for u in chosen]


@settings(max_examples=200, deadline=None)
@given(orders(), st.data())
def test_returned_one_at_a_time_amazon_accepts_every_refund_and_everything_comes_back(
        order, data):
    units = data.draw(st.permutations(every_unit(order)))
    emu = check_history(order, RefundRules(), [[u] for u in units])
    assert sum(sum(a["charges"].values()) for a in emu.applied) == order.paid_total


@settings(max_examples=150, deadline=None)
@given(orders(), st.data())
def test_returned_all_at_once_amazon_accepts_the_refund(order, data):
    chosen = data.draw(st.lists(st.sampled_from(every_unit(order)), unique=True, min_size=1))
    check_history(order, RULES, [graded(data, chosen)])


@settings(max_examples=200, deadline=None)
@given(orders(), st.data())
def test_any_units_in_any_batches_at_any_grade_amazon_accepts_every_refund(order, data):
    chosen = data.draw(st.permutations(data.draw(
        st.lists(st.sampled_from(every_unit(order)), unique=True, min_size=1))))
    units = graded(data, chosen)
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(units) - 1)), max_size=4)))
    bounds = [0, *cuts, len(units)]
    check_history(order, RULES, [units[a:b] for a, b in zip(bounds, bounds[1:], strict=False)
                                 if units[a:b]])


# --- worked examples: the 3-for-2 of issue 14 -----------------------------------------------

THREE_FOR_TWO = PaidOrder("USD", (PaidLine("L0", 3, 6000, 480, 0, 0, "general", (
    Promotion("3FOR2", 2000, "buy_x_get_y", {"buy": 2, "get": 1}),)),))


def test_the_second_t_shirt_of_a_three_for_two_is_a_plain_price_refund():
    engine = RefundEngine(THREE_FOR_TWO, RefundRules())
    first = engine.refund([ReturnedUnit("L0", 0)])
    second = engine.refund([ReturnedUnit("L0", 1)], already_returned=[ReturnedUnit("L0", 0)])
    # First: 20.00 + 1.60 tax - 6.67 own share - 13.33 clawed back from the two kept shirts.
    assert first.lines[0].components == {"Principal": 2000, "Tax": 160, "Promotion": -667,
                                         "PromotionClawback": -1333}
    # Second: its discount was clawed back already, so it is not deducted again (it was a
    # +6.67 promotion adjustment Amazon refused).
    assert second.lines[0].components == {"Principal": 2000, "Tax": 160}
    assert feed.amazon_components(second.lines[0].components) == {"Principal": 2000,
                                                                  "Tax": 160}
    assert feed.amazon_components(first.lines[0].components) == {
        "Principal": 667, "Tax": 160, "Promotion": -667}


@pytest.mark.parametrize("how", ["one at a time", "all at once"])
def test_three_for_two_pushed_to_the_sandbox(how):
    units = every_unit(THREE_FOR_TWO)
    batches = [[u] for u in units] if how == "one at a time" else [units]
    emu = check_history(THREE_FOR_TWO, RefundRules(), batches)
    assert sum(sum(a["charges"].values()) for a in emu.applied) == THREE_FOR_TWO.paid_total


def test_an_old_positive_claw_back_is_sent_as_a_larger_price_refund():
    assert feed.amazon_components({"Principal": 2000, "Promotion": -667,
                                   "PromotionClawback": 667}) == {"Principal": 2667,
                                                                  "Promotion": -667}


def test_a_claw_back_beyond_the_price_comes_off_shipping_then_tax():
    assert feed.amazon_components({"Principal": 500, "Tax": 100, "Shipping": 300,
                                   "PromotionClawback": -700}) == {"Tax": 100,
                                                                   "Shipping": 100}
