"""Reading Amazon's settlement file and matching its refund lines to Homing's refunds.
Pure code: no Flask, no database.

Keys, strongest first (amazon-spapi.md §3.4): our MerchantAdjustmentItemID, which Amazon
repeats as ``merchant-adjustment-item-id``; then order id + order item code for lines that lack
it. Buyer money (amount-type ItemPrice) is compared to the cent; fees are reported, not judged.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from hub.money import exponent

REFUND_TYPES = ("Refund", "A-to-z Guarantee Refund", "Chargeback Refund")
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S UTC", "%Y/%m/%d %H:%M:%S UTC", "%d.%m.%Y %H:%M:%S UTC",
                 "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d", "%d.%m.%Y", "%Y/%m/%d")


class SettlementError(ValueError):
    """A settlement file Homing cannot read (its lines are not guessed at)."""


@dataclass
class SettlementRow:
    settlement_id: str
    transaction_type: str
    order_id: str
    adjustment_id: str
    amount_type: str
    amount_description: str
    amount_minor: int
    currency: str
    posted_at: datetime | None
    order_item_code: str
    merchant_adjustment_item_id: str
    sku: str
    raw_posted: str = ""


@dataclass
class Settlement:
    settlement_id: str
    currency: str
    total_minor: int
    start: str
    end: str
    rows: list[SettlementRow] = field(default_factory=list)


def parse_time(text: str) -> datetime | None:
    """Marketplaces write dates differently; unknown formats give None (the raw text is kept)."""
    text = (text or "").strip()
    for fmt in _DATE_FORMATS:
        try:
            moment = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def to_minor(text: str, currency: str) -> int:
    cleaned = (text or "0").strip()
    if re.fullmatch(r"-?\d{1,3}(\.\d{3})*,\d+", cleaned):  # 1.234,56 (some EU files)
        cleaned = cleaned.replace(".", "").replace(",", ".")
    try:
        amount = Decimal(cleaned.replace(",", ""))
    except InvalidOperation as exc:
        raise SettlementError(f"amount {text!r} is not a number") from exc
    return int(amount.scaleb(exponent(currency)).to_integral_value())


def parse_settlement(text: str) -> Settlement:
    reader = csv.DictReader(io.StringIO(text), delimiter="\t")
    if not reader.fieldnames or "settlement-id" not in [f.strip().lower()
                                                        for f in reader.fieldnames]:
        raise SettlementError("this is not a V2 settlement flat file (no settlement-id column)")
    rows = [{k.strip().lower(): (v or "").strip() for k, v in row.items() if k} for row in reader]
    if not rows:
        raise SettlementError("the settlement file has no summary row")
    summary = rows[0]
    currency = summary.get("currency") or "USD"
    settlement = Settlement(summary["settlement-id"], currency,
                            to_minor(summary.get("total-amount", "0"), currency),
                            summary.get("settlement-start-date", ""),
                            summary.get("settlement-end-date", ""))
    for row in rows[1:]:
        if not row.get("transaction-type"):
            continue
        line_currency = row.get("currency") or currency
        posted = row.get("posted-date-time") or row.get("posted-date", "")
        settlement.rows.append(SettlementRow(
            settlement_id=row.get("settlement-id") or settlement.settlement_id,
            transaction_type=row["transaction-type"], order_id=row.get("order-id", ""),
            adjustment_id=row.get("adjustment-id", ""), amount_type=row.get("amount-type", ""),
            amount_description=row.get("amount-description", ""),
            amount_minor=to_minor(row.get("amount", "0"), line_currency),
            currency=line_currency, posted_at=parse_time(posted),
            order_item_code=row.get("order-item-code", ""),
            merchant_adjustment_item_id=row.get("merchant-adjustment-item-id", ""),
            sku=row.get("sku", ""), raw_posted=posted))
    return settlement


@dataclass(frozen=True)
class OurLine:
    """A refund line Homing sent: what Amazon should pay the shopper for it."""

    refund_id: int
    adjustment_item_id: str
    order_id: str
    item_code: str
    amount_minor: int
    currency: str


@dataclass
class Match:
    outcome: str  # matched | amount_differs | missing_in_homing | missing_at_amazon
    refund_id: int | None
    adjustment_item_id: str
    currency: str
    homing_minor: int
    amazon_minor: int
    amazon_adjustment_id: str = ""


def match(rows: list[SettlementRow], ours: list[OurLine], due: set[str]) -> list[Match]:
    """Match the settlement's refund lines to ours. ``due`` holds the adjustment ids of our
    lines that should have settled by now: those not found are missing at Amazon."""
    groups: dict[tuple, list[SettlementRow]] = {}
    for row in rows:
        if row.transaction_type in REFUND_TYPES and row.amount_type == "ItemPrice":
            key = (row.merchant_adjustment_item_id or "", row.order_id, row.order_item_code,
                   row.adjustment_id)
            groups.setdefault(key, []).append(row)
    by_adjustment = {ln.adjustment_item_id: ln for ln in ours}
    by_item: dict[tuple[str, str], list[OurLine]] = {}
    for ln in ours:
        by_item.setdefault((ln.order_id, ln.item_code), []).append(ln)
    used: set[str] = set()
    results = []
    for (merchant_id, order_id, item_code, amazon_id), group in groups.items():
        paid = -sum(r.amount_minor for r in group)  # refunds are negative in settlements
        currency = group[0].currency
        line = by_adjustment.get(merchant_id) if merchant_id else None
        if line is None and group[0].transaction_type == "Refund":
            candidates = [c for c in by_item.get((order_id, item_code), [])
                          if c.adjustment_item_id not in used]
            line = candidates[0] if candidates else None
        if line is None:
            results.append(Match("missing_in_homing", None, merchant_id, currency, 0, paid,
                                 amazon_id))
            continue
        used.add(line.adjustment_item_id)
        outcome = "matched" if paid == line.amount_minor else "amount_differs"
        results.append(Match(outcome, line.refund_id, line.adjustment_item_id, currency,
                             line.amount_minor, paid, amazon_id))
    for ln in ours:
        if ln.adjustment_item_id in due and ln.adjustment_item_id not in used:
            results.append(Match("missing_at_amazon", ln.refund_id, ln.adjustment_item_id,
                                 ln.currency, ln.amount_minor, 0))
    return results
