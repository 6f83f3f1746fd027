"""The shopper's journeys, on a phone (390x844) in Chromium, through the real stack: the app
under gunicorn, the RQ worker, Amazon's sandbox over HTTP, PostgreSQL. One story per test.

The store's part (scan, grade, complete) goes through the intake REST API, as a POS would;
the refund goes through the worker's outbox relay and refund push to the sandbox."""

from __future__ import annotations

import io
import re
import secrets
from decimal import Decimal

import pytest
import sqlalchemy as sa
from babel.dates import format_date
from babel.numbers import format_currency

from tests.browser.conftest import wait_for_js

PHONE = (390, 844)
ACCEPT = {"reception": "received", "decision": "accept", "disposition": "restock"}
LINK = re.compile(r"https?://[^\s\"<>]+/return/r/[A-Z0-9]+\?k=[0-9a-f]+")

# What each language's page must say (the catalogue's own words, not English).
WORDS = {
    "en-US": {"lang": "en", "babel": "en", "quote": "Expected refund",
              "located": "Using your location", "refunded": "Refunded",
              "accepted": "Accepted, condition C",
              "voucher_subject": "Your return code", "miles": " mi"},
    "de-DE": {"lang": "de", "babel": "de", "quote": "Voraussichtliche Erstattung",
              "located": "Ihr Standort wird verwendet", "refunded": "Erstattet",
              "accepted": "Angenommen, Zustand C", "voucher_subject": "Ihr Rückgabecode",
              "miles": " mi"},
    "ja-JP": {"lang": "ja", "babel": "ja", "quote": "返金予定額",
              "located": "現在地を使用しています", "refunded": "返金済み",
              "accepted": "受付済み（状態 C）",
              "voucher_subject": "返品コード", "miles": " mi"},
}
ENGLISH_ONLY = ("Shipping is refunded", "deducted", "Item price", "seller at fault", "#1")


def _order_id() -> str:
    return f"114-{secrets.randbelow(10**7):07d}-{secrets.randbelow(10**7):07d}"


def _new_order(stack, email: str, days_ago: int = 3) -> str:
    """The demo's headphones-and-T-shirts order, as the channel integration sends it."""
    from hub.demo.seed import DEMO_ORDERS, _demo_order

    order_id = _order_id()
    payload = _demo_order(order_id, days_ago, DEMO_ORDERS[0]["lines"])
    payload["buyer"] = {**payload["buyer"], "email": email}
    response = stack.api("POST", "/api/v1/orders", json=payload)
    assert response.status_code in (200, 201), response.text
    return order_id


def _store_point():
    from hub.stores.geo import resolve_postal_code

    lat, lon = resolve_postal_code("10001", "US")
    return {"latitude": float(lat), "longitude": float(lon)}


def _find_order(page, stack, order_id: str, proof: str = "10001") -> None:
    page.goto(f"{stack.url}/return/")
    page.fill("#order_id", order_id)
    page.fill("#proof", proof)
    page.click("form.card button[type=submit]")


def _rma(stack, number: str):
    from hub.returns.models import ReturnAuthorization

    with stack.session() as s:
        rma = s.scalar(sa.select(ReturnAuthorization).where(ReturnAuthorization.number == number))
        s.expunge(rma)
        return rma


def _staff_for(stack, store_code: str) -> tuple[str, tuple[str, str]]:
    """A clerk API key for the store and a supervisor who can approve there."""
    from hub.auth.models import User
    from hub.auth.service import create_user
    from hub.stores.service import get_store

    with stack.session() as s:
        store = get_store(s, store_code)
        staff = ("3" + store_code[-5:].rjust(5, "0")[-5:], "8642")
        if s.scalar(sa.select(User).where(User.store_id == store.id,
                                          User.staff_number == staff[0])) is None:
            create_user(s, name="Journey Supervisor", role="supervisor", store_id=store.id,
                        staff_number=staff[0], pin=staff[1])
            s.commit()
    return stack.api_key("clerk", store_code), staff


