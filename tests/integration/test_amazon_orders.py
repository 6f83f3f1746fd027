"""A shopper types an Amazon order Homing has never seen: it is read from the Orders API
(the sandbox over HTTP, through python-amazon-sp-api) and stored; personal data is asked for
only as far as the shopper's proof needs it (postal code: none restricted; e-mail: a
Restricted Data Token for buyerInfo)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from hub.orders.models import Order
from tests.integration.amazon_helpers import connector
from tests.integration.factories import seed_stores

SELLER, MARKETPLACE = "A1DEMOSELLER", "ATVPDKIKX0DER"



@pytest.fixture
def amazon_app(app, sandbox, monkeypatch):
    monkeypatch.setitem(app.config, "AMAZON_ENDPOINT", sandbox.url)
    monkeypatch.setitem(app.config, "AMAZON_ACCOUNTS", [[SELLER, MARKETPLACE]])
    monkeypatch.delitem(app.extensions, "homing_spapi_buckets", raising=False)
    yield app
    app.extensions.pop("homing_spapi_buckets", None)


def amazon_order(order_id: str, email: str = "pat@example.com") -> dict:
    delivered = datetime.now(UTC) - timedelta(days=3)
    return {"AmazonOrderId": order_id, "seller_id": SELLER, "MarketplaceId": MARKETPLACE,
            "currency": "USD", "OrderStatus": "Shipped",
            "PurchaseDate": (delivered - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "LatestDeliveryDate": delivered.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "ShippingAddress": {"Name": "Pat Buyer", "AddressLine1": "1 Main St",
                                "City": "New York", "StateOrRegion": "NY",
                                "PostalCode": "10001", "CountryCode": "US"},
            "BuyerInfo": {"BuyerEmail": email},
            "items": [{"OrderItemId": "70000000000001", "SellerSKU": "MUG-1", "ASIN": "B0MUG",
                       "Title": "Stoneware mug", "QuantityOrdered": 2, "QuantityShipped": 2,
                       "ItemPrice": 3998, "ItemTax": 320}]}


def _find(client, order_id: str, proof: str):
    return client.post("/return/find", data={"order_id": order_id, "proof": proof})


def test_an_order_only_amazon_knows_is_found_by_postal_code_without_pii(
        client, session, emu, amazon_app):
    seed_stores(session)
    emu.add_orders([amazon_order("113-5555555-0000001")])
    found = _find(client, "113-5555555-0000001", "10001")
    assert found.status_code == 302 and found.headers["Location"].endswith("/return/items")
    order = session.scalar(sa.select(Order).where(Order.external_id == "113-5555555-0000001"))
    assert (order.channel, order.seller_id, order.status) == ("amazon-mfn", SELLER, "delivered")
    assert order.ship_postal_code == "10001" and order.buyer_email == ""  # no e-mail asked for
    assert [(ln.external_item_id, ln.quantity, ln.item_price) for ln in order.lines] == [
        ("70000000000001", 2, 3998)]
    assert emu.rdts == {}
    assert "Stoneware mug" in client.get("/return/items").get_data(as_text=True)
    # Known now: the next lookup (even with a wrong proof) does not ask Amazon again.
    calls = emu.requests["getOrder"]
    assert _find(client, "113-5555555-0000001", "99999").status_code == 404
    assert emu.requests["getOrder"] == calls


def test_proof_by_e_mail_asks_amazon_for_a_restricted_data_token(
        client, session, emu, amazon_app):
    emu.add_orders([amazon_order("113-5555555-0000002", email="Sam@Example.com")])
    assert _find(client, "113-5555555-0000002", "sam@example.com").status_code == 302
    assert len(emu.rdts) == 1  # one token granted (a stale access token may be refused first)
    order = session.scalar(sa.select(Order).where(Order.external_id == "113-5555555-0000002"))
    assert order.buyer_email == "sam@example.com"


def test_unknown_orders_and_outages_change_nothing(client, session, emu, amazon_app):
    missing = _find(client, "113-5555555-0000003", "10001")
    assert missing.status_code == 404 and "could not find" in missing.get_data(as_text=True)
    emu.add_orders([amazon_order("113-5555555-0000004")])
    emu.inject("getOrder", 500)
    down = _find(client, "113-5555555-0000004", "10001")
    assert down.status_code == 503 and "could not reach Amazon" in down.get_data(as_text=True)
    not_an_amazon_id = _find(client, "ORDER-42", "10001")
    assert not_an_amazon_id.status_code == 404
    assert session.scalar(sa.select(sa.func.count()).select_from(Order)) == 0
    assert _find(client, "113-5555555-0000004", "10001").status_code == 302  # back up


def test_the_sandbox_keeps_personal_data_behind_the_token(sandbox, emu):
    emu.add_orders([amazon_order("113-5555555-0000005")])
    conn = connector(sandbox)
    plain = conn.order(MARKETPLACE, "113-5555555-0000005")
    assert plain["ShippingAddress"] == {"City": "New York", "StateOrRegion": "NY",
                                        "PostalCode": "10001", "CountryCode": "US"}
    assert "BuyerInfo" not in plain
    with_email = conn.order(MARKETPLACE, "113-5555555-0000005", with_email=True)
    assert with_email["BuyerInfo"] == {"BuyerEmail": "pat@example.com"}
    assert conn.order(MARKETPLACE, "113-0000000-0000000") is None
    # An RDT opens only the paths it was made for, and only GET paths of orders.
    token = httpx.post(f"{sandbox.url}/auth/o2/token", data={
        "grant_type": "refresh_token", "refresh_token": "Atzr|homing-sandbox-refresh-token",
        "client_id": "amzn1.application-oa2-client.homing-sandbox",
        "client_secret": "homing-sandbox-secret"}).json()["access_token"]
    rdt = httpx.post(f"{sandbox.url}/tokens/2021-03-01/restrictedDataToken",
                     headers={"x-amz-access-token": token},
                     json={"restrictedResources": [{
                         "method": "GET", "path": "/orders/v0/orders/113-5555555-0000005",
                         "dataElements": ["shippingAddress"]}]}).json()["restrictedDataToken"]
    other = httpx.get(f"{sandbox.url}/orders/v0/orders/113-5555555-0000001",
                      headers={"x-amz-access-token": rdt})
    assert other.status_code == 403
    full = httpx.get(f"{sandbox.url}/orders/v0/orders/113-5555555-0000005",
                     headers={"x-amz-access-token": rdt}).json()["payload"]
    assert full["ShippingAddress"]["Name"] == "Pat Buyer" and "BuyerInfo" not in full
    refused = httpx.post(f"{sandbox.url}/tokens/2021-03-01/restrictedDataToken",
                         headers={"x-amz-access-token": token},
                         json={"restrictedResources": [{"method": "DELETE",
                                                        "path": "/feeds/2021-06-30/feeds"}]})
    assert refused.status_code == 400
