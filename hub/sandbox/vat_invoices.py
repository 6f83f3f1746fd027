"""The sandbox's ``UPLOAD_VAT_INVOICE`` feed: the checks of its ``feedOptions`` and of the
document, and its processing report.

Amazon documents the feed's metadata keys (OrderId or ShippingId, InvoiceNumber,
DocumentType, TotalAmount, TotalVATAmount, TransactionId; developer-docs "invoice feeds
attributes"), the EU marketplaces it serves and that the document is a PDF. Which options are
refused at createFeed and which in the processing report, and the error numbers, are the
sandbox's choice: malformed options are a 400 at createFeed; a document that is not a PDF, an
invoice number used before, an unknown order or a rejection the test asked for are errors in
the processing report."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

FEED_TYPE = "UPLOAD_VAT_INVOICE"
MARKETPLACES = ("A1RKKUPIHCS9HS", "A1F83G8C2ARO7P", "A13V1IB3VIYZZH", "A1PA6795UKMFR9",
                "APJ6JRA9NG5V4", "A1805IZSGTT6HS", "A1C3SOZRARQ6R3", "A2NODRKZP88ZB9")
KEYS = ("orderid", "shippingid", "invoicenumber", "documenttype", "totalamount",
        "totalvatamount", "transactionid")
DOCUMENT_TYPES = ("Invoice", "CreditNote")
E_NOT_PDF, E_DUPLICATE, E_UNKNOWN_ORDER, E_REJECTED = 19001, 19002, 19003, 19004


class OptionsError(ValueError):
    """The feed's options are refused at createFeed (HTTP 400 InvalidInput)."""


def read_options(options: object, marketplace_ids: list[str]) -> dict[str, str]:
    """The options by their lower-case key without the ``metadata:`` prefix, or OptionsError
    naming the first problem."""
    if not isinstance(options, dict) or not options:
        raise OptionsError("feedOptions are required for UPLOAD_VAT_INVOICE")
    if len(marketplace_ids) != 1 or marketplace_ids[0] not in MARKETPLACES:
        raise OptionsError("UPLOAD_VAT_INVOICE is available only in one EU VAT marketplace "
                           "per feed")
    read: dict[str, str] = {}
    for key, value in options.items():
        name = str(key).lower()
        if not name.startswith("metadata:") or name[9:] not in KEYS:
            raise OptionsError(f"Unknown feedOptions key {key!r}")
        if not isinstance(value, str) or not value.strip() or len(value) > 100:
            raise OptionsError(f"feedOptions {key!r} must be a non-empty text")
        read[name[9:]] = value.strip()
    if not read.get("orderid") and not read.get("shippingid"):
        raise OptionsError("metadata:OrderId or metadata:ShippingId is required")
    if read.get("documenttype", "Invoice") not in DOCUMENT_TYPES:
        raise OptionsError("metadata:DocumentType must be Invoice or CreditNote")
    if not read.get("invoicenumber"):
        raise OptionsError("metadata:InvoiceNumber is required")
    if read.get("documenttype") == "CreditNote" and not read.get("transactionid"):
        raise OptionsError("metadata:TransactionId is required for a CreditNote")
    for key in ("totalamount", "totalvatamount"):
        if key in read:
            try:
                amount = Decimal(read[key])
            except InvalidOperation as exc:
                raise OptionsError(f"metadata:{key} must be a decimal amount") from exc
            if not amount.is_finite() or amount < 0:
                raise OptionsError(f"metadata:{key} must be a decimal amount")
    if "totalamount" in read and "totalvatamount" in read and \
            Decimal(read["totalvatamount"]) > Decimal(read["totalamount"]):
        raise OptionsError("metadata:TotalVATAmount exceeds metadata:TotalAmount")
    return read


def is_pdf(data: bytes | None, content_type: str) -> bool:
    return (content_type.split(";")[0].strip() == "application/pdf" and bool(data)
            and data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:])


def check_document(options: dict[str, str], data: bytes | None, content_type: str,
                   used_numbers: set[str], order_known: bool,
                   rejection: str | None) -> tuple[int, str] | None:
    """The processing report's verdict: None when accepted, else (code, reason)."""
    if not is_pdf(data, content_type):
        return E_NOT_PDF, "The uploaded document is not a valid PDF"
    if not order_known:
        return E_UNKNOWN_ORDER, f"Order {options.get('orderid', '')} was not found"
    if options["invoicenumber"] in used_numbers:
        return E_DUPLICATE, (f"Invoice number {options['invoicenumber']} was already "
                             "uploaded for this marketplace")
    if rejection:
        return E_REJECTED, rejection
    return None