def _hand_in(stack, token: str, store_code: str, grades: dict[int, str]) -> dict:
    """The clerk scans the QR, checks each unit (grade by position) and completes."""
    key, supervisor = _staff_for(stack, store_code)
    intake = stack.api("POST", "/api/v1/intakes", key=key, json={"voucher": token})
    assert intake.status_code in (200, 201), intake.text
    intake = intake.json()
    for i, unit in enumerate(intake["units"]):
        decided = stack.api("POST", f"/api/v1/intakes/{intake['id']}/units/{unit['unit_id']}",
                            key=key, json={**ACCEPT, "grade": grades.get(i, "A")})
        assert decided.status_code == 200, decided.text
    done = stack.api("POST", f"/api/v1/intakes/{intake['id']}/complete", key=key,
                     json={"supervisor": {"staff_number": supervisor[0], "pin": supervisor[1]}})
    assert done.status_code == 200, done.text
    return done.json()


def _refund_of(stack, number: str):
    from hub.refunds.models import Refund
    from hub.returns.models import ReturnAuthorization

    with stack.session() as s:
        refund = s.scalar(sa.select(Refund).join(ReturnAuthorization,
                                                 ReturnAuthorization.id == Refund.rma_id)
                          .where(ReturnAuthorization.number == number))
        if refund is not None:
            s.expunge(refund)
        return refund


def _push_until(stack, number: str, statuses: tuple[str, ...], what: str):
    """Run the worker's refund push (as its scheduler would, only sooner) until the refund
    of the return reaches one of ``statuses``."""
    def reached():
        refund = _refund_of(stack, number)
        if refund is None or refund.status in ("pending",):
            return None  # the outbox relay has not handed it over yet
        if refund.status not in statuses:
            stack.run_job("amazon-push-refunds")
            refund = _refund_of(stack, number)
        return refund if refund.status in statuses else None

    return stack.wait_for(reached, timeout=90, what=what, every=0.5)


def _qr_token(page) -> str:
    import zxingcpp
    from PIL import Image

    image = Image.open(io.BytesIO(page.locator("section.voucher img").screenshot()))
    [decoded] = zxingcpp.read_barcodes(image)
    return decoded.text


def _money(minor: int, locale: str) -> str:
    return format_currency(Decimal(minor) / 100, "USD", locale=locale)


