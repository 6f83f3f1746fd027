"""Order adjustment feeds as Amazon reads them: parse a POST_PAYMENT_ADJUSTMENT_DATA envelope,
validate each message, and write the processing report.

Pure code (no Flask, no state): the emulator decides what an accepted adjustment changes.
Element names and enumerations follow Amazon's OrderAdjustment.xsd / amzn-base.xsd
(../shared/reference/amazon-spapi.md §2.2)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

ADJUSTMENT_REASONS = frozenset({
    "NoInventory", "CustomerReturn", "GeneralAdjustment", "CouldNotShip", "DifferentItem",
    "Abandoned", "CustomerCancel", "PriceError", "ProductOutofStock", "CustomerAddressIncorrect",
    "Exchange", "Other", "CarrierCreditDecision", "RiskAssessmentInformationNotValid",
    "CarrierCoverageFailure", "TransactionRecord", "Undeliverable", "RefusedDelivery"})
COMPONENT_TYPES = frozenset({
    "Principal", "Shipping", "Tax", "ShippingTax", "RestockingFee", "RestockingFeeTax",
    "GiftWrap", "GiftWrapTax", "Surcharge", "ReturnShipping", "Goodwill", "ExportCharge", "COD",
    "CODTax", "Other", "FreeReplacementReturnShipping"})
PROMOTION_TYPES = frozenset({"Principal", "Shipping"})
ORDER_ID = re.compile(r"^\w{3}-\w{7}-\w{7}$")
ITEM_CODE = re.compile(r"^\d{14}$")
AMOUNT = re.compile(r"^-?\d{1,18}(\.\d{1,2})?$")


class MalformedFeed(ValueError):
    """The document as a whole cannot be read (Amazon's error 5000)."""


@dataclass
class Component:
    type: str
    amount: Decimal
    currency: str


@dataclass
class AdjustedItem:
    item_code: str
    merchant_adjustment_item_id: str
    reason: str
    components: list[Component] = field(default_factory=list)
    promotions: list[Component] = field(default_factory=list)
    quantity: int | None = None


@dataclass
class Message:
    message_id: int
    amazon_order_id: str
    action: str
    items: list[AdjustedItem]
    errors: list[tuple[int, str]] = field(default_factory=list)  # (code, description)


def parse_envelope(data: bytes) -> tuple[str, list[Message]]:
    """The merchant id and the messages of an envelope. Shape errors inside one message are
    kept on the message (that message fails); a broken envelope raises MalformedFeed."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise MalformedFeed(f"XML parsing error: {exc}") from exc
    if root.tag != "AmazonEnvelope":
        raise MalformedFeed("The root element must be AmazonEnvelope")
    merchant = (root.findtext("Header/MerchantIdentifier") or "").strip()
    if not merchant:
        raise MalformedFeed("Header/MerchantIdentifier is missing")
    if (root.findtext("MessageType") or "").strip() != "OrderAdjustment":
        raise MalformedFeed("MessageType must be OrderAdjustment for this feed type")
    messages, seen = [], set()
    for element in root.findall("Message"):
        raw_id = (element.findtext("MessageID") or "").strip()
        if not raw_id.isdigit():
            raise MalformedFeed(f"MessageID {raw_id!r} is not a positive integer")
        if int(raw_id) in seen:
            raise MalformedFeed(f"MessageID {raw_id} is used twice")
        seen.add(int(raw_id))
        messages.append(_message(int(raw_id), element))
    if not messages:
        raise MalformedFeed("The envelope holds no Message")
    return merchant, messages


def _message(message_id: int, element: ET.Element) -> Message:
    adjustment = element.find("OrderAdjustment")
    message = Message(message_id, "", "Refund", [])
    if adjustment is None:
        message.errors.append((5000, "Message has no OrderAdjustment element"))
        return message
    message.amazon_order_id = (adjustment.findtext("AmazonOrderID") or "").strip()
    message.action = (adjustment.findtext("ActionType") or "Refund").strip()
    if not ORDER_ID.match(message.amazon_order_id):
        message.errors.append((5000, f"AmazonOrderID {message.amazon_order_id!r} does not "
                                     "match the pattern \\w{3}-\\w{7}-\\w{7}"))
    if message.action not in ("Refund", "Cancel"):
        message.errors.append((5000, f"ActionType {message.action!r} is not Refund or Cancel"))
    for item in adjustment.findall("AdjustedItem"):
        message.items.append(_item(item, message))
    if not message.items:
        message.errors.append((5000, "OrderAdjustment has no AdjustedItem"))
    return message


def _item(element: ET.Element, message: Message) -> AdjustedItem:
    item = AdjustedItem(
        item_code=(element.findtext("AmazonOrderItemCode") or "").strip(),
        merchant_adjustment_item_id=(element.findtext("MerchantAdjustmentItemID") or "").strip(),
        reason=(element.findtext("AdjustmentReason") or "").strip())
    if not ITEM_CODE.match(item.item_code):
        message.errors.append((5000, f"AmazonOrderItemCode {item.item_code!r} must be 14 "
                                     "digits"))
    if item.reason not in ADJUSTMENT_REASONS:
        message.errors.append((5000, f"AdjustmentReason {item.reason!r} is not a valid value"))
    for comp in element.findall("ItemPriceAdjustments/Component"):
        item.components.append(_component(comp, COMPONENT_TYPES, message))
    for comp in element.findall("PromotionAdjustments/Component"):
        item.promotions.append(_component(comp, PROMOTION_TYPES, message))
    if element.find("ItemPriceAdjustments") is not None and not item.components:
        message.errors.append((5000, "ItemPriceAdjustments must hold Component elements"))
    quantity = element.findtext("Quantity")
    if quantity is not None:
        item.quantity = int(quantity) if quantity.strip().isdigit() else -1
        if item.quantity < 1:
            message.errors.append((5000, f"Quantity {quantity!r} is not a positive integer"))
    return item


def _component(element: ET.Element, allowed: frozenset[str], message: Message) -> Component:
    kind = (element.findtext("Type") or "").strip()
    amount_el = element.find("Amount")
    text = (amount_el.text or "").strip() if amount_el is not None else ""
    currency = amount_el.get("currency", "") if amount_el is not None else ""
    if kind not in allowed:
        message.errors.append((5000, f"Component Type {kind!r} is not a valid value"))
    try:
        amount = Decimal(text) if AMOUNT.match(text) else None
    except InvalidOperation:
        amount = None
    if amount is None:
        message.errors.append((5000, f"Amount {text!r} is not a decimal with at most 2 "
                                     "fraction digits"))
        amount = Decimal(0)
    if not currency:
        message.errors.append((5000, "Amount has no currency attribute"))
    return Component(kind, amount, currency)


def processing_report(feed_id: str, outcomes: list[tuple[Message | None, int, str]],
                      processed: int) -> bytes:
    """The result document: ``outcomes`` holds (message, code, description) for every message
    with an error; ``processed`` counts all messages read."""
    envelope = ET.Element("AmazonEnvelope")
    header = ET.SubElement(envelope, "Header")
    ET.SubElement(header, "DocumentVersion").text = "1.02"
    ET.SubElement(header, "MerchantIdentifier").text = "SANDBOX"
    ET.SubElement(envelope, "MessageType").text = "ProcessingReport"
    message = ET.SubElement(envelope, "Message")
    ET.SubElement(message, "MessageID").text = "1"
    report = ET.SubElement(message, "ProcessingReport")
    ET.SubElement(report, "DocumentTransactionID").text = feed_id
    ET.SubElement(report, "StatusCode").text = "Complete"
    summary = ET.SubElement(report, "ProcessingSummary")
    failed = {m.message_id for m, _c, _d in outcomes if m is not None}
    errors = processed if any(m is None for m, _c, _d in outcomes) else len(failed)
    ET.SubElement(summary, "MessagesProcessed").text = str(processed)
    ET.SubElement(summary, "MessagesSuccessful").text = str(processed - errors)
    ET.SubElement(summary, "MessagesWithError").text = str(errors)
    ET.SubElement(summary, "MessagesWithWarning").text = "0"
    for msg, code, description in outcomes:
        result = ET.SubElement(report, "Result")
        ET.SubElement(result, "MessageID").text = str(msg.message_id if msg else 0)
        ET.SubElement(result, "ResultCode").text = "Error"
        ET.SubElement(result, "ResultMessageCode").text = str(code)
        ET.SubElement(result, "ResultDescription").text = description
        if msg is not None:
            info = ET.SubElement(result, "AdditionalInfo")
            ET.SubElement(info, "AmazonOrderID").text = msg.amazon_order_id
    return ET.tostring(envelope, encoding="utf-8", xml_declaration=True)
