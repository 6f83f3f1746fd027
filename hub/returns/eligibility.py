"""Which units of an order may come back, and if not, why — in words a shopper understands.
Pure domain code driven by the policy document."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from hub.policy.document import return_window_days


@dataclass(frozen=True)
class LineFacts:
    line_id: int
    title: str
    category: str
    quantity: int
    taken: int  # units already authorised or returned (live)


@dataclass(frozen=True)
class OrderFacts:
    channel: str
    marketplace_id: str
    status: str
    delivered_at: datetime | None
    lines: tuple[LineFacts, ...]
    blocked: bool = False


@dataclass(frozen=True)
class LineEligibility:
    line_id: int
    returnable: int
    reason: str | None  # a stable code when nothing (more) can be returned
    message: str | None
    window_ends: datetime | None


def line_eligibility(order: OrderFacts, line: LineFacts, policy: Mapping,
                     now: datetime) -> LineEligibility:
    def no(code: str, message: str, ends: datetime | None = None) -> LineEligibility:
        return LineEligibility(line.line_id, 0, code, message, ends)

    if order.blocked:
        return no("shopper_blocked", "This order cannot be returned in store. Please contact "
                                     "customer service.")
    if order.status == "cancelled":
        return no("order_cancelled", "This order was cancelled, so there is nothing to return.")
    if order.status != "delivered" or order.delivered_at is None:
        return no("not_delivered", "This order has not been delivered yet. You can start a "
                                   "return once it has arrived.")
    if line.category in policy["categories"].get("non_returnable", []):
        return no("category_not_returnable", f"Items in {line.category} cannot be returned.")
    days = return_window_days(policy, order.channel, order.marketplace_id, line.category)
    ends = order.delivered_at + timedelta(days=days)
    if now > ends:
        return no("window_closed", f"The {days}-day return window closed on "
                                   f"{ends:%Y-%m-%d}.", ends)
    left = line.quantity - line.taken
    if left <= 0:
        return no("already_returned", "All units of this item are already being returned.",
                  ends)
    return LineEligibility(line.line_id, left, None, None, ends)


def check_request(order: OrderFacts, policy: Mapping, now: datetime,
                  requested: Mapping[int, int]) -> list[dict]:
    """Problems with a request of {line id: quantity}, as {"field", "code", "message"}."""
    problems = []
    lines = {line.line_id: line for line in order.lines}
    for line_id, quantity in requested.items():
        field = f"lines[{line_id}]"
        line = lines.get(line_id)
        if line is None:
            problems.append({"field": field, "code": "unknown_line",
                             "message": "This item is not part of the order."})
            continue
        verdict = line_eligibility(order, line, policy, now)
        if verdict.reason:
            problems.append({"field": field, "code": verdict.reason,
                             "message": verdict.message})
        elif quantity > verdict.returnable:
            problems.append({"field": field, "code": "quantity_exceeds",
                             "message": f"Only {verdict.returnable} of this item can still "
                                        "be returned."})
    return problems
