"""The return policy document: defaults, validation, and typed reads of its parts.

A policy is one JSON document, stored as immutable versions (an edit publishes a new version;
a return keeps the version it was authorised under). Money thresholds are decimal strings per
currency, because "200" means something else in USD and JPY. Pure domain code."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from hub.money import Money, MoneyError
from hub.refunds.engine import SHIPPING_RULES
from hub.text import N_

GRADES = ("A", "B", "C", "D")
CHANNELS = ("amazon-mfn", "amazon-fba", "amazon-business", "vendor", "web")

DEFAULT_POLICY: dict = {
    "windows": {"default_days": 30, "by_channel": {"amazon-business": 7},
                "by_marketplace": {}, "by_category": {"electronics": 30}},
    "categories": {"non_returnable": ["grocery", "gift_card", "hazmat", "digital"]},
    "refunds": {
        "grade_percent": {"A": 100, "B": 100, "C": 80, "D": 50},
        "restocking_percent": {"electronics": 0},
        "shipping": "all_returned_or_seller_fault",
        "clawback_promotions": True,
    },
    "approvals": {
        # What a clerk may approve alone (the seeds' rule: above USD 50 or the currency's
        # equal, a supervisor); the chain says who approves above it (hub.policy.approvals).
        "amount": {"USD": "50.00", "EUR": "50.00", "GBP": "45.00", "JPY": "7500",
                   "CAD": "70.00"},
        "grades": ["D"],
        "reason_mismatch": True,
        "chain": {
            "default": [
                {"role": "supervisor",
                 "up_to": {"USD": "1000.00", "EUR": "1000.00", "GBP": "900.00",
                           "JPY": "150000", "CAD": "1350.00"},
                 "reasons": ["amount", "grade", "reason_mismatch", "risk", "override"]},
                {"role": "hq", "reasons": ["amount", "grade", "reason_mismatch", "risk",
                                           "override"]},
            ],
            "by_channel": {}, "by_store_group": {},
        },
        # How long an approval may wait before it is overdue, per tier (minutes).
        "wait_minutes": {"supervisor": 30, "hq": 240, "finance": 480},
    },
    # The fast path ("unopened, as new") sends a unit here unless its category says otherwise.
    "dispositions": {"default": "restock", "by_category": {}},
    "risk": {
        "serial_returner": {"window_days": 90, "max_returns": 5},
        "velocity": {"window_hours": 24, "max_returns": 3},
        "high_value": {"USD": "500.00", "EUR": "500.00", "GBP": "450.00", "JPY": "75000"},
        "wardrobing_categories": ["apparel", "shoes", "formalwear"],
        "supervisor_score": 30,
        "review_score": 60,
    },
    "voucher_ttl_days": 14,
    # Amazon Business buyers: a voucher of their own length, and an alert on a buyer whose
    # returned share of the units bought in the window is above the percentage.
    "business": {"voucher_ttl_days": 7, "return_rate_alert_percent": 10,
                 "return_rate_window_days": 90},
    # A voucher routed to one store may be handed in at another of the chain's stores.
    "intake": {"accept_at_other_stores": True},
    # Item verification at the counter: the categories whose units need their serial number.
    "items": {"serial_required": ["electronics"]},
    # Orders Amazon sold itself (Vendor Central, channel "vendor"): Amazon is the merchant
    # and refunds its customer, so the brand takes them back only by a written decision.
    "vendor_orders": {"brand_takes_back": False, "reason": ""},
    # Store credit instead of a refund, for the brand's own channels only. A bonus is a
    # percentage of the credit and/or an amount per currency, per channel, and per return
    # reason (a reason's bonus applies when every unit of the return gives that reason).
    # Amazon orders: "refund_only" (see AMAZON_CREDIT_WHY), the only value allowed.
    "store_credit": {
        "channels": {"web": {"bonus_percent": 10, "bonus_amount": {}, "by_reason": {}}},
        "expiry_days": 730,
        "amazon_orders": "refund_only",
    },
}

AMAZON_CHANNELS = ("amazon-mfn", "amazon-fba", "amazon-business", "vendor")
AMAZON_CREDIT_WHY = N_(
    "Amazon orders are refunded on Amazon, never with store credit: Amazon's selling policies "
    "forbid steering its buyers to pay off Amazon, and the buyer's money went to Amazon, "
    "which refunds it.")


@dataclass(frozen=True)
class CreditOffer:
    bonus_percent: int
    bonus_minor: int
    expiry_days: int

    def bonus(self, credit_minor: int) -> int:
        """The bonus on a credit of ``credit_minor``: the percentage (rounded down to the
        minor unit, so it never exceeds what the policy promises) plus the amount."""
        return credit_minor * self.bonus_percent // 100 + self.bonus_minor if credit_minor else 0


def credit_offer(doc: Mapping, channel: str, currency: str,
                 reasons: list[str]) -> CreditOffer | None:
    """What the policy offers as store credit for a return of ``channel`` with ``reasons``
    (one per unit); None when credit is not offered."""
    section = doc.get("store_credit") or {}
    terms = (section.get("channels") or {}).get(channel)
    if channel in AMAZON_CHANNELS or terms is None:
        return None
    reasons = set(reasons)
    if len(reasons) == 1:
        terms = {**terms, **((terms.get("by_reason") or {}).get(next(iter(reasons))) or {})}
    amounts = terms.get("bonus_amount") or {}
    return CreditOffer(bonus_percent=int(terms.get("bonus_percent") or 0),
                       bonus_minor=threshold(amounts, currency) or 0,
                       expiry_days=int(section.get("expiry_days") or 0))


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
    amounts(approvals.get("amount", {}), "approvals.amount")
    value = approvals.get("grades", [])
    if not isinstance(value, list) or any(g not in GRADES for g in value):
        fail("approvals.grades", f"must be a list of grades from {', '.join(GRADES)}")
    from hub.policy.approvals import validate_chain  # it reads thresholds from this module

    errors += validate_chain(approvals)
    if "auto_accept" in doc:
        fail("auto_accept", "was never applied and is removed: what a clerk may accept alone "
                            "is approvals.amount, who approves above it approvals.chain")
    _dispositions(section(doc, "dispositions", "dispositions"), fail)
    risk = section(doc, "risk", "risk")
    amounts(risk.get("high_value", {}), "risk.high_value")
    for key in ("supervisor_score", "review_score"):
        if not isinstance(risk.get(key), int) or not 0 <= risk[key] <= 100:
            fail(f"risk.{key}", "must be a score from 0 to 100")
    days(doc.get("voucher_ttl_days"), "voucher_ttl_days")
    if not isinstance(section(doc, "intake", "intake").get("accept_at_other_stores", True),
                      bool):
        fail("intake.accept_at_other_stores", "must be true or false")
    serials = section(doc, "items", "items").get("serial_required", [])
    if not isinstance(serials, list) or not all(isinstance(c, str) and 0 < len(c) <= 60
                                                for c in serials):
        fail("items.serial_required", "must be a list of category names")
    business = section(doc, "business", "business")
    for key in ("voucher_ttl_days", "return_rate_window_days"):
        if key in business:
            days(business[key], f"business.{key}")
            if isinstance(business[key], int) and business[key] < 1:
                fail(f"business.{key}", "must be at least 1 day")
    pct = business.get("return_rate_alert_percent", 10)
    if not isinstance(pct, int | float) or isinstance(pct, bool) or not 0 <= pct <= 100:
        fail("business.return_rate_alert_percent", "must be a percentage from 0 to 100")
    if isinstance(doc.get("voucher_ttl_days"), int) and doc["voucher_ttl_days"] < 1:
        fail("voucher_ttl_days", "must be at least 1 day")
    _vendor_orders(section(doc, "vendor_orders", "vendor_orders"), fail)
    _check_store_credit(section(doc, "store_credit", "store_credit"), fail, amounts, days)
    return errors


def _dispositions(doc: Mapping, fail) -> None:
    from hub.intake.inspection import DISPOSITIONS  # pure, and imports this module

    for path, value in [("dispositions.default", doc.get("default", "restock")),
                        *((f"dispositions.by_category.{k}", v)
                          for k, v in (doc.get("by_category") or {}).items())]:
        if value not in DISPOSITIONS:
            fail(path, f"must be one of {', '.join(DISPOSITIONS)}")


def default_disposition(doc: Mapping, category: str) -> str:
    rules = doc.get("dispositions") or {}
    return (rules.get("by_category") or {}).get(category) or rules.get("default") or "restock"


def serial_required(doc: Mapping, category: str) -> bool:
    """Whether the counter asks for the serial number of a unit of ``category``."""
    return category in (doc.get("items") or {}).get("serial_required", [])
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


def _check_store_credit(credit: dict, fail, amounts, days) -> None:
    if "expiry_days" in credit:
        days(credit["expiry_days"], "store_credit.expiry_days")
    if credit.get("amazon_orders", "refund_only") != "refund_only":
        fail("store_credit.amazon_orders", "must be refund_only: " + AMAZON_CREDIT_WHY)
    channels = credit.get("channels") or {}
    if not isinstance(channels, dict):
        fail("store_credit.channels", "must map channels to their bonus")
        return
    for channel, terms in channels.items():
        path = f"store_credit.channels.{channel}"
        if channel in AMAZON_CHANNELS:
            fail(path, AMAZON_CREDIT_WHY)
            continue
        if channel not in CHANNELS:
            fail(path, f"unknown channel (one of {', '.join(CHANNELS)})")
            continue
        if not isinstance(terms, dict):
            fail(path, "must be a JSON object")
            continue
        for reason, override in {"": terms, **(terms.get("by_reason") or {})}.items():
            where = f"{path}.by_reason.{reason}" if reason else path
            if not isinstance(override, dict):
                fail(where, "must be a JSON object")
                continue
            pct = override.get("bonus_percent", 0)
            if not isinstance(pct, int) or isinstance(pct, bool) or not 0 <= pct <= 100:
                fail(f"{where}.bonus_percent", "must be a whole percentage from 0 to 100")
            amounts(override.get("bonus_amount") or {}, f"{where}.bonus_amount")


def threshold(amounts: Mapping[str, str], currency: str) -> int | None:
    """A per-currency money threshold in minor units (None: no threshold for the currency)."""
    if currency not in amounts:
        return None
    return Money(Decimal(str(amounts[currency])), currency).to_minor()


def business_rules(doc: Mapping) -> dict:
    """The business section with its defaults (a policy saved before it existed has none)."""
    return {**DEFAULT_POLICY["business"], **(doc.get("business") or {})}


def voucher_ttl_days(doc: Mapping, channel: str) -> int:
    """How long a voucher lasts: business orders have their own length."""
    if channel == "amazon-business":
        return int(business_rules(doc)["voucher_ttl_days"])
    return int(doc["voucher_ttl_days"])


def return_window_days(doc: Mapping, channel: str, marketplace_id: str, category: str) -> int:
    """The most specific window wins: category, then marketplace, then channel, then default."""
    windows = doc["windows"]
    for group, key in (("by_category", category), ("by_marketplace", marketplace_id),
                       ("by_channel", channel)):
        value = (windows.get(group) or {}).get(key)
        if value is not None:
            return value
    return windows["default_days"]
