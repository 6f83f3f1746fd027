"""A German Amazon Business order known to Homing and to the sandbox, with the buyer's PO
number, company and VAT id behind a Restricted Data Token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.sandbox.fixtures import order_fixture

DE = "A1PA6795UKMFR9"
BUSINESS_ORDER = "302-1234567-7654321"
BUYER_INFO = {"BuyerEmail": "einkauf@example.de", "PurchaseOrderNumber": "PO-4711-2026",
              "BuyerTaxInfo": {"CompanyLegalName": "Muster Maschinenbau GmbH",
                               "TaxingRegion": "DE",
                               "TaxClassifications": [{"Name": "VATNumber",
                                                       "Value": "DE123456789"}]}}
BUSINESS_LINES = [
    {"item_id": "33333333333333", "sku": "DRILL-1", "title": "Akku-Bohrschrauber",
     "category": "general", "quantity": 2, "item_price": "200.00", "item_tax": "38.00"},
    {"item_id": "44444444444444", "sku": "BOOK-1", "title": "Fachbuch",
     "category": "general", "quantity": 1, "item_price": "50.00", "item_tax": "3.50"},
]


def business_order_payload(order_id: str = BUSINESS_ORDER) -> dict:
    delivered = datetime.now(UTC) - timedelta(days=2)
    return {"status": "delivered", "delivered_at": delivered.isoformat(),
            "purchased_at": (delivered - timedelta(days=2)).isoformat(),
            "channel": "amazon-business", "order_id": order_id, "marketplace_id": DE,
            "seller_id": "A1DEMOSELLER",
            "currency": "EUR", "buyer": {"email": "einkauf@example.de", "postal_code": "10115",
                                         "country": "DE"},
            "lines": BUSINESS_LINES}


def sandbox_fixture(order) -> dict:
    fixture = order_fixture(order)
    fixture["BuyerInfo"] = BUYER_INFO
    fixture["IsBusinessOrder"] = True
    return fixture
