"""Precomputed answers for the store counter's two lookups (voucher check, intake page)."""
