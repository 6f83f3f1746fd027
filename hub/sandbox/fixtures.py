"""Homing's orders as sandbox fixtures, so the demo's (and tests') Amazon knows the orders
Homing refunds against."""

from __future__ import annotations

import sqlalchemy as sa

from hub.orders.models import Order
from hub.refunds.engine import allocate


def _discounts(order: Order) -> dict[int, int]:
    """Each line's promotion discount as Amazon's getOrderItems shows it (PromotionDiscount):
    its own promotions and its price share of the order's (the refund engine's split)."""
    lines = list(order.lines)
    out = {ln.id: sum(p["amount_minor"] for p in ln.promotions or []) for ln in lines}
    for promo in order.promotions or []:
        for ln, part in zip(lines, allocate(promo["amount_minor"],
                                            [ln.item_price for ln in lines]), strict=True):
            out[ln.id] += part
    return out


def order_fixture(order: Order) -> dict:
    discounts = _discounts(order)
    return {
        "AmazonOrderId": order.external_id, "seller_id": order.seller_id,
        "MarketplaceId": order.marketplace_id, "currency": order.currency,
        "OrderStatus": "Shipped",
        "PurchaseDate": order.purchased_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        if order.purchased_at else None,
        "IsBusinessOrder": order.is_business,
        "items": [{"OrderItemId": line.external_item_id, "SellerSKU": line.sku,
                   "ASIN": line.asin, "Title": line.title, "QuantityOrdered": line.quantity,
                   "QuantityShipped": line.quantity, "ItemPrice": line.item_price,
                   "ItemTax": line.item_tax, "ShippingPrice": line.shipping_price,
                   "ShippingTax": line.shipping_tax, "PromotionDiscount": discounts[line.id]}
                  for line in order.lines]}


def hub_order(order_id: str) -> dict | None:
    """The demo's Amazon knows the Amazon orders Homing knows (read in the sandbox's request,
    in the app's context)."""
    from hub.extensions import db

    order = db.session.scalar(sa.select(Order).where(
        Order.external_id == order_id, Order.channel.in_(("amazon-mfn", "amazon-business"))))
    return order_fixture(order) if order is not None else None
