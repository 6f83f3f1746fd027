"""Test data builders shared by the integration tests."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from hub.audit.service import SYSTEM
from hub.stores.service import import_stores

STORES_CSV = "\n".join((
    "code,name,lat,lon,tz,hours,categories,size_classes,capacity",
    "NYC-1,Herald Square,40.7505,-73.9880,America/New_York,24/7,"
    "general|electronics|apparel,small|medium|large,100",
    "NYC-2,Brooklyn,40.6782,-73.9442,America/New_York,Mon-Sun 09:00-21:00,"
    "general|apparel,small|medium,50",
    "JC-1,Jersey City,40.7178,-74.0431,America/New_York,Mon-Sat 10:00-20:00; Sun closed,"
    "general|electronics,small|medium|large|bulky,80",
)) + "\n"


def seed_stores(session) -> None:
    import_stores(session, io.StringIO(STORES_CSV), fmt="csv", actor=SYSTEM)
    session.commit()


def order_payload(order_id: str = "114-1234567-1234567", *, delivered_days_ago: int = 3,
                  **overrides) -> dict:
    delivered = datetime.now(UTC) - timedelta(days=delivered_days_ago)
    payload = {
        "channel": "amazon-mfn", "order_id": order_id, "marketplace_id": "ATVPDKIKX0DER",
        "currency": "USD", "status": "delivered",
        "purchased_at": (delivered - timedelta(days=2)).isoformat(),
        "delivered_at": delivered.isoformat(),
        "buyer": {"email": "shopper@example.com", "postal_code": "10001", "country": "US"},
        "lines": [
            {"item_id": "11111111111111", "sku": "HEADPHONES-1", "title": "Headphones",
             "category": "electronics", "size_class": "small", "quantity": 2,
             "item_price": "199.98", "item_tax": "17.74"},
            {"item_id": "22222222222222", "sku": "TSHIRT-M", "title": "T-shirt",
             "category": "apparel", "quantity": 1, "item_price": "25.00", "item_tax": "2.22",
             "shipping_price": "4.99"},
        ],
    }
    payload.update(overrides)
    return payload


def create_order(client, headers, **kwargs) -> dict:
    response = client.post("/api/v1/orders", json=order_payload(**kwargs), headers=headers)
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def issue_return(client, headers, lines=None, **overrides) -> dict:
    """Authorise units of the standard order (``create_order`` first); answers the RMA."""
    body = {"channel": "amazon-mfn", "order_id": "114-1234567-1234567",
            "lines": lines or [{"item_id": "11111111111111", "quantity": 1,
                                "reason": "changed_mind.better_price"}],
            "latitude": 40.7580, "longitude": -73.9855, "locale": "en"}
    body.update(overrides)
    response = client.post("/api/v1/returns", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def store_user(session, store_code: str, role: str = "clerk", staff_number: str = "101",
               pin: str = "2468", name: str | None = None):
    from hub.auth.service import create_user
    from hub.stores.service import get_store

    user = create_user(session, name=name or f"{role.title()} {staff_number}", role=role,
                       store_id=get_store(session, store_code).id, staff_number=staff_number,
                       pin=pin)
    session.commit()
    return user


def clerk_may_approve_up_to(session, usd: str = "200.00") -> None:
    """Publish a policy whose clerks approve up to ``usd`` alone (the default is the seeds'
    USD 50): for stories about something other than approval. Call before issuing."""
    from hub.policy.service import current_policy, publish_policy

    document = current_policy(session).document
    document = {**document, "approvals": {**document["approvals"], "amount": {"USD": usd}}}
    publish_policy(session, document, note="test: clerk limit", actor=SYSTEM)
    session.commit()
