"""Returns from amazon.de (EUR, VAT-inclusive prices) and amazon.co.jp (JPY, no minor unit),
end to end: a German shopper (de-DE phone) and a Japanese shopper (ja-JP phone) each find
their order, are routed to a store in their own country, get the voucher, drop the parcel
off; the store accepts it; the worker pushes the refund through the seller account of that
marketplace, and the sandbox (over HTTP, python-amazon-sp-api) shows the adjustment in the
order's currency with the exact amount."""

from __future__ import annotations

import re
import secrets
from decimal import Decimal

import pytest
from babel.numbers import format_currency

from tests.browser.conftest import wait_for_js
from tests.journeys.test_shopper import (
    PHONE,
    _find_order,
    _hand_in,
    _push_until,
    _qr_token,
    _rma,
)

MARKETS = {
    "de-DE": {"order": "DE_ORDER", "prefix": "302", "seller": "A1DEMOSELLERDE",
              "marketplace": "A1PA6795UKMFR9", "currency": "EUR", "country": "DE",
              "timezone": "Europe/Berlin", "where": {"latitude": 52.5170, "longitude": 13.3889},
              "unit_minor": 11900, "quantity": 1, "babel": "de",
              "quote": "Voraussichtliche Erstattung", "refunded": "Erstattet"},
    "ja-JP": {"order": "JP_ORDER", "prefix": "503", "seller": "A1DEMOSELLERJP",
              "marketplace": "A1VC38T7YXB528", "currency": "JPY", "country": "JP",
              "timezone": "Asia/Tokyo", "where": {"latitude": 35.6580, "longitude": 139.7016},
              "unit_minor": 4980, "quantity": 1, "babel": "ja",
              "quote": "返金予定額", "refunded": "返金済み"},
}


def _new_order(stack, market: dict, email: str) -> tuple[str, str]:
    """The demo's order of that marketplace under a new id, as the channel sends it."""
    from hub.demo import seed

    template = getattr(seed, market["order"])
    order_id = (f"{market['prefix']}-{secrets.randbelow(10**7):07d}-"
                f"{secrets.randbelow(10**7):07d}")
    payload = {**template, "order_id": order_id,
               "buyer": {**template["buyer"], "email": email}}
    response = stack.api("POST", "/api/v1/orders", json=payload)
    assert response.status_code in (200, 201), response.text
    return order_id, template["buyer"]["postal_code"]


def _amount(minor: int, currency: str, locale: str) -> str:
    places = 0 if currency == "JPY" else 2
    return format_currency(Decimal(minor).scaleb(-places), currency, locale=locale)


@pytest.mark.parametrize("locale", ["de-DE", "ja-JP"])
def test_a_shopper_abroad_returns_an_order_and_is_refunded_in_the_marketplaces_currency(
        stack, emu, new_page, screenshot, locale):
    market = MARKETS[locale]
    email = f"shopper-{locale.lower()}-{secrets.token_hex(3)}@example.com"
    order_id, postal_code = _new_order(stack, market, email)
    stack.reset_rate_limits()
    page = new_page(locale=locale, viewport=PHONE, timezone_id=market["timezone"],
                    geolocation=market["where"], permissions=["geolocation"])

    _find_order(page, stack, order_id, proof=postal_code)
    page.wait_for_url("**/return/items")
    item = page.locator("fieldset").first
    item.locator("select[name^=qty]").select_option(str(market["quantity"]))
    item.locator("select[name^=reason]").select_option("fit.too_small")
    wait_for_js(page, "document.querySelector('#quote h2') !== null")
    quoted = _amount(market["unit_minor"], market["currency"], market["babel"])
    quote = page.inner_text("#quote")
    assert market["quote"] in quote and quoted in quote, quote
    screenshot(page, f"marketplace-{locale}-1-quote")

    # Routed from where the shopper stands to a store in the marketplace's country.
    page.click("#locate")
    wait_for_js(page, "document.getElementById('lat').value !== ''")
    page.click("form#items button[type=submit]")
    page.wait_for_url("**/return/stores")
    store_name = page.locator(".card.store").first.locator("strong").inner_text()
    page.click("form button[type=submit]")
    page.wait_for_url("**/return/r/**")
    number = page.url.split("/r/")[1].split("?")[0]
    assert store_name in page.inner_text("[data-store]")
    token = _qr_token(page)
    screenshot(page, f"marketplace-{locale}-2-voucher")

    rma = _rma(stack, number)
    from hub.stores.models import Store

    with stack.session() as s:
        store = s.get(Store, rma.chosen_store_id)
        store_code, country = store.code, store.country
    assert country == market["country"], f"routed to a store in {country}"

    # Dropped off and accepted as new: the whole VAT-inclusive price comes back.
    _hand_in(stack, token, store_code, {0: "A"})
    refund = _push_until(stack, number, ("succeeded",), "Amazon to accept the refund")
    assert (refund.currency, refund.amount) == (market["currency"], market["unit_minor"])
    assert (refund.seller_id, refund.marketplace_id) == (market["seller"], market["marketplace"])

    # Amazon (the sandbox, over HTTP) applied the adjustment in that currency, to the cent /
    # to the yen, for that seller account and marketplace.
    import httpx

    state = httpx.get(f"{stack.sandbox_url}/_emu/state", timeout=10).json()
    applied = [a for a in state["applied"] if a["amazon_order_id"] == order_id]
    assert len(applied) == 1, applied
    [adjustment] = applied
    assert (adjustment["currency"], adjustment["seller_id"], adjustment["marketplace_id"]) == (
        market["currency"], market["seller"], market["marketplace"])
    charges = adjustment["charges"]
    assert charges["Principal"] == market["unit_minor"] == sum(charges.values())
    feed = next(f for f in state["feeds"] if f["feedId"] == adjustment["feed_id"])
    assert feed["marketplaceIds"] == [market["marketplace"]]

    stack.wait_for(lambda: _rma(stack, number).status == "completed", timeout=30,
                   what="the return to complete with its refund")
    page.reload()
    headline = page.inner_text(".headline")
    assert market["refunded"] in headline and quoted in headline, headline
    assert not re.search(r"[¥￥]\s?[\d,]+\.\d", headline)  # yen have no decimals
    screenshot(page, f"marketplace-{locale}-3-refunded")