@pytest.mark.parametrize("locale", ["en-US", "de-DE", "ja-JP"])
def test_a_shopper_returns_headphones_by_phone_and_follows_them_to_refunded(
        stack, emu, new_page, screenshot, locale):
    words = WORDS[locale]
    shot = (lambda page, name: screenshot(page, name)) if locale == "en-US" else \
        (lambda page, name: None)
    email = f"shopper-{locale.lower()}-{secrets.token_hex(3)}@example.com"
    order_id = _new_order(stack, email)
    stack.reset_rate_limits()
    page = new_page(locale=locale, viewport=PHONE, geolocation=_store_point(),
                    permissions=["geolocation"])

    # Find the order: the page speaks the phone's language (a BCP-47 tag such as en-US).
    _find_order(page, stack, order_id)
    page.wait_for_url("**/return/items")
    assert page.get_attribute("html", "lang") == words["lang"]
    shot(page, "shopper-1-items")

    # Quote: one of the two headphones, too small.
    headphones = page.locator("fieldset").first
    headphones.locator("select[name^=qty]").select_option("1")
    headphones.locator("select[name^=reason]").select_option("fit.too_small")
    wait_for_js(page, "document.querySelector('#quote h2') !== null")
    quote = page.inner_text("#quote")
    quoted = _money(16330, words["babel"])
    assert words["quote"] in quote and quoted in quote, quote
    for english in ENGLISH_ONLY if locale != "en-US" else ():
        assert english not in quote, f"English on the {locale} quote: {quote}"
    shot(page, "shopper-2-quote")

    # "Use my location": the button says it has the position.
    page.click("#locate")
    wait_for_js(page, "document.getElementById('lat').value !== ''")
    assert words["located"] in page.inner_text("#locate-status")

    # Choose a store: near the shopper's position, distances in miles (US stores), and a
    # directions link every phone opens.
    page.click("form#items button[type=submit]")
    page.wait_for_url("**/return/stores")
    first = page.locator(".card.store").first
    assert words["miles"] in first.locator("[data-distance]").inner_text()
    directions = first.locator("a[data-directions]").get_attribute("href")
    assert directions.startswith("https://www.google.com/maps/dir/?api=1&destination=")
    store_name = first.locator("strong").inner_text()
    shot(page, "shopper-3-stores")

    # The voucher: a QR the counter can read, its short code, the store.
    page.click("form button[type=submit]")
    page.wait_for_url("**/return/r/**")
    number = page.url.split("/r/")[1].split("?")[0]
    short_code = page.inner_text("[data-short-code]")
    assert re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{2}", short_code)
    assert store_name in page.inner_text("[data-store]")
    assert page.locator("[data-step=dropped_off][aria-current=step]").count() == 1
    token = _qr_token(page)
    assert token.startswith("HV1.")
    shot(page, "shopper-4-voucher")

    # Its e-mail: the code and the way back (a link that is not the voucher itself).
    voucher_mail = stack.mail.wait_for(lambda m: short_code in stack.mail.text(m), to=email,
                                       what=f"with the voucher {short_code}")
    assert words["voucher_subject"] in str(voucher_mail["Subject"])
    [link] = LINK.findall(stack.mail.text(voucher_mail))
    assert token not in link and number in link
    page.context.close()  # the tab is gone

    # Later, from the e-mail: the QR is back.
    page = new_page(locale=locale, viewport=PHONE)
    page.goto(link)
    assert page.inner_text("[data-short-code]") == short_code

    # The store grades the headphones down (C: 80 % of the price) and completes.
    rma = _rma(stack, number)
    from hub.stores.models import Store

    with stack.session() as s:
        store = s.get(Store, rma.chosen_store_id)
        store_code, zone = store.code, store.timezone
    _hand_in(stack, token, store_code, {0: "C"})
    receipt = stack.mail.wait_for(lambda m: number in str(m["Subject"]), to=email,
                                  what="the drop-off receipt (the outbox sends it in any locale)")
    assert LINK.findall(stack.mail.text(receipt)) == [link]  # the same way back
    page.reload()
    assert page.get_attribute("[data-phase]", "data-phase") == "refund_on_its_way"
    assert page.locator("[data-store]").count() == 0  # handed in: no store to go to
    steps = page.locator("ol.steps li")
    assert [steps.nth(i).get_attribute("data-state") for i in range(3)] == ["done"] * 3
    times = page.locator("ol.steps time")
    iso = [times.nth(i).get_attribute("datetime") for i in range(times.count())]
    assert iso == sorted(iso), f"events out of order: {iso}"

    # Amazon refunds it: the worker hands the refund over and pushes the feed.
    refund = _push_until(stack, number, ("succeeded",), "Amazon to accept the refund")
    assert refund.amount == 13064 < rma.expected_refund  # the grade, not the quote
    stack.wait_for(lambda: _rma(stack, number).status == "completed", timeout=30,
                   what="the return to complete with its refund")
    completed = _rma(stack, number).completed_at

    page.reload()
    assert page.get_attribute("[data-phase]", "data-phase") == "refunded"
    headline = page.inner_text(".headline")
    final = _money(13064, words["babel"])
    day = format_date(completed.astimezone(__import__("zoneinfo").ZoneInfo(zone)).date(),
                      "long", locale=words["babel"])
    assert words["refunded"] in headline and final in headline and day in headline, headline
    assert quoted in page.inner_text("[data-quoted]")
    assert page.locator("[data-step=refunded].done").count() == 1
    assert page.locator("[aria-current=step]").count() == 0  # nothing left to wait for
    assert words["accepted"] in page.inner_text("ul.units")
    if locale != "en-US":
        assert "accepted" not in page.inner_text("ul.units")
    shot(page, "shopper-5-refunded")
    done_mail = stack.mail.wait_for(lambda m: f"return.{number}.completed" in
                                    str(m["Message-ID"]), to=email, what="the refund e-mail")
    assert final in stack.mail.text(done_mail)


