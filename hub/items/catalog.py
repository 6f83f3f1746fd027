"""The item's GTIN from Amazon's catalog (Catalog Items API 2022-04-01, getCatalogItem with
includedData=identifiers), for Amazon order lines whose import did not carry one.

Amazon answers yes (a GTIN), no (it knows no EAN/UPC for the ASIN, or not the ASIN) or
don't-know (throttled, down, no answer): don't-know is never stored, so a later scan asks
again, and it never stops the counter (the clerk checks the item by eye)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx

from hub.amazon.connector import AmazonError, Throttled
from hub.items import gtin

log = logging.getLogger(__name__)

# Amazon's identifier types that are GTINs, in the order we trust them.
GTIN_TYPES = ("GTIN", "EAN", "UPC", "JAN")
COUNTER_TIMEOUT = 4.0  # seconds: a clerk and a shopper are waiting


class CatalogUnsure(Exception):
    """Amazon could not be asked or did not answer: we do not know."""


Lookup = Callable[[str, str, str], "list[dict] | None"]


def gtin_from_identifiers(identifiers: list[dict] | None) -> str:
    """The first valid GTIN among Amazon's identifiers, as 14 digits; "" when none."""
    by_type = {}
    for item in identifiers or []:
        kind, value = str(item.get("identifierType", "")).upper(), item.get("identifier")
        if kind in GTIN_TYPES and kind not in by_type:
            try:
                by_type[kind] = gtin.normalise(str(value))
            except gtin.GtinError:
                continue  # a malformed identifier in the catalog proves nothing
    return next((by_type[k] for k in GTIN_TYPES if k in by_type), "")


def connector_lookup(app) -> Lookup | None:
    """A lookup through python-amazon-sp-api (Amazon or the sandbox), or None when no
    Amazon connection is configured. Errors become CatalogUnsure."""
    from hub.amazon import jobs

    if not jobs.configured(app):
        return None
    make = jobs.connector_for(app)

    def lookup(seller_id: str, marketplace_id: str, asin: str) -> list[dict] | None:
        connector = make(seller_id)
        connector.timeout = min(connector.timeout, COUNTER_TIMEOUT)
        try:
            return connector.catalog_identifiers(marketplace_id, asin)
        except (AmazonError, Throttled, httpx.HTTPError, OSError, ValueError) as exc:
            log.warning("catalog lookup failed: %s", type(exc).__name__)
            raise CatalogUnsure(type(exc).__name__) from exc

    return lookup
