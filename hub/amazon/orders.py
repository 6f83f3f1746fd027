"""Amazon orders for shopper lookups: an order the shopper types that Homing has not seen
is read from the Orders API and stored like any other order. Personal data is asked for only
when needed: the postal code comes with getOrder itself; the buyer's e-mail needs a
Restricted Data Token, requested only when the shopper proves the order by e-mail."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from decimal import Decimal

import httpx
from flask import Flask
from sqlalchemy.orm import Session

from hub.amazon.accounts import AccountUnavailable
from hub.amazon.connector import AmazonError, Connector, Throttled
from hub.audit.service import Actor
from hub.orders.models import Order
from hub.orders.service import upsert_order

log = logging.getLogger(__name__)
ORDER_ID = re.compile(r"^\d{3}-\d{7}-\d{7}$")
LOOKUP = Actor("system", None, "amazon-order-lookup")


class LookupUnavailable(Exception):
    """Amazon could not be asked right now (throttled, down, not configured)."""


def _amount(money: dict | None) -> str:
    return str(Decimal(str((money or {}).get("Amount") or "0")))


def _time(text: str | None) -> str | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).isoformat()


def _quantity(item: dict) -> int:
    """Units that reached the shopper: shipped when Amazon says, else ordered."""
    shipped = item.get("QuantityShipped")
    return int(shipped if shipped is not None else item.get("QuantityOrdered") or 0)


def order_payload(order: dict, items: list[dict], seller_id: str, now: datetime) -> dict:
    """An Orders API order and its items as Homing's order document (pure)."""
    currency = next((i["ItemPrice"]["CurrencyCode"] for i in items if i.get("ItemPrice")),
                    "USD")
    delivered = _time(order.get("LatestDeliveryDate"))
    status = {"Canceled": "cancelled", "Pending": "pending", "Unshipped": "pending",
              "PartiallyShipped": "shipped"}.get(order.get("OrderStatus", ""), "shipped")
    if status == "shipped" and order.get("OrderStatus") == "Shipped" and delivered \
            and datetime.fromisoformat(delivered) <= now:
        status = "delivered"
    address = order.get("ShippingAddress") or {}
    buyer = order.get("BuyerInfo") or {}
    channel = ("amazon-fba" if order.get("FulfillmentChannel") == "AFN" else
               "amazon-business" if order.get("IsBusinessOrder") else "amazon-mfn")
    return {
        "channel": channel, "order_id": order["AmazonOrderId"],
        "marketplace_id": order.get("MarketplaceId", ""), "seller_id": seller_id,
        "currency": currency, "status": status,
        "purchased_at": _time(order.get("PurchaseDate")), "delivered_at": delivered,
        "buyer": {"email": buyer.get("BuyerEmail", ""),
                  "postal_code": address.get("PostalCode", ""),
                  "country": address.get("CountryCode", "")},
        "lines": [{"item_id": i["OrderItemId"], "sku": i.get("SellerSKU") or i.get("ASIN", ""),
                   "asin": i.get("ASIN", ""), "title": i.get("Title", ""),
                   "quantity": _quantity(i),
                   "item_price": _amount(i.get("ItemPrice")),
                   "item_tax": _amount(i.get("ItemTax")),
                   "shipping_price": _amount(i.get("ShippingPrice")),
                   "shipping_tax": _amount(i.get("ShippingTax")),
                   # FBA orders carry the shipped units' serial numbers (electronics)
                   **({"serial_numbers": [str(s) for s in i["SerialNumbers"]][:999]}
                      if i.get("SerialNumbers") else {})}
                  for i in items if _quantity(i) > 0],
    }


def fetch(session: Session, connectors, accounts: list[tuple[str, str]], order_id: str,
          with_email: bool, now: datetime) -> Order | None:
    """Read ``order_id`` from Amazon for each account until one has it, and store it.
    None when no account has it; LookupUnavailable when Amazon could not be asked."""
    if not ORDER_ID.match(order_id):
        return None
    skipped = []
    for seller_id, marketplace_id in accounts:
        try:
            connector: Connector = connectors(seller_id)
        except AccountUnavailable as exc:
            skipped.append(exc)  # another account may have it; this one cannot be asked
            continue
        try:
            found = connector.order(marketplace_id, order_id, with_email=with_email)
            if found is None:
                continue
            items = connector.order_items(marketplace_id, order_id)
        except (AmazonError, Throttled, httpx.HTTPError, OSError) as exc:
            log.warning("order lookup at Amazon failed: %s", type(exc).__name__)
            raise LookupUnavailable(str(exc)) from exc
        order, _created = upsert_order(session, order_payload(found, items, seller_id, now),
                                       actor=LOOKUP)
        return order
    if skipped:  # not found among the others: this account might have it, we cannot tell
        raise LookupUnavailable(str(skipped[0]))
    return None


def lookup_from_app(app: Flask, session: Session, order_id: str, with_email: bool,
                    now: datetime) -> Order | None:
    """The shopper portal's entry point: only when an Amazon connection is configured."""
    from hub.amazon import jobs

    if not jobs.configured(app):
        return None
    accounts = sorted(set(jobs.accounts()) | {tuple(a) for a in
                                              app.config.get("AMAZON_ACCOUNTS") or []})
    make = jobs.connector_for(app)
    try:
        order = fetch(session, make, accounts, order_id, with_email, now)
    finally:
        make.tracker.save(session)
    if order is not None:
        session.commit()  # Amazon's copy is kept even if this request then refuses the shopper
    return order
