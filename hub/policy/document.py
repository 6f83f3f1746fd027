"""The return policy document: defaults, validation, and typed reads of its parts.

A policy is one JSON document, stored as immutable versions (an edit publishes a new version;
a return keeps the version it was authorised under). Money thresholds are decimal strings per
currency, because "200" means something else in USD and JPY. Pure domain code."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from hub.money import Money, MoneyError
from hub.refunds.engine import SHIPPING_RULES

GRADES = ("A", "B", "C", "D")
CHANNELS = ("amazon-mfn", "amazon-fba", "amazon-business", "vendor", "web")

DEFAULT_POLICY: dict = {
    "windows": {"default_days": 30, "by_channel": {"amazon-business": 30},
                "by_marketplace": {}, "by_category": {"electronics": 30}},
    "categories": {"non_returnable": ["grocery", "gift_card", "hazmat", "digital"]},
    "refunds": {
        "grade_percent": {"A": 100, "B": 100, "C": 80, "D": 50},
        "restocking_percent": {"electronics": 0},
        "shipping": "all_returned_or_seller_fault",
        "clawback_promotions": True,
    },
    "approvals": {
        "amount": {"USD": "200.00", "EUR": "200.00", "GBP": "180.00", "JPY": "30000",
                   "CAD": "270.00"},
        "grades": ["D"],
        "reason_mismatch": True,
    },
    "auto_accept": {"amount": {"USD": "50.00", "EUR": "50.00", "JPY": "7000"},
                    "grades": ["A", "B"]},
    "risk": {
        "serial_returner": {"window_days": 90, "max_returns": 5},
        "velocity": {"window_hours": 24, "max_returns": 3},
        "high_value": {"USD": "500.00", "EUR": "500.00", "GBP": "450.00", "JPY": "75000"},
        "wardrobing_categories": ["apparel", "shoes", "formalwear"],
        "supervisor_score": 30,
        "review_score": 60,
    },
    "voucher_ttl_days": 14,
    # A voucher routed to one store may be handed in at another of the chain's stores.
    "intake": {"accept_at_other_stores": True},
    # Orders Amazon sold itself (Vendor Central, channel "vendor"): Amazon is the merchant
    # and refunds its customer, so the brand takes them back only by a written decision.
    "vendor_orders": {"brand_takes_back": False, "reason": ""},
}


def default_policy() -> dict:
    return copy.deepcopy(DEFAULT_POLICY)


def validate_policy(doc: object) -> list[dict]:
    """Every problem with a policy document as {"field", "message"}; empty when valid."""
    errors: list[dict] = []

    def fail(path: str, message: str) -> None:
        errors.append({"field": path, "message": message})

    def days(value, path: str) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 3650:
            fail(path, "must be a whole number of days from 0 to 3650")

    def amounts(value, path: str) -> None:
        if not isinstance(value, dict):
            fail(path, "must map currency codes to amounts, e.g. {\"USD\": \"200.00\"}")
            return
        for currency, amount in value.items():
            try:
                Money(Decimal(str(amount)), currency)
            except (MoneyError, InvalidOperation, ValueError):
                fail(f"{path}.{currency}", f"{amount!r} is not an amount in {currency}")

    def section(parent: dict, name: str, path: str) -> dict:
        """A nested object; a value of another type is reported and read as empty."""
        value = parent.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            fail(path, "must be a JSON object")
            return {}
        return value

    if not isinstance(doc, dict):
        return [{"field": "", "message": "the policy must be a JSON object"}]
    windows = section(doc, "windows", "windows")
    days(windows.get("default_days"), "windows.default_days")
    for group in ("by_channel", "by_marketplace", "by_category"):
        for key, value in section(windows, group, f"windows.{group}").items():
            days(value, f"windows.{group}.{key}")
    for channel in section(windows, "by_channel", "windows.by_channel"):
        if channel not in CHANNELS:
            fail(f"windows.by_channel.{channel}", f"unknown channel (one of {', '.join(CHANNELS)})")
    refunds = section(doc, "refunds", "refunds")
    grades = section(refunds, "grade_percent", "refunds.grade_percent")
    if set(grades) != set(GRADES):
        fail("refunds.grade_percent", f"must give a percentage for each grade {', '.join(GRADES)}")
    for grade, pct in grades.items():
        if not isinstance(pct, int | float) or not 0 <= pct <= 100:
            fail(f"refunds.grade_percent.{grade}", "must be a percentage from 0 to 100")
    for category, pct in section(refunds, "restocking_percent",
                                 "refunds.restocking_percent").items():
        if not isinstance(pct, int | float) or not 0 <= pct <= 100:
            fail(f"refunds.restocking_percent.{category}", "must be a percentage from 0 to 100")
    if refunds.get("shipping") not in SHIPPING_RULES:
        fail("refunds.shipping", f"must be one of {', '.join(SHIPPING_RULES)}")
    approvals = section(doc, "approvals", "approvals")
    auto_accept = section(doc, "auto_accept", "auto_accept")
    amounts(approvals.get("amount", {}), "approvals.amount")
    amounts(auto_accept.get("amount", {}), "auto_accept.amount")
    for path, value in (("approvals.grades", approvals.get("grades", [])),
                        ("auto_accept.grades", auto_accept.get("grades", []))):
        if not isinstance(value, list) or any(g not in GRADES for g in value):
            fail(path, f"must be a list of grades from {', '.join(GRADES)}")
    risk = section(doc, "risk", "risk")
    amounts(risk.get("high_value", {}), "risk.high_value")
    for key in ("supervisor_score", "review_score"):
        if not isinstance(risk.get(key), int) or not 0 <= risk[key] <= 100:
            fail(f"risk.{key}", "must be a score from 0 to 100")
    days(doc.get("voucher_ttl_days"), "voucher_ttl_days")
    if not isinstance(section(doc, "intake", "intake").get("accept_at_other_stores", True),
                      bool):
        fail("intake.accept_at_other_stores", "must be true or false")
    if isinstance(doc.get("voucher_ttl_days"), int) and doc["voucher_ttl_days"] < 1:
        fail("voucher_ttl_days", "must be at least 1 day")
    _vendor_orders(section(doc, "vendor_orders", "vendor_orders"), fail)
    return errors


def _vendor_orders(section: Mapping, fail) -> None:
    takes_back = section.get("brand_takes_back", False)
    if not isinstance(takes_back, bool):
        fail("vendor_orders.brand_takes_back", "must be true or false")
    reason = section.get("reason", "")
    if not isinstance(reason, str):
        fail("vendor_orders.reason", "must be text")
    elif takes_back is True and len(reason.strip()) < 10:
        fail("vendor_orders.reason", "the brand takes back orders Amazon sold only with a "
             "written reason (at least 10 characters)")


def vendor_takeback(doc: Mapping) -> str | None:
    """The written reason the brand takes back orders Amazon sold itself, or None: Amazon
    refunds those, never Homing."""
    section = doc.get("vendor_orders") or {}
    reason = str(section.get("reason") or "").strip()
    return reason if section.get("brand_takes_back") is True and len(reason) >= 10 else None


def threshold(amounts: Mapping[str, str], currency: str) -> int | None:
    """A per-currency money threshold in minor units (None: no threshold for the currency)."""
    if currency not in amounts:
        return None
    return Money(Decimal(str(amounts[currency])), currency).to_minor()


def return_window_days(doc: Mapping, channel: str, marketplace_id: str, category: str) -> int:
    """The most specific window wins: category, then marketplace, then channel, then default."""
    windows = doc["windows"]
    for group, key in (("by_category", category), ("by_marketplace", marketplace_id),
                       ("by_channel", channel)):
        value = (windows.get(group) or {}).get(key)
        if value is not None:
            return value
    return windows["default_days"]
