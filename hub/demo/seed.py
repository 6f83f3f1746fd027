"""Demo data: a realistic store network (3,814 real US store locations, with generated opening
hours, categories and capacities, plus demo stores in Germany and Japan at real city-centre
department-store addresses), Amazon accounts in three regions and the demo credentials.
Seeds only an empty database."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from hub.audit.service import Actor
from hub.extensions import db
from hub.stores.models import Store
from hub.stores.service import import_stores

DATA = Path(__file__).parent / "data" / "us-stores-walmart.csv"
# Germany and Japan: a handful of stores (coordinates approximate) so that amazon.de and
# amazon.co.jp returns are routed to a store in their own country.
INTL_DATA = Path(__file__).parent / "data" / "intl-stores.csv"

HOURS = (
    "Mon-Sat 08:00-22:00; Sun 09:00-20:00",
    "Mon-Fri 09:00-21:00; Sat 09:00-18:00; Sun 10:00-17:00",
    "Mon-Sun 07:00-23:00",
    "24/7",
    "Mon-Fri 10:00-20:00; Sat 10:00-18:00; Sun closed",
)
CATEGORY_SETS = (
    "general|apparel|electronics|home|toys",
    "general|apparel|home",
    "general|electronics|appliances|home|furniture",
    "general|apparel|shoes|beauty",
)
SIZE_SETS = ("small|medium|large", "small|medium", "small|medium|large|bulky")


def _pick(options: tuple[str, ...], key: str, salt: str) -> str:
    digest = hashlib.sha256(f"{salt}:{key}".encode()).digest()
    return options[digest[0] % len(options)]


def enriched_store_csv(path: Path = DATA) -> str:
    """The real locations plus deterministic hours, categories, sizes and capacity."""
    out = io.StringIO()
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = [*reader.fieldnames, "hours", "categories", "size_classes", "capacity"]
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        for row in reader:
            key = f"{row['latitude']},{row['longitude']}"
            row["hours"] = _pick(HOURS, key, "hours")
            row["categories"] = _pick(CATEGORY_SETS, key, "categories")
            row["size_classes"] = _pick(SIZE_SETS, key, "sizes")
            row["capacity"] = str(40 + hashlib.sha256(key.encode()).digest()[1] % 160)
            writer.writerow(row)
    return out.getvalue()


DEMO_API_KEY = "hom_demo0000_demo-admin-key-for-local-use-only"


def seed_demo(app: Flask) -> dict[str, str]:
    """Seed stores and demo credentials when the database is empty; return what to print."""
    if db.session.scalar(sa.select(sa.func.count(Store.id))) == 0:
        for path in (DATA, INTL_DATA):
            summary = import_stores(db.session, io.StringIO(enriched_store_csv(path)),
                                    fmt="csv", actor=Actor("system", None, "demo-seed"))
            db.session.commit()
            app.logger.info("demo stores: %s", summary.line())
    _ensure_demo_accounts()
    _ensure_demo_key()
    _ensure_demo_orders()
    store = _ensure_demo_tablet()
    _ensure_hq_people()
    db.session.commit()
    _ensure_sample_history(store)
    return {"API key (admin)": DEMO_API_KEY,
            "Shopper order": f"{DEMO_ORDERS[0]['order_id']} with postal code 10001",
            "Amazon order": f"{AMAZON_ONLY_ORDER} (only at the sandbox's Amazon until looked up)",
            "amazon.de order": f"{DE_ORDER['order_id']} with postal code "
                               f"{DE_ORDER['buyer']['postal_code']} (EUR)",
            "amazon.co.jp order": f"{JP_ORDER['order_id']} with postal code "
                                  f"{JP_ORDER['buyer']['postal_code']} (JPY)",
            "Store tablet": f"/store/enroll?token={DEMO_DEVICE_TOKEN}",
            "Store staff": f"{store.name} ({store.code}): clerk {DEMO_CLERK[0]} PIN "
                           f"{DEMO_CLERK[1]}, supervisor {DEMO_SUPERVISOR[0]} PIN "
                           f"{DEMO_SUPERVISOR[1]}",
            "HQ console": "/hq/",
            "HQ sign-in": f"{DEMO_HQ_ADMIN[0]} / {DEMO_HQ_ADMIN[1]} (admin)"}


AMAZON_ONLY_ORDER = "114-8800000-0000088"


def amazon_only_orders() -> list[dict]:
    """An order the demo's Amazon sandbox has and Homing has not: typing it in the shopper
    portal reads it from the Orders API (and keeps it)."""
    from datetime import timedelta

    from hub.models import utcnow

    delivered = utcnow() - timedelta(days=2)
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    return [{"AmazonOrderId": AMAZON_ONLY_ORDER, "seller_id": "A1DEMOSELLER",
             "MarketplaceId": "ATVPDKIKX0DER", "currency": "USD", "OrderStatus": "Shipped",
             "PurchaseDate": (delivered - timedelta(days=3)).strftime(stamp),
             "LatestDeliveryDate": delivered.strftime(stamp),
             "ShippingAddress": {"Name": "Alex Demo", "AddressLine1": "20 W 34th St",
                                 "City": "New York", "StateOrRegion": "NY",
                                 "PostalCode": "10001", "CountryCode": "US"},
             "BuyerInfo": {"BuyerEmail": "alex@example.com"},
             "items": [{"OrderItemId": "40000000000088", "SellerSKU": "BOOT-HIKE-42",
                        "ASIN": "B0DEMOBOOT", "Title": "Hiking boots (EU 42)",
                        "QuantityOrdered": 1, "QuantityShipped": 1, "ItemPrice": 13900,
                        "ItemTax": 1234}]}]


DEMO_HQ_ADMIN = ("hq@example.com", "homing-demo-hq")
SAMPLE_RETURNS = 1200


def _ensure_hq_people() -> None:
    from hub.auth.models import User
    from hub.auth.service import create_user

    if db.session.scalar(sa.select(User).where(User.email == DEMO_HQ_ADMIN[0])) is None:
        create_user(db.session, name="Harper HQ", role="admin", email=DEMO_HQ_ADMIN[0],
                    password=DEMO_HQ_ADMIN[1])


def _ensure_sample_history(demo: Store) -> None:
    """A month of returns across the chain, so the HQ dashboard has something to show. The
    demo tablet's store is left out: its counter starts empty for the walk-through."""
    from hub.hq import sample
    from hub.models import utcnow
    from hub.orders.models import Order

    if db.session.scalar(sa.select(Order.id).where(
            Order.external_id.startswith(sample.PREFIX)).limit(1)) is not None:
        return
    store_ids = db.session.scalars(sa.select(Store.id).where(Store.active, Store.id != demo.id)
                                   .order_by(Store.id)).all()
    sample.insert(db.session, sample.plan(store_ids, SAMPLE_RETURNS, utcnow()))
    db.session.commit()


