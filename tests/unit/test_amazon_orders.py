"""Orders API answers as Homing order documents."""

from __future__ import annotations

from datetime import UTC, datetime

from hub.amazon.orders import order_payload

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def _order(**extra) -> dict:
    return {"AmazonOrderId": "113-1111111-1111111", "MarketplaceId": "A1PA6795UKMFR9",
            "OrderStatus": "Shipped", "PurchaseDate": "2026-11-20T10:00:00Z",
            "LatestDeliveryDate": "2026-11-25T18:00:00Z", "FulfillmentChannel": "MFN",
            "ShippingAddress": {"PostalCode": "10115", "CountryCode": "DE"}, **extra}


ITEMS = [{"OrderItemId": "11111111111111", "SellerSKU": "SKU-1", "Title": "Lamp",
          "QuantityOrdered": 2, "QuantityShipped": 2,
          "ItemPrice": {"CurrencyCode": "EUR", "Amount": "59.80"},
          "ItemTax": {"CurrencyCode": "EUR", "Amount": "11.36"}},
         {"OrderItemId": "22222222222222", "SellerSKU": "SKU-2", "QuantityOrdered": 1,
          "QuantityShipped": 0, "ItemPrice": {"CurrencyCode": "EUR", "Amount": "0.00"}}]


def test_a_delivered_order_maps_to_a_homing_order():
    payload = order_payload(_order(), ITEMS, "SELLER1", NOW)
    assert (payload["channel"], payload["status"], payload["currency"]) == (
        "amazon-mfn", "delivered", "EUR")
    assert payload["delivered_at"] == "2026-11-25T18:00:00+00:00"
    assert payload["buyer"] == {"email": "", "postal_code": "10115", "country": "DE"}
    assert [(ln["item_id"], ln["quantity"], ln["item_price"]) for ln in payload["lines"]] == [
        ("11111111111111", 2, "59.80")]  # the unshipped line is not returnable


def test_status_and_channel_follow_amazon():
    assert order_payload(_order(LatestDeliveryDate="2026-12-05T00:00:00Z"), ITEMS, "S",
                         NOW)["status"] == "shipped"  # not delivered yet
    assert order_payload(_order(OrderStatus="Canceled"), ITEMS, "S", NOW)["status"] == \
        "cancelled"
    assert order_payload(_order(FulfillmentChannel="AFN"), ITEMS, "S", NOW)["channel"] == \
        "amazon-fba"
    assert order_payload(_order(IsBusinessOrder=True), ITEMS, "S", NOW)["channel"] == \
        "amazon-business"