def test_a_refund_amazon_refuses_tells_the_shopper_what_happens_next_until_it_is_paid(
        stack, emu, new_page, screenshot):
    from hub.audit.service import Actor
    from hub.hq.access import Scope
    from hub.hq.queues import retry_refund

    email = f"refused-{secrets.token_hex(3)}@example.com"
    order_id = _new_order(stack, email)
    stack.reset_rate_limits()
    page = new_page(locale="de-DE", viewport=PHONE)
    _find_order(page, stack, order_id)
    page.wait_for_url("**/return/items")
    page.locator("fieldset").first.locator("select[name^=qty]").select_option("1")
    page.locator("fieldset").first.locator("select[name^=reason]").select_option(
        "changed_mind.ordered_by_mistake")
    page.click("form#items button[type=submit]")
    page.wait_for_url("**/return/stores")
    page.click("form button[type=submit]")
    page.wait_for_url("**/return/r/**")
    number = page.url.split("/r/")[1].split("?")[0]
    rma = _rma(stack, number)
    from hub.stores.models import Store
    from hub.vouchers.models import Voucher

    with stack.session() as s:
        store_code = s.get(Store, rma.chosen_store_id).code
        token = s.scalar(sa.select(Voucher.token).where(Voucher.rma_id == rma.id))
    _hand_in(stack, token, store_code, {})

    # Amazon believes the item was refunded already: it refuses ours.
    amazon = emu._order(order_id)
    item = amazon["items"]["40000000000001"]
    item["refunded"] = {"Principal": int(item["ItemPrice"])}
    refund = _push_until(stack, number, ("failed",), "Amazon to refuse the refund")
    page.reload()
    assert page.get_attribute("[data-phase]", "data-phase") == "refund_delayed"
    headline = page.inner_text(".headline")
    assert "verzögert" in headline and "nichts tun" in headline, headline
    assert page.locator("[data-step=refund_delayed].problem").count() == 1
    screenshot(page, "shopper-6-refund-delayed")
    stack.mail.wait_for(lambda m: number in str(m["Subject"]) and
                        "verzögert" in str(m["Subject"]), to=email,
                        what="the delayed-refund e-mail")

    # HQ fixes the cause and sends it again; Amazon pays; the page says so.
    item["refunded"] = {}
    with stack.session() as s:
        retry_refund(s, Scope(None, "admin"), Actor("user", None, "journey HQ"), refund.id)
        s.commit()
    _push_until(stack, number, ("succeeded",), "Amazon to accept the retried refund")
    stack.wait_for(lambda: _rma(stack, number).status == "completed", timeout=30,
                   what="the return to complete after the retry")
    page.reload()
    assert page.get_attribute("[data-phase]", "data-phase") == "refunded"
    assert "Erstattet" in page.inner_text(".headline")