DEMO_DEVICE_TOKEN = "dev_demo0000_demo-tablet-token-for-local-use-only"
DEMO_CLERK = ("1001", "1234")
DEMO_SUPERVISOR = ("2001", "9876")


def demo_store() -> Store:
    """The store the demo shopper (postal code 10001, headphones) is routed to first."""
    from hub.models import utcnow
    from hub.stores.geo import resolve_postal_code
    from hub.stores.service import get_store, route

    lat, lon = resolve_postal_code("10001", "US")
    ranked = route(db.session, lat, lon, category="electronics", at=utcnow(), limit=1)
    return get_store(db.session, ranked[0].code)


def _ensure_demo_tablet() -> Store:
    from hub.auth.models import Device, User
    from hub.auth.service import create_user, hash_api_key

    store = demo_store()
    prefix = DEMO_DEVICE_TOKEN.split("_")[1]
    if db.session.scalar(sa.select(Device).where(Device.token_prefix == prefix)) is None:
        db.session.add(Device(store_id=store.id, name="Demo counter tablet", token_prefix=prefix,
                              token_hash=hash_api_key(DEMO_DEVICE_TOKEN)))
    for role, (staff, pin), name in (("clerk", DEMO_CLERK, "Casey Clerk"),
                                     ("supervisor", DEMO_SUPERVISOR, "Sam Supervisor")):
        if db.session.scalar(sa.select(User).where(User.store_id == store.id,
                                                   User.staff_number == staff)) is None:
            create_user(db.session, name=name, role=role, store_id=store.id,
                        staff_number=staff, pin=pin)
    return store


def _ensure_demo_key() -> None:
    from hub.auth.models import ApiKey
    from hub.auth.service import hash_api_key

    prefix = DEMO_API_KEY.split("_")[1]
    if db.session.scalar(sa.select(ApiKey).where(ApiKey.prefix == prefix)) is None:
        db.session.add(ApiKey(name="demo admin", prefix=prefix, key_hash=hash_api_key(DEMO_API_KEY),
                              role="admin"))


def _demo_order(order_id: str, days_ago: int, lines: list[dict], **extra) -> dict:
    from datetime import timedelta

    from hub.models import utcnow

    delivered = utcnow() - timedelta(days=days_ago)
    return {"channel": "amazon-mfn", "order_id": order_id, "marketplace_id": "ATVPDKIKX0DER",
            "seller_id": "A1DEMOSELLER", "currency": "USD", "status": "delivered",
            "purchased_at": (delivered - timedelta(days=2)).isoformat(),
            "delivered_at": delivered.isoformat(),
            "buyer": {"email": "alex@example.com", "name": "Alex Demo", "postal_code": "10001",
                      "country": "US"}, "lines": lines, **extra}


