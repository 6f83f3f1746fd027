"""Vendor Central (1P): Amazon's vendor returns (VRET) received at a store or DC, Vendor
Central's exports (returns, debit notes, chargebacks, shortage and co-op claims) imported and
matched to what arrived, the differences disputed with an evidence pack, and returns credit
notes submitted to Amazon with ``submitInvoices``."""