def test_a_second_tshirt_of_a_3_for_2_is_quoted_without_deducting_its_discount_twice(
        stack, new_page):
    email = f"tees-{secrets.token_hex(3)}@example.com"
    order_id = _new_order(stack, email)
    first = stack.api("POST", "/api/v1/returns", json={
        "channel": "amazon-mfn", "order_id": order_id, "locale": "de",
        "lines": [{"item_id": "40000000000002", "quantity": 1, "reason": "fit.too_large"}]})
    assert first.status_code == 201, first.text
    stack.reset_rate_limits()
    page = new_page(locale="de-DE", viewport=PHONE)
    _find_order(page, stack, order_id)
    page.wait_for_url("**/return/items")
    # The earlier return is listed, with the way to its page.
    assert first.json()["number"] in page.inner_text("#your-returns")
    tees = page.locator("fieldset").nth(1)
    tees.locator("select[name^=qty]").select_option("1")
    tees.locator("select[name^=reason]").select_option("fit.too_large")
    wait_for_js(page, "document.querySelector('#quote h2') !== null")
    quote = page.inner_text("#quote")
    # $20.00 + $1.78 tax: the shirt's $6.67 discount was clawed back with the first return.
    assert format_currency(Decimal("21.78"), "USD", locale="de") in quote, quote
    rows = page.locator("#quote tr")
    for n in range(rows.count()):  # every sign says which way the money goes
        label, amount = rows.nth(n).locator("td").all_inner_texts()
        assert amount.startswith("-") == (label in ("Ihr Rabatt", "Wiedereinlagerungsgebühr") or
                                          "entfällt" in label), (label, amount)
    why = page.inner_text("#quote ul.why")
    already = format_currency(Decimal("6.67"), "USD", locale="de")
    assert already in why and "zurück" in why, why  # it comes back, it is not deducted
    assert "von dieser Erstattung abgezogen" not in why, why  # nothing is deducted now


def test_the_eleventh_lookup_in_a_minute_says_when_to_try_again(stack, new_page):
    stack.reset_rate_limits()
    page = new_page(locale="de-DE", viewport=PHONE)
    try:
        for attempt in range(10):
            _find_order(page, stack, "114-0000000-0000000", proof=f"9{attempt:04d}")
            assert "konnten keine Bestellung" in page.inner_text("[role=alert]")
        _find_order(page, stack, "114-0000000-0000000", proof="90010")
        body = page.inner_text("main")
        assert "Too Many Requests" not in body and "per 1 minute" not in body
        assert "Bitte warten Sie" in body and "erneut versuchen" in body, body
        seconds = int(page.get_attribute("[data-retry-after]", "data-retry-after"))
        assert 0 < seconds <= 60
    finally:
        stack.reset_rate_limits()


@pytest.mark.parametrize("tag, catalogue", [("en-US", "en"), ("de-AT", "de"),
                                             ("zh-Hans-CN", "zh_Hans"), ("pt-BR", "en")])
def test_a_phone_in_any_language_gets_the_best_catalogue(stack, new_page, tag, catalogue):
    page = new_page(locale=tag, viewport=PHONE)
    page.goto(f"{stack.url}/return/")
    assert page.locator("#lang option[selected]").get_attribute("value") == catalogue
    assert page.get_attribute("html", "lang") == catalogue.replace("_", "-")  # BCP-47 again


def test_every_refund_the_journeys_made_is_journaled_as_the_money_that_left(stack):
    """The last story of the suite is finance's: over every refund the journeys made (this
    file runs last), the journal's Amazon-clearing lines sum to what left: the refund for one
    Amazon paid, nothing for one it refused."""
    import sqlalchemy as sa

    from hub.outbox.models import OutboxMessage
    from hub.refunds.models import Refund
    from tests.integration.test_ledger_refused_refund import refund_journal_total

    def journals_delivered():
        stack.run_job("outbox-relay")
        with stack.session() as s:
            return not s.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
                OutboxMessage.topic == "finance.journal",
                OutboxMessage.status.in_(("pending", "enqueued", "failed"))))

    stack.wait_for(journals_delivered, timeout=120, what="every journal message delivered",
                   every=1)
    with stack.session() as s:
        # The refunds the journeys made (the demo seed's sample history has no journal).
        handed = set(s.scalars(sa.select(OutboxMessage.dedupe_key).where(
            OutboxMessage.topic == "finance.journal")))
        refunds = [r for r in s.scalars(sa.select(Refund))
                   if f"intake:{r.intake_id}:journal" in handed]
        assert refunds, "the journeys made no refund"
        owed = {r.id: r.amount if r.status in ("succeeded", "settled") else 0
                for r in refunds if r.status in ("succeeded", "settled", "failed")}
        journal = {r.id: refund_journal_total(s, r) for r in refunds if r.id in owed}
    assert owed and journal == owed
