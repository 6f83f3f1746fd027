"""Reading a business order's buyer from an Orders API answer (pure: no Flask, no database).

Orders v0 puts the PO number in ``BuyerInfo.PurchaseOrderNumber`` and tax details in
``BuyerInfo.BuyerTaxInfo`` (company legal name, tax classifications) and, where Amazon has
them, ``BuyerTaxInformation`` (legal company name, tax registration id); all restricted."""

from __future__ import annotations

from dataclasses import dataclass

VAT_CLASSIFICATIONS = ("VATNumber", "VAT", "VATRegistrationNumber", "TaxRegistrationNumber")


@dataclass(frozen=True)
class BuyerFields:
    po_number: str
    company: str
    vat_id: str


def buyer_fields(order: dict) -> BuyerFields:
    info = order.get("BuyerInfo") or {}
    tax_info = info.get("BuyerTaxInfo") or {}
    tax = order.get("BuyerTaxInformation") or {}
    vat = next((str(c.get("Value") or "") for c in tax_info.get("TaxClassifications") or []
                if c.get("Name") in VAT_CLASSIFICATIONS and c.get("Value")), "")
    return BuyerFields(
        po_number=str(info.get("PurchaseOrderNumber") or "")[:80],
        company=str(tax_info.get("CompanyLegalName") or tax.get("BuyerLegalCompanyName")
                    or "")[:200],
        vat_id=(vat or str(tax.get("BuyerTaxRegistrationId") or "")).replace(" ", "")[:40])