DEMO_ORDERS = [
    _demo_order("114-3941689-8772232", 4, [
        {"item_id": "40000000000001", "sku": "HP-NC-700", "title": "Noise-cancelling headphones",
         "category": "electronics", "size_class": "small", "quantity": 2,
         "item_price": "299.98", "item_tax": "26.62", "gtin": "0850006801015",
         "serial_numbers": ["NC700-0001", "NC700-0002"]},
        {"item_id": "40000000000002", "sku": "TEE-ORG-M", "title": "Organic cotton T-shirt (M)",
         "category": "apparel", "size_class": "small", "quantity": 3, "item_price": "60.00",
         "gtin": "4006381333931",
         "item_tax": "5.33", "shipping_price": "5.99",
         "promotions": [{"id": "3FOR2-TEES", "amount": "20.00", "kind": "buy_x_get_y",
                         "condition": {"buy": 2, "get": 1}}]},
    ]),
    _demo_order("114-5550199-2039911", 20, [
        {"item_id": "40000000000011", "sku": "LAMP-ARC", "title": "Arc floor lamp",
         "category": "home", "size_class": "large", "quantity": 1, "item_price": "129.00",
         "item_tax": "11.45"},
    ]),
    _demo_order("114-7000001-0000007", 60, [
        {"item_id": "40000000000021", "sku": "KETTLE-1", "title": "Electric kettle",
         "category": "appliances", "size_class": "medium", "quantity": 1,
         "item_price": "49.99", "item_tax": "4.44"},
    ]),
]


# The demo's selling accounts, one per region and a vendor account; in sandbox mode the
# ``sandbox:`` reference stands for the sandbox's own test credentials of each account.
DEMO_ACCOUNTS = (
    {"seller_id": "A1DEMOSELLER", "kind": "seller", "region": "na", "name": "Demo US shop",
     "marketplaces": ["ATVPDKIKX0DER"]},
    {"seller_id": "A1DEMOSELLERDE", "kind": "seller", "region": "eu", "name": "Demo DE shop",
     "marketplaces": ["A1PA6795UKMFR9"]},
    {"seller_id": "A1DEMOSELLERJP", "kind": "seller", "region": "fe", "name": "Demo JP shop",
     "marketplaces": ["A1VC38T7YXB528"]},
    {"seller_id": "DEMOV", "kind": "vendor", "region": "eu", "name": "Demo vendor (EU)",
     "marketplaces": ["A1PA6795UKMFR9"]},
)


def _ensure_demo_accounts() -> None:
    from hub.amazon import accounts

    for spec in DEMO_ACCOUNTS:
        if accounts.get(db.session, spec["seller_id"]) is None:
            accounts.save(db.session, credentials_ref="sandbox:", **spec)


def _market_order(order_id: str, days_ago: int, *, seller_id: str, marketplace_id: str,
                  currency: str, buyer: dict, lines: list[dict]) -> dict:
    return {**_demo_order(order_id, days_ago, lines), "seller_id": seller_id,
            "marketplace_id": marketplace_id, "currency": currency, "buyer": buyer}


# Prices as the EU and Japanese marketplaces show them: tax included in ItemPrice, ItemTax 0.
DE_ORDER = _market_order(
    "302-4410001-0000101", 3, seller_id="A1DEMOSELLERDE", marketplace_id="A1PA6795UKMFR9",
    currency="EUR", buyer={"email": "lena@example.de", "name": "Lena Beispiel",
                           "postal_code": "10117", "country": "DE"},
    lines=[{"item_id": "40000000000101", "sku": "JACKE-REGEN-M", "title": "Regenjacke (M)",
            "category": "apparel", "size_class": "small", "quantity": 1,
            "item_price": "119.00", "item_tax": "0.00"}])
JP_ORDER = _market_order(
    "503-4410001-0000201", 3, seller_id="A1DEMOSELLERJP", marketplace_id="A1VC38T7YXB528",
    currency="JPY", buyer={"email": "haruto@example.jp", "name": "Haruto Rei",
                           "postal_code": "1500002", "country": "JP"},
    lines=[{"item_id": "40000000000201", "sku": "TUMBLER-350", "title": "ステンレスタンブラー",
            "category": "home", "size_class": "small", "quantity": 2,
            "item_price": "9960", "item_tax": "0"}])
DEMO_ORDERS.extend([DE_ORDER, JP_ORDER])


def _ensure_demo_orders() -> None:
    from hub.orders.service import find_order, upsert_order

    for payload in DEMO_ORDERS:
        if find_order(db.session, payload["channel"], payload["order_id"]) is None:
            upsert_order(db.session, payload, actor=Actor("system", None, "demo-seed"))
