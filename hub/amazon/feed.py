"""The refund feed Homing sends Amazon (POST_PAYMENT_ADJUSTMENT_DATA) and the processing
report Amazon sends back. Pure code: no Flask, no database.

One Message per refund (one order), one AdjustedItem per refunded order line, carrying our
MerchantAdjustmentItemID (the key settlements are matched on). Amounts are line totals and no
Quantity is sent: whether Amazon reads Amount per unit when Quantity is present is unsettled
(amazon-spapi.md §2.2), and a line total is unambiguous.

How Amazon wants a refund's money (the rule the refund engine's lines and this mapping keep):

- Amounts are signed from the buyer's side: "positive amounts are refunded to the buyer and
  negative amounts are charged to the buyer (for example, restocking fees)", and an item's
  adjustment may not exceed what was charged for it (Seller Central help 661, Adjustments
  template glossary, ``item-price-adj``; the "requested refund amount ... is not eligible"
  refusals in selling-partner-api-models#1372). So Principal, Tax, Shipping and ShippingTax
  are never negative and, summed over every refund of the item, never more than charged;
  RestockingFee is never positive.
- The net of each AdjustedItem must be positive: Amazon rejects "The net adjustment amount
  is not a positive amount" both when it exceeds the item's balance and when it is zero
  (Seller Central help 30741). An item whose net is zero is left out of the feed (no money
  changes); the refund engine gives such an item no amounts at all.
- PromotionAdjustments (OrderAdjustment.xsd: PromotionClaimCode?, MerchantPromotionID?,
  Component Type Principal|Shipping) hand back the part of a promotion that applied to the
  returned item: the discount the buyer no longer gets, so its amount is negative, as in the
  order report the promotion comes from and in Amazon's XSD sample (Type Principal, Amount
  -1.00; copies in public connectors, e.g. the Checkout-by-Amazon PHP sample that copies the
  order report's promotion components into its refund). A positive promotion adjustment would
  refund a discount as if it were money paid; Amazon and our sandbox refuse it.
- A claw-back (a multi-buy or minimum-spend promotion no longer holds for the units the buyer
  keeps, so their discount is charged back) is not a promotion adjustment at all: no
  promotion is reversed on the returned item, the buyer simply gets less for it. It is sent as
  a smaller price refund: ``PromotionClawback`` (never positive) comes off the item's
  Principal, and only if the Principal is used up off its Shipping, Tax and ShippingTax, none
  below zero. When a unit whose discount was clawed back comes back later, the engine does
  not deduct its promotion share again (hub/refunds/engine.py, "Amazon's shape"), so a
  claw-back never returns as a positive amount. An old refund stored with a positive
  claw-back (before this rule) is sent as a larger Principal refund, which is what it is.

The feed keeps every cent: the AdjustedItem's components sum to the line's amount.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from decimal import Decimal

from hub.money import exponent

FEED_TYPE = "POST_PAYMENT_ADJUSTMENT_DATA"
CONTENT_TYPE = "text/xml; charset=UTF-8"
# Our breakdown's components -> (feed section, Amazon component type). PromotionClawback has no
# place of its own: it comes off the price refund (_fold_clawback).
COMPONENT_MAP = {
    "Principal": ("ItemPriceAdjustments", "Principal"),
    "Tax": ("ItemPriceAdjustments", "Tax"),
    "Shipping": ("ItemPriceAdjustments", "Shipping"),
    "ShippingTax": ("ItemPriceAdjustments", "ShippingTax"),
    "RestockingFee": ("ItemPriceAdjustments", "RestockingFee"),
    "Promotion": ("PromotionAdjustments", "Principal"),
}
# What a claw-back comes off, in this order.
CLAWBACK_FROM = ("Principal", "Shipping", "Tax", "ShippingTax")


@dataclass(frozen=True)
class FeedLine:
    item_code: str  # AmazonOrderItemCode, 14 digits
    adjustment_item_id: str  # MerchantAdjustmentItemID
    components: dict[str, int]  # minor units, our component names


@dataclass(frozen=True)
class FeedRefund:
    message_id: int
    amazon_order_id: str
    currency: str
    lines: tuple[FeedLine, ...]


@dataclass
class ProcessingResult:
    processed: int = 0
    successful: int = 0
    with_error: int = 0
    document_error: str = ""  # the whole feed was refused (e.g. malformed XML)
    errors: dict[int, list[tuple[str, str]]] = field(default_factory=dict)

    def failed(self, message_id: int) -> list[tuple[str, str]]:
        if self.document_error:
            return [("5000", self.document_error)]
        return self.errors.get(message_id, [])


def amount_text(minor: int, currency: str) -> str:
    places = exponent(currency)
    if places > 2:
        raise ValueError(f"{currency} amounts need {places} decimals; the feed allows 2")
    return f"{Decimal(minor).scaleb(-places):.{places}f}"


def build(merchant_id: str, refunds: list[FeedRefund], reason: str = "CustomerReturn") -> bytes:
    envelope = ET.Element("AmazonEnvelope", {
        "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
        "xsi:noNamespaceSchemaLocation": "amzn-envelope.xsd"})
    header = ET.SubElement(envelope, "Header")
    ET.SubElement(header, "DocumentVersion").text = "1.01"
    ET.SubElement(header, "MerchantIdentifier").text = merchant_id
    ET.SubElement(envelope, "MessageType").text = "OrderAdjustment"
    for refund in refunds:
        message = ET.SubElement(envelope, "Message")
        ET.SubElement(message, "MessageID").text = str(refund.message_id)
        adjustment = ET.SubElement(message, "OrderAdjustment")
        ET.SubElement(adjustment, "AmazonOrderID").text = refund.amazon_order_id
        ET.SubElement(adjustment, "ActionType").text = "Refund"
        for line in refund.lines:
            _adjusted_item(adjustment, line, refund.currency, reason)
    return ET.tostring(envelope, encoding="utf-8", xml_declaration=True)


def amazon_components(components: dict[str, int]) -> dict[str, int]:
    """Our components as Amazon's (same names, claw-back folded in, zeros dropped)."""
    unknown = set(components) - set(COMPONENT_MAP) - {"PromotionClawback"}
    if unknown:
        raise ValueError(f"component {sorted(unknown)[0]!r} has no place in an adjustment feed")
    out = {name: components.get(name, 0) for name in COMPONENT_MAP}
    _fold_clawback(out, components.get("PromotionClawback", 0))
    return {name: minor for name, minor in out.items() if minor}


