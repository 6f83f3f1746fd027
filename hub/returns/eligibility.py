"""Which units of an order may come back, and if not, why — in words a shopper understands.
Pure domain code driven by the policy document."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hub.policy.document import return_window_days, vendor_takeback
from hub.text import N_


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
    message: str | None  # English, with %(name)s placeholders filled from ``params``
    window_ends: datetime | None
    params: Mapping = field(default_factory=dict)

    @property
    def text(self) -> str | None:
        return self.message % self.params if self.message else None


# Orders Amazon sold itself (Vendor Central, 1P): Amazon is the merchant of record.
SOLD_BY_AMAZON = "vendor"

# The shopper-facing explanation of each refusal; translated where it is shown.
REFUSALS = {
    "sold_by_amazon": N_("Amazon sold this order itself, so Amazon refunds it, not the store. "
                         "Open Your Orders on Amazon, choose Return or replace items and follow "
                         "Amazon's steps; Amazon refunds you once the item reaches it."),
    "shopper_blocked": N_("This order cannot be returned in store. Please contact customer "
                          "service."),
    "order_cancelled": N_("This order was cancelled, so there is nothing to return."),
    "not_delivered": N_("This order has not been delivered yet. You can start a return once it "
                        "has arrived."),
    "category_not_returnable": N_("Items in %(category)s cannot be returned."),
    "window_closed": N_("The %(days)d-day return window closed on %(date)s."),
    "already_returned": N_("All units of this item are already being returned."),
    "unknown_line": N_("This item is not part of the order."),
    "quantity_exceeds": N_("Only %(left)d of this item can still be returned."),
}


def line_eligibility(order: OrderFacts, line: LineFacts, policy: Mapping,
                     now: datetime) -> LineEligibility:
    def no(code: str, ends: datetime | None = None, **params) -> LineEligibility:
        return LineEligibility(line.line_id, 0, code, REFUSALS[code], ends, params)

    if order.channel == SOLD_BY_AMAZON and vendor_takeback(policy) is None:
        return no("sold_by_amazon")
    if order.blocked:
        return no("shopper_blocked")
    if order.status == "cancelled":
        return no("order_cancelled")
    if order.status != "delivered" or order.delivered_at is None:
        return no("not_delivered")
    if line.category in policy["categories"].get("non_returnable", []):
        return no("category_not_returnable", category=line.category)
    days = return_window_days(policy, order.channel, order.marketplace_id, line.category)
    ends = order.delivered_at + timedelta(days=days)
    if now > ends:
        return no("window_closed", ends, days=days, date=f"{ends:%Y-%m-%d}")
    left = line.quantity - line.taken
    if left <= 0:
        return no("already_returned", ends)
    return LineEligibility(line.line_id, left, None, None, ends)


def _problem(field_name: str, code: str, **params) -> dict:
    return {"field": field_name, "code": code, "message": REFUSALS[code] % params,
            "template": REFUSALS[code], "params": params}


def check_request(order: OrderFacts, policy: Mapping, now: datetime,
                  requested: Mapping[int, int]) -> list[dict]:
    """Problems with a request of {line id: quantity}, as {"field", "code", "message"} plus
    the untranslated "template" and its "params" for a translated rendering."""
    problems = []
    lines = {line.line_id: line for line in order.lines}
    for line_id, quantity in requested.items():
        field_name = f"lines[{line_id}]"
        line = lines.get(line_id)
        if line is None:
            problems.append(_problem(field_name, "unknown_line"))
            continue
        verdict = line_eligibility(order, line, policy, now)
        if verdict.reason:
            problems.append(_problem(field_name, verdict.reason, **verdict.params))
        elif quantity > verdict.returnable:
            problems.append(_problem(field_name, "quantity_exceeds", left=verdict.returnable))
    return problems
