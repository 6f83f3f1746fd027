"""The sandbox's Vendor Central desk: Vendor Invoices ``submitInvoices`` and Vendor
Transaction Status ``getTransaction`` for vendors (models vendorInvoices.json and
vendorTransactionStatus.json of amzn/selling-partner-api-models).

The request is validated against the model as Amazon's API gateway does (required fields,
enums, Decimal and date-time formats, a two-letter country code; a bad body is a 400
InvalidInput at once). The business rules are checked when the transaction is processed and
answer a ``Failure`` with errors; their codes are the emulator's choice (Amazon's are not
published): a credit note number already accepted (DuplicateInvoice), a returns credit note
without ``returnsReferenceNumber`` or ``goodsReturnDate`` (MissingReturnsReference), an
invoice total that is not the sum of its items (TotalMismatch), and any rejection a test
queued (``reject_next``)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

DECIMAL = re.compile(r"^-?(0|([1-9]\d*))(\.\d+)?([eE][+-]?\d+)?$")
INVOICE_TYPES = ("Invoice", "CreditNote")
UNITS_OF_MEASURE = ("Cases", "Eaches")
TAX_TYPES = ("CGST", "SGST", "CESS", "UTGST", "IGST", "MwSt.", "PST", "TVA", "VAT", "GST",
             "ST", "Consumption", "MutuallyDefined", "DomesticVAT")
TAX_REGISTRATION_TYPES = ("VAT", "GST")
CREDIT_NOTE_FIELDS = ("referenceInvoiceNumber", "debitNoteNumber", "returnsReferenceNumber",
                      "goodsReturnDate", "rmaId", "coopReferenceNumber",
                      "consignorsReferenceNumber")


class InvalidRequest(ValueError):
    pass


@dataclass
class Transaction:
    id: str
    vendor: str
    invoices: list[dict]
    outcome: str = "Success"  # decided when Amazon receives it, in arrival order
    errors: list[dict] = field(default_factory=list)
    checks_left: int = 0  # getTransaction calls answered Processing before the outcome


def _date_time(value, path: str) -> None:
    if not isinstance(value, str):
        raise InvalidRequest(f"{path} must be an ISO 8601 date-time")
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest(f"{path} must be an ISO 8601 date-time") from None


def _string(value, path: str, required: bool = False, max_length: int | None = None) -> None:
    if value is None:
        if required:
            raise InvalidRequest(f"{path} is required")
        return
    if not isinstance(value, str):
        raise InvalidRequest(f"{path} must be a string")
    if max_length is not None and len(value) > max_length:
        raise InvalidRequest(f"{path} is longer than {max_length}")


def _object(value, path: str) -> dict:
    if not isinstance(value, dict):
        raise InvalidRequest(f"{path} must be an object")
    return value


def _money(value, path: str) -> None:
    money = _object(value, path)
    _string(money.get("currencyCode"), f"{path}.currencyCode")
    amount = money.get("amount")
    if amount is not None and (not isinstance(amount, str) or not DECIMAL.match(amount)):
        raise InvalidRequest(f"{path}.amount must be a Decimal string")


def _party(value, path: str) -> None:
    party = _object(value, path)
    _string(party.get("partyId"), f"{path}.partyId", required=True)
    if "address" in party:
        address = _object(party["address"], f"{path}.address")
        for name in ("name", "addressLine1", "countryCode"):
            _string(address.get(name), f"{path}.address.{name}", required=True)
        _string(address.get("countryCode"), f"{path}.address.countryCode", max_length=2)
    for i, detail in enumerate(party.get("taxRegistrationDetails") or []):
        detail = _object(detail, f"{path}.taxRegistrationDetails[{i}]")
        if detail.get("taxRegistrationType") not in TAX_REGISTRATION_TYPES:
            raise InvalidRequest(f"{path}.taxRegistrationDetails[{i}].taxRegistrationType")
        _string(detail.get("taxRegistrationNumber"),
                f"{path}.taxRegistrationDetails[{i}].taxRegistrationNumber", required=True)


def _taxes(value, path: str) -> None:
    if not isinstance(value, list):
        raise InvalidRequest(f"{path} must be an array")
    for i, tax in enumerate(value):
        tax = _object(tax, f"{path}[{i}]")
        if tax.get("taxType") not in TAX_TYPES:
            raise InvalidRequest(f"{path}[{i}].taxType must be one of {', '.join(TAX_TYPES)}")
        if "taxAmount" not in tax:
            raise InvalidRequest(f"{path}[{i}].taxAmount is required")
        _money(tax["taxAmount"], f"{path}[{i}].taxAmount")


def _item(value, path: str) -> None:
    item = _object(value, path)
    for name in ("invoicedQuantity", "itemSequenceNumber", "netCost"):
        if name not in item:
            raise InvalidRequest(f"{path}.{name} is required")
    if not isinstance(item["itemSequenceNumber"], int) or \
            isinstance(item["itemSequenceNumber"], bool):
        raise InvalidRequest(f"{path}.itemSequenceNumber must be an integer")
    quantity = _object(item["invoicedQuantity"], f"{path}.invoicedQuantity")
    amount = quantity.get("amount")
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise InvalidRequest(f"{path}.invoicedQuantity.amount must be an integer")
    if quantity.get("unitOfMeasure") not in UNITS_OF_MEASURE:
        raise InvalidRequest(f"{path}.invoicedQuantity.unitOfMeasure must be Cases or Eaches")
    _money(item["netCost"], f"{path}.netCost")
    for name in ("amazonProductIdentifier", "vendorProductIdentifier", "purchaseOrderNumber"):
        _string(item.get(name), f"{path}.{name}")
    if "creditNoteDetails" in item:
        details = _object(item["creditNoteDetails"], f"{path}.creditNoteDetails")
        for name in CREDIT_NOTE_FIELDS:
            if name == "goodsReturnDate" and name in details:
                _date_time(details[name], f"{path}.creditNoteDetails.{name}")
            elif name != "goodsReturnDate":
                _string(details.get(name), f"{path}.creditNoteDetails.{name}")
    if "taxDetails" in item:
        _taxes(item["taxDetails"], f"{path}.taxDetails")


def validate_request(body) -> list[dict]:
    """The invoices of a SubmitInvoicesRequest; InvalidRequest names the first problem."""
    body = _object(body, "body")
    invoices = body.get("invoices")
    if not isinstance(invoices, list) or not invoices:
        raise InvalidRequest("invoices must be a non-empty array")
    for i, invoice in enumerate(invoices):
        path = f"invoices[{i}]"
        invoice = _object(invoice, path)
        for name in ("date", "id", "invoiceTotal", "invoiceType", "remitToParty"):
            if name not in invoice:
                raise InvalidRequest(f"{path}.{name} is required")
        if invoice["invoiceType"] not in INVOICE_TYPES:
            raise InvalidRequest(f"{path}.invoiceType must be Invoice or CreditNote")
        _string(invoice["id"], f"{path}.id", required=True)
        _date_time(invoice["date"], f"{path}.date")
        _party(invoice["remitToParty"], f"{path}.remitToParty")
        for name in ("shipToParty", "shipFromParty", "billToParty"):
            if name in invoice:
                _party(invoice[name], f"{path}.{name}")
        _money(invoice["invoiceTotal"], f"{path}.invoiceTotal")
        if "taxDetails" in invoice:
            _taxes(invoice["taxDetails"], f"{path}.taxDetails")
        items = invoice.get("items", [])
        if not isinstance(items, list):
            raise InvalidRequest(f"{path}.items must be an array")
        for j, item in enumerate(items):
            _item(item, f"{path}.items[{j}]")
    return invoices


def business_errors(invoice: dict, accepted_ids: set[str]) -> list[dict]:
    """Why Amazon would refuse this invoice when processing it (emulator's codes)."""
    errors = []
    if invoice["id"] in accepted_ids:
        errors.append({"code": "DuplicateInvoice",
                       "message": f"Credit note {invoice['id']} was already submitted."})
    items = invoice.get("items") or []
    if invoice["invoiceType"] == "CreditNote":
        details = [i.get("creditNoteDetails") or {} for i in items]
        if not items or any(not d.get("returnsReferenceNumber") or not d.get("goodsReturnDate")
                            for d in details):
            errors.append({"code": "MissingReturnsReference",
                           "message": "returnsReferenceNumber and goodsReturnDate are "
                                      "mandatory for a returns credit note."})
    total = sum((Decimal(i["netCost"].get("amount") or "0") * i["invoicedQuantity"]["amount"]
                 for i in items), Decimal(0))
    stated = Decimal(invoice["invoiceTotal"].get("amount") or "0")
    if items and total != stated:
        errors.append({"code": "TotalMismatch",
                       "message": f"invoiceTotal {stated} is not the sum of the items ({total})."})
    return errors


class VendorDesk:
    """Transactions of submitted invoices, decided on arrival (so a duplicate is one whether
or not anyone asked for the first one's status)."""

    def __init__(self) -> None:
        self.transactions: dict[str, Transaction] = {}
        self.accepted: dict[str, set[str]] = {}  # vendor -> invoice ids Amazon took
        self.reject_next: list[dict] = []  # errors the next transactions fail with
        self.processing_checks = 0  # how many checks answer Processing first
        self.submitted: list[dict] = []  # every invoice received, for assertions

    def submit(self, vendor: str, body) -> str:
        invoices = validate_request(body)
        transaction = Transaction(str(uuid.uuid4()), vendor, invoices,
                                  checks_left=self.processing_checks)
        self.transactions[transaction.id] = transaction
        self.submitted.extend(invoices)
        self._decide(transaction)
        return transaction.id

    def status(self, vendor: str, transaction_id: str) -> dict | None:
        transaction = self.transactions.get(transaction_id)
        if transaction is None or transaction.vendor != vendor:
            return None
        if transaction.checks_left > 0:
            transaction.checks_left -= 1
            return {"transactionStatus": {"transactionId": transaction.id,
                                          "status": "Processing"}}
        answer = {"transactionId": transaction.id, "status": transaction.outcome}
        if transaction.errors:
            answer["errors"] = transaction.errors
        return {"transactionStatus": answer}

    def _decide(self, transaction: Transaction) -> None:
        accepted = self.accepted.setdefault(transaction.vendor, set())
        errors = list(self.reject_next.pop(0)["errors"]) if self.reject_next else []
        for invoice in transaction.invoices:
            errors.extend(business_errors(invoice, accepted))
        if errors:
            transaction.outcome, transaction.errors = "Failure", errors
            return
        transaction.outcome = "Success"
        accepted.update(i["id"] for i in transaction.invoices)