def _fold_clawback(out: dict[str, int], clawback: int) -> None:
    if clawback >= 0:
        out["Principal"] += clawback  # an old positive claw-back: a larger price refund
        return
    left = -clawback
    for name in CLAWBACK_FROM:
        part = min(left, max(0, out[name]))
        out[name] -= part
        left -= part
    out["Principal"] -= left  # more than the item's refund: Amazon will say so


def _adjusted_item(parent: ET.Element, line: FeedLine, currency: str, reason: str) -> None:
    components = amazon_components(line.components)
    if not sum(components.values()):
        return  # nothing to refund on this item: Amazon refuses a zero adjustment
    item = ET.SubElement(parent, "AdjustedItem")
    ET.SubElement(item, "AmazonOrderItemCode").text = line.item_code
    ET.SubElement(item, "MerchantAdjustmentItemID").text = line.adjustment_item_id
    ET.SubElement(item, "AdjustmentReason").text = reason
    sections: dict[str, dict[str, int]] = {}
    for name, minor in components.items():
        section, kind = COMPONENT_MAP[name]
        bucket = sections.setdefault(section, {})
        bucket[kind] = bucket.get(kind, 0) + minor
    for section in ("ItemPriceAdjustments", "PromotionAdjustments"):
        if section not in sections:
            continue
        container = ET.SubElement(item, section)
        for kind, minor in sections[section].items():
            component = ET.SubElement(container, "Component")
            ET.SubElement(component, "Type").text = kind
            ET.SubElement(component, "Amount", currency=currency).text = amount_text(minor,
                                                                                   currency)


def parse_processing_report(data: bytes | str) -> ProcessingResult:
    """Read Amazon's processing report. ``DONE`` only means processed: success per message is
    here."""
    root = ET.fromstring(data.encode("utf-8") if isinstance(data, str) else data)
    report = root.find(".//ProcessingReport")
    if report is None:
        raise ValueError("the document holds no ProcessingReport")
    result = ProcessingResult(
        processed=int(report.findtext("ProcessingSummary/MessagesProcessed") or 0),
        successful=int(report.findtext("ProcessingSummary/MessagesSuccessful") or 0),
        with_error=int(report.findtext("ProcessingSummary/MessagesWithError") or 0))
    for entry in report.findall("Result"):
        if (entry.findtext("ResultCode") or "").strip() != "Error":
            continue
        message_id = int(entry.findtext("MessageID") or 0)
        code = (entry.findtext("ResultMessageCode") or "").strip()
        description = (entry.findtext("ResultDescription") or "").strip()
        if message_id == 0:
            result.document_error = f"{code}: {description}"
        else:
            result.errors.setdefault(message_id, []).append((code, description))
    return result
