"""Orders to return against: upserted from the API, the Amazon connector or the demo."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.audit.service import Actor, record
from hub.items import gtin
from hub.money import Money
from hub.orders.models import CHANNELS, Order, OrderLine
from hub.validation import Checker, InvalidInput

AMAZON_ORDER_ID = r"\d{3}-\d{7}-\d{7}"
AMAZON_ITEM_ID = r"\d{14}"
STATUSES = ("pending", "shipped", "delivered", "cancelled")


def normalise_postal_code(value: str) -> str:
    return "".join(value.split()).upper()


def normalise_email(value: str) -> str:
    return value.strip().lower()


def _minor(check: Checker, data: dict, key: str, path: str, currency: str) -> int:
    amount = check.decimal(data, key, path, default="0")
    try:
        return Money(amount, currency).to_minor()
    except Exception:  # noqa: BLE001 - too many decimals for the currency, unknown currency
        check.fail(path, f"has more decimals than {currency} allows")
        return 0


def _promotions(check: Checker, data: dict, path: str, currency: str) -> list[dict]:
    promos = []
    for i, promo in enumerate(check.items(data, "promotions", f"{path}promotions", max_items=20)):
        where = f"{path}promotions[{i}]."
        promos.append({
            "id": check.text(promo, "id", where + "id", max_len=60),
            "amount_minor": _minor(check, promo, "amount", where + "amount", currency),
            "kind": check.choice(promo, "kind", where + "kind",
                                 ("plain", "buy_x_get_y", "min_spend"), default="plain"),
            "condition": promo.get("condition") if isinstance(promo.get("condition"), dict)
            else {},
        })
    return promos


def _item_identity(check: Checker, line: dict, where: str) -> dict:
    """The item's GTIN and the shipped units' serial numbers, when the import carries them
    (absent keys are left out, so an update without them keeps what Amazon told us)."""
    out: dict = {}
    if line.get("gtin") not in (None, ""):
        try:
            out["gtin"], out["gtin_source"] = gtin.normalise(line["gtin"]), "import"
        except gtin.GtinError as exc:
            check.fail(where + "gtin", str(exc))
    serials = line.get("serial_numbers")
    if serials is not None:
        if not isinstance(serials, list) or len(serials) > 999 or not all(
                isinstance(s, str) and 0 < len(s.strip()) <= 64 for s in serials):
            check.fail(where + "serial_numbers", "must be a list of serial numbers "
                                                 "(each 1 to 64 characters)")
        else:
            out["serial_numbers"] = [s.strip().upper() for s in serials]
    return out


def parse_order(payload: dict) -> dict:
    """Check an order document completely; return normalised values or raise InvalidInput."""
    check = Checker()
    channel = check.choice(payload, "channel", "channel", CHANNELS)
    amazon = channel.startswith("amazon")
    currency = check.text(payload, "currency", "currency", max_len=3, pattern=r"[A-Z]{3}")
    try:
        Money(Decimal(0), currency)
    except Exception:  # noqa: BLE001
        check.fail("currency", f"{currency!r} is not a supported currency")
        currency = "USD"
    buyer = payload.get("buyer") if isinstance(payload.get("buyer"), dict) else {}
    order = {
        "channel": channel,
        "external_id": check.text(payload, "order_id", "order_id", max_len=40,
                                  pattern=AMAZON_ORDER_ID if amazon else None),
        "marketplace_id": check.text(payload, "marketplace_id", "marketplace_id",
                                     required=amazon, max_len=20),
        "seller_id": check.text(payload, "seller_id", "seller_id", required=False, max_len=40),
        "status": check.choice(payload, "status", "status", STATUSES, default="delivered"),
        "currency": currency,
        "purchased_at": check.timestamp(payload, "purchased_at", "purchased_at"),
        "delivered_at": check.timestamp(payload, "delivered_at", "delivered_at"),
        "buyer_email": normalise_email(check.text(buyer, "email", "buyer.email",
                                                  required=False, max_len=254)),
        "buyer_name": check.text(buyer, "name", "buyer.name", required=False),
        "ship_postal_code": normalise_postal_code(
            check.text(buyer, "postal_code", "buyer.postal_code", required=False, max_len=20)),
        "ship_country": check.text(buyer, "country", "buyer.country", required=False,
                                   max_len=2, pattern=r"[A-Za-z]{2}").upper(),
        "is_business": bool(payload.get("is_business", channel == "amazon-business")),
        "promotions": _promotions(check, payload, "", currency),
    }
    lines = []
    seen: set[str] = set()
    for i, line in enumerate(check.items(payload, "lines", "lines", min_items=1)):
        where = f"lines[{i}]."
        item_id = check.text(line, "item_id", where + "item_id", max_len=40,
                             pattern=AMAZON_ITEM_ID if amazon else None)
        if item_id in seen:
            check.fail(where + "item_id", f"{item_id} appears twice")
        seen.add(item_id)
        lines.append({
            "external_item_id": item_id,
            "sku": check.text(line, "sku", where + "sku", max_len=80),
            "asin": check.text(line, "asin", where + "asin", required=False, max_len=20),
            "title": check.text(line, "title", where + "title", required=False, max_len=300),
            "category": check.text(line, "category", where + "category", required=False,
                                   max_len=60, default="general").lower(),
            "size_class": check.text(line, "size_class", where + "size_class", required=False,
                                     max_len=20, default="small").lower(),
            "image_url": check.text(line, "image_url", where + "image_url", required=False,
                                    max_len=500),
            "quantity": check.integer(line, "quantity", where + "quantity", lo=1, hi=999),
            "item_price": _minor(check, line, "item_price", where + "item_price", currency),
            "item_tax": _minor(check, line, "item_tax", where + "item_tax", currency),
            "shipping_price": _minor(check, line, "shipping_price", where + "shipping_price",
                                     currency),
            "shipping_tax": _minor(check, line, "shipping_tax", where + "shipping_tax",
                                   currency),
            "promotions": _promotions(check, line, where, currency),
            **_item_identity(check, line, where),
        })
    check.done()
    return {"order": order, "lines": lines}


def find_order(session: Session, channel: str, external_id: str) -> Order | None:
    return session.scalar(sa.select(Order).where(Order.channel == channel,
                                                 Order.external_id == external_id))


def upsert_order(session: Session, payload: dict, *, actor: Actor) -> tuple[Order, bool]:
    """Create or update an order by (channel, order id). Lines are matched by item id; lines
    missing from an update are kept (units may already be on their way back)."""
    parsed = parse_order(payload)
    values = parsed["order"]
    order = find_order(session, values["channel"], values["external_id"])
    created = order is None
    if created:
        order = Order(**values)
        session.add(order)
    else:
        if order.currency != values["currency"]:
            raise InvalidInput([{"field": "currency",
                                 "message": f"the order is in {order.currency} already"}])
        for key, value in values.items():
            setattr(order, key, value)
    existing = {line.external_item_id: line for line in order.lines}
    for line_values in parsed["lines"]:
        line = existing.get(line_values["external_item_id"])
        if line is None:
            order.lines.append(OrderLine(**line_values))
        else:
            for key, value in line_values.items():
                setattr(line, key, value)
    session.flush()
    record(session, actor, "order.created" if created else "order.updated", "order", order.id,
           after={"channel": order.channel, "lines": len(order.lines)})
    return order, created


def order_to_dict(order: Order) -> dict:
    def amount(minor: int) -> str:
        return str(Money.from_minor(minor, order.currency).amount)

    return {
        "id": order.id, "channel": order.channel, "order_id": order.external_id,
        "marketplace_id": order.marketplace_id, "status": order.status,
        "currency": order.currency,
        "delivered_at": order.delivered_at.isoformat() if order.delivered_at else None,
        "lines": [{
            "id": line.id, "item_id": line.external_item_id, "sku": line.sku,
            "title": line.title, "category": line.category, "quantity": line.quantity,
            "item_price": amount(line.item_price), "item_tax": amount(line.item_tax),
            "shipping_price": amount(line.shipping_price),
            "shipping_tax": amount(line.shipping_tax),
        } for line in order.lines],
    }
