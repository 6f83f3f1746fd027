"""Amazon Business and VAT credit notes, pure parts: policy rules, the return-rate alert,
reading the buyer from an Orders answer, the VAT breakdown per rate, the sandbox's checks
of the VAT invoice feed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hub.business.buyer import buyer_fields
from hub.creditnotes import vat
from hub.policy.document import default_policy, validate_policy, voucher_ttl_days
from hub.policy.risk import RiskContext, assess
from hub.sandbox import vat_invoices


def test_business_orders_have_their_own_window_and_voucher_length():
    policy = default_policy()
    assert voucher_ttl_days(policy, "amazon-business") == 7
    assert voucher_ttl_days(policy, "amazon-mfn") == 14
    assert policy["windows"]["by_channel"]["amazon-business"] == 7
    older = {k: v for k, v in policy.items() if k != "business"}  # saved before the section
    assert voucher_ttl_days(older, "amazon-business") == 7 and validate_policy(older) == []


@pytest.mark.parametrize("bad, field", [
    ({"voucher_ttl_days": 0}, "business.voucher_ttl_days"),
    ({"voucher_ttl_days": "7"}, "business.voucher_ttl_days"),
    ({"return_rate_alert_percent": 120}, "business.return_rate_alert_percent"),
    ({"return_rate_alert_percent": True}, "business.return_rate_alert_percent"),
])
def test_bad_business_rules_are_named(bad, field):
    policy = default_policy()
    policy["business"].update(bad)
    assert field in {e["field"] for e in validate_policy(policy)}


def test_the_return_rate_alert_fires_above_the_threshold_only():
    policy = default_policy()
    at = assess(RiskContext("EUR", 1000, business_units_returned=1,
                            business_units_bought=10), policy)
    assert "business_return_rate" not in {f.code for f in at.flags}  # 10 % is not above
    above = assess(RiskContext("EUR", 1000, business_units_returned=2,
                               business_units_bought=10), policy)
    [flag] = [f for f in above.flags if f.code == "business_return_rate"]
    assert flag.params == {"percent": "20.0"} and above.action == "supervisor"
    assert assess(RiskContext("EUR", 1000), policy).flags == ()  # not a business order


def test_buyer_fields_from_buyer_info_and_tax_information():
    info = {"BuyerInfo": {"PurchaseOrderNumber": "PO-1",
                          "BuyerTaxInfo": {"CompanyLegalName": "ACME SE",
                                           "TaxClassifications": [
                                               {"Name": "CNPJ", "Value": "x"},
                                               {"Name": "VATNumber", "Value": "FR 12 345"}]}}}
    assert buyer_fields(info) == buyer_fields(info)
    fields = buyer_fields(info)
    assert (fields.po_number, fields.company, fields.vat_id) == ("PO-1", "ACME SE", "FR12345")
    turkish = buyer_fields({"BuyerTaxInformation": {"BuyerLegalCompanyName": "Örnek AŞ",
                                                    "BuyerTaxRegistrationId": "1234567890"}})
    assert (turkish.company, turkish.vat_id, turkish.po_number) == ("Örnek AŞ", "1234567890", "")
    assert buyer_fields({}).company == ""


def test_vat_breakdown_per_rate_sums_to_the_refund():
    lines = [vat.RefundedLine(11900, {"Principal": 10000, "Tax": 1900}, 20000, 3800, False),
             vat.RefundedLine(5350, {"Principal": 5000, "Tax": 350}, 5000, 350, False),
             vat.RefundedLine(2380, {"Principal": 2000, "Tax": 380}, 4000, 760, False)]
    rates = vat.breakdown(lines)
    assert [r.rate for r in rates] == [Decimal("19.0"), Decimal("7.0")]
    assert rates[0].as_dict() == {"rate": "19.0", "net_minor": 12000, "vat_minor": 2280,
                                  "gross_minor": 14280}
    assert vat.totals(rates) == (11900 + 5350 + 2380, 1900 + 350 + 380)
    assert vat.line_rate(11900, 1900, True) == Decimal("19.0")
    assert vat.line_rate(0, 0, False) == Decimal("0.0")
    assert vat.number_text("DE", 42) == "CN-DE-000042"


GOOD = {"metadata:OrderId": "302-1234567-7654321", "metadata:InvoiceNumber": "CN-DE-000001",
        "metadata:DocumentType": "CreditNote", "metadata:TransactionId": "refund-1",
        "metadata:TotalAmount": "119.00", "metadata:TotalVATAmount": "19.00"}


@pytest.mark.parametrize("options", [
    None, {}, {**GOOD, "metadata:DocumentType": "Quote"},
    {**GOOD, "metadata:TotalAmount": "NaN"}, {**GOOD, "metadata:TotalAmount": "-1"},
    {**GOOD, "metadata:InvoiceNumber": ""}, {**GOOD, "metadata:InvoiceNumber": "x" * 101},
    {**GOOD, "OrderId": "302-1234567-7654321"}, {**GOOD, "metadata:TotalVATAmount": "200"},
])
def test_the_sandbox_refuses_bad_feed_options(options):
    with pytest.raises(vat_invoices.OptionsError):
        vat_invoices.read_options(options, ["A1PA6795UKMFR9"])


def test_the_sandbox_checks_the_document():
    options = vat_invoices.read_options(GOOD, ["A1PA6795UKMFR9"])
    pdf = b"%PDF-1.4\n...\n%%EOF\n"
    assert vat_invoices.check_document(options, pdf, "application/pdf", set(), True, None) \
        is None
    assert vat_invoices.check_document(options, b"<html>", "application/pdf", set(), True,
                                       None)[0] == vat_invoices.E_NOT_PDF
    assert vat_invoices.check_document(options, pdf, "text/plain", set(), True,
                                       None)[0] == vat_invoices.E_NOT_PDF
    assert vat_invoices.check_document(options, pdf, "application/pdf", {"CN-DE-000001"},
                                       True, None)[0] == vat_invoices.E_DUPLICATE
    with pytest.raises(vat_invoices.OptionsError):
        vat_invoices.read_options(GOOD, ["ATVPDKIKX0DER"])
