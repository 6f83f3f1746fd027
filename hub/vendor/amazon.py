"""The vendor feature's one door to Amazon: Vendor Invoices ``submitInvoices`` and Vendor
Transaction Status ``getTransaction``, through python-amazon-sp-api and Homing's connector
(token buckets, yes / no / don't-know). ``vendor_connector`` is the one place that picks the
account: today the connector's credentials; per-account credentials plug in here."""

from __future__ import annotations

from flask import Flask
from sp_api.api import VendorInvoices, VendorTransactionStatus

from hub.amazon.connector import AmazonUnsure, Connector


class VendorAmazon:
    def __init__(self, connector: Connector, marketplace_id: str, vendor_code: str):
        self.connector, self.marketplace_id = connector, marketplace_id
        self.vendor_code = vendor_code

    def submit_invoices(self, body: dict) -> str:
        """The transaction id Amazon answered; AmazonError (a clear no) or AmazonUnsure."""
        client = self.connector._client(VendorInvoices, self.marketplace_id)
        response = self.connector.call("submitInvoices",
                                       lambda: client.submit_invoices(body))
        payload = response.payload if isinstance(response.payload, dict) else {}
        transaction_id = payload.get("transactionId")
        if not transaction_id:
            raise AmazonUnsure("submitInvoices", "UnreadableAnswer", "no transactionId")
        return str(transaction_id)

    def transaction(self, transaction_id: str) -> dict:
        """{"status": Success | Failure | Processing, "errors": [...]}"""
        client = self.connector._client(VendorTransactionStatus, self.marketplace_id)
        response = self.connector.call("getTransaction",
                                       lambda: client.get_transaction(transaction_id))
        payload = response.payload if isinstance(response.payload, dict) else {}
        status = (payload.get("transactionStatus") or {})
        if status.get("status") not in ("Success", "Failure", "Processing"):
            raise AmazonUnsure("getTransaction", "UnreadableAnswer", "no transaction status")
        return {"status": status["status"], "errors": status.get("errors") or []}


def vendor_connector(app: Flask) -> VendorAmazon:
    vendor_code = app.config.get("VENDOR_CODE") or "HOMINGVENDOR"
    return VendorAmazon(Connector.from_app(app, f"vendor:{vendor_code}"),
                        app.config.get("VENDOR_MARKETPLACE_ID") or "ATVPDKIKX0DER",
                        vendor_code)
