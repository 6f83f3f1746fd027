"""The refund feed Homing sends Amazon (POST_PAYMENT_ADJUSTMENT_DATA) and the processing
report Amazon sends back. Pure code: no Flask, no database.

One Message per refund (one order), one AdjustedItem per refunded order line, carrying our
MerchantAdjustmentItemID (the key settlements are matched on). Amounts are line totals and no
Quantity is sent: whether Amazon reads Amount per unit when Quantity is present is unsettled
(amazon-spapi.md §2.2), and a line total is unambiguous.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from decimal import Decimal

from hub.money import exponent

FEED_TYPE = "POST_PAYMENT_ADJUSTMENT_DATA"
CONTENT_TYPE = "text/xml; charset=UTF-8"
# Our breakdown's component -> (feed section, Amazon component type). Deductions stay
# negative: a restocking fee or a promotion given back lowers the refund.
COMPONENT_MAP = {
    "Principal": ("ItemPriceAdjustments", "Principal"),
    "Tax": ("ItemPriceAdjustments", "Tax"),
    "Shipping": ("ItemPriceAdjustments", "Shipping"),
    "ShippingTax": ("ItemPriceAdjustments", "ShippingTax"),
    "RestockingFee": ("ItemPriceAdjustments", "RestockingFee"),
    "Promotion": ("PromotionAdjustments", "Principal"),
    "PromotionClawback": ("PromotionAdjustments", "Principal"),
}


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


def _adjusted_item(parent: ET.Element, line: FeedLine, currency: str, reason: str) -> None:
    item = ET.SubElement(parent, "AdjustedItem")
    ET.SubElement(item, "AmazonOrderItemCode").text = line.item_code
    ET.SubElement(item, "MerchantAdjustmentItemID").text = line.adjustment_item_id
    ET.SubElement(item, "AdjustmentReason").text = reason
    sections: dict[str, dict[str, int]] = {}
    for name, minor in line.components.items():
        if not minor:
            continue
        if name not in COMPONENT_MAP:
            raise ValueError(f"component {name!r} has no place in an adjustment feed")
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
