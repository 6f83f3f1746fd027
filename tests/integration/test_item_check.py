"""Item verification at the counter (server side): the order's GTIN from the import or from
Amazon's catalog over HTTP (the sandbox, through python-amazon-sp-api), the scan compared with
it, a mismatch refused without a supervisor, a swap between units of the same order, serial
numbers checked and flagged, and hostile input refused with nothing written."""

from __future__ import annotations

import re

import httpx
import pytest
import sqlalchemy as sa

from hub.items.models import ItemCheck
from hub.orders.models import OrderLine
from hub.returns.models import ReturnAuthorization, ReturnLine
from tests.integration.amazon_helpers import connector
from tests.integration.factories import (
    clerk_may_approve_up_to,
    create_order,
    issue_return,
    order_payload,
    seed_stores,
    store_user,
)
from tests.integration.test_store_app import _decide, _scan, _sign_in, _tablet

HEADPHONES_UPC = "036000291452"  # UPC-A; the same item as EAN-13 0036000291452
TSHIRT_EAN = "4006381333931"
OTHER_EAN = "96385074"  # EAN-8 of an item this order does not have
HTMX = {"HX-Request": "true"}


def _lines(**headphones):
    payload = order_payload()
    payload["lines"][0].update(headphones)
    payload["lines"][1]["gtin"] = TSHIRT_EAN
    return payload["lines"]


def _counter(client, api_key, session, *, lines=None, returned=None, order_lines=None):
    seed_stores(session)
    clerk_may_approve_up_to(session)  # not a story about approval tiers
    admin = api_key("admin")
    create_order(client, admin, lines=order_lines or _lines(
        gtin=HEADPHONES_UPC, serial_numbers=["sn-aaa1", "SN-AAA2"], asin="B00HEADPH1"))
    rma = issue_return(client, admin, returned)
    store_user(session, "NYC-1", "clerk", "101", "2468")
    store_user(session, "NYC-1", "supervisor", "900", "9090")
    _tablet(client, session)
    assert _sign_in(client).status_code == 302
    opened = _scan(client, rma["voucher"]["short_code"])
    overview = client.get(opened.headers["Location"]).get_data(as_text=True)
    units = re.findall(r'href="(/store/intakes/\d+/units/\d+)"', overview)
    return rma, list(dict.fromkeys(units))


def _item(client, unit, action, **data):
    return client.post(f"{unit}/item/{action}", data=data, headers=HTMX)


def _check(session, unit) -> ItemCheck | None:
    session.expire_all()
    unit_id = int(unit.rsplit("/", 1)[1])
    return session.scalar(sa.select(ItemCheck).where(ItemCheck.return_line_id == unit_id))


def test_the_right_item_passes_and_upc_a_equals_ean_13(client, api_key, session):
    _rma, units = _counter(client, api_key, session)
    page = client.get(units[0]).get_data(as_text=True)
    assert "Expected barcode: 036000291452" in page and 'id="item-scan-form"' in page
    answer = _item(client, units[0], "scan", barcode="0036000291452", format="ean_13")
    assert answer.status_code == 200
    assert "Right item" in answer.get_data(as_text=True)
    assert _check(session, units[0]).result == "match"
    assert _decide(client, units[0]).status_code == 303


def test_a_wrong_item_is_refused_until_a_supervisor_approves(client, api_key, session):
    _rma, units = _counter(client, api_key, session)
    answer = _item(client, units[0], "scan", barcode=OTHER_EAN, format="ean_8")
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Wrong item: scanned 96385074" in text
    assert 'id="item-approve-form"' in text
    refused = _decide(client, units[0])
    assert refused.status_code == 422
    assert "not the item ordered" in refused.get_data(as_text=True)
    german = client.post(units[0], headers={"Accept-Language": "de"}, data={
        "reception": "received", "decision": "accept", "grade": "A", "disposition": "restock"})
    assert "Vorgesetzte" in german.get_data(as_text=True)
    # a clerk's own PIN is not a supervisor's; a wrong PIN is refused
    assert _item(client, units[0], "approve", supervisor_staff="101",
                 supervisor_pin="2468").status_code == 403
    assert _item(client, units[0], "approve", supervisor_staff="900",
                 supervisor_pin="0000").status_code == 403
    assert _check(session, units[0]).overridden_by_id is None
    approved = _item(client, units[0], "approve", supervisor_staff="900", supervisor_pin="9090")
    assert approved.status_code == 200 and "supervisor approved" in approved.get_data(
        as_text=True)
    assert _decide(client, units[0]).status_code == 303
    # the same wrong item rejected is always possible, without a supervisor
    _item(client, units[0], "scan", barcode=OTHER_EAN, format="ean_8")
    assert _decide(client, units[0], decision="reject",
                   reject_reason="wrong_item").status_code == 303


def test_a_mismatch_scanned_after_accepting_undoes_the_acceptance(client, api_key, session):
    _rma, units = _counter(client, api_key, session)
    assert _decide(client, units[0]).status_code == 303
    _item(client, units[0], "scan", barcode=OTHER_EAN, format="ean_8")
    session.expire_all()
    line = session.get(ReturnLine, int(units[0].rsplit("/", 1)[1]))
    assert line.acceptance_status == "pending"


def test_another_line_of_the_same_order_offers_to_swap_the_units(client, api_key, session):
    returned = [{"item_id": "11111111111111", "quantity": 1, "reason": "fit.too_small"},
                {"item_id": "22222222222222", "quantity": 1, "reason": "fit.too_small"}]
    _rma, units = _counter(client, api_key, session, returned=returned)
    headphones, tshirt = units
    answer = _item(client, headphones, "scan", barcode=TSHIRT_EAN, format="ean_13")
    assert "T-shirt, another item of the same order" in answer.get_data(as_text=True)
    assert _check(session, headphones).result == "other_line"
    assert _decide(client, headphones).status_code == 422  # not as the headphones
    swapped = _item(client, headphones, "swap")
    assert swapped.status_code == 204 and swapped.headers["HX-Redirect"] == tshirt
    assert _check(session, tshirt).result == "match"
    assert _check(session, headphones).scanned_gtin == ""
    assert _item(client, headphones, "swap").status_code == 409  # nothing left to swap


def test_a_swap_to_a_line_outside_the_return_is_refused(client, api_key, session):
    _rma, units = _counter(client, api_key, session)  # only a headphones unit is returned
    _item(client, units[0], "scan", barcode=TSHIRT_EAN, format="ean_13")
    refused = _item(client, units[0], "swap")
    assert refused.status_code == 409
    assert "not in this return" in refused.get_data(as_text=True)


@pytest.mark.parametrize("barcode, fmt, message", [
    ("ABCDEFGHIJKLM", "ean_13", "only digits"),
    ("4006381333932", "ean_13", "does not fit the others"),
    ("12345", "typed", "8, 12, 13 or 14 digits"),
    ("9" * 200_000, "ean_13", "far too long"),
    ("", "typed", "type the digits"),
    ("<script>alert(1)</script>", "code_128", "not a product number"),
    ("0036000291452", "qr_code'; DROP TABLE x", "Right item"),  # unknown format: as typed
])
def test_hostile_barcodes_get_a_specific_answer_and_write_nothing(client, api_key, session,
                                                                   barcode, fmt, message):
    _rma, units = _counter(client, api_key, session)
    answer = _item(client, units[0], "scan", barcode=barcode, format=fmt)
    assert message in answer.get_data(as_text=True)
    if message != "Right item":
        assert answer.status_code == 422 and _check(session, units[0]) is None
        plain = client.post(f"{units[0]}/item/scan", data={"barcode": barcode, "format": fmt})
        assert plain.status_code == 422 and "<html" in plain.get_data(as_text=True).lower()


def test_units_and_intakes_of_others_do_not_exist_here(client, api_key, session):
    _rma, units = _counter(client, api_key, session)
    intake_path = units[0].rsplit("/units/", 1)[0]
    assert client.post(f"{intake_path}/units/999999/item/scan", data={
        "barcode": TSHIRT_EAN}, headers=HTMX).status_code == 404
    assert client.post("/store/intakes/999999/units/1/item/scan", data={
        "barcode": TSHIRT_EAN}, headers=HTMX).status_code == 404


def test_serial_numbers_are_checked_against_the_order_and_recorded(client, api_key, session):
    _rma, units = _counter(client, api_key, session)
    page = client.get(units[0]).get_data(as_text=True)
    assert 'id="item-serial-form"' in page  # electronics: the policy asks for it
    matched = _item(client, units[0], "serial", serial=" sn-aaa2 ")
    assert "matches the order" in matched.get_data(as_text=True)
    assert _check(session, units[0]).serial_number == "SN-AAA2"
    other = _item(client, units[0], "serial", serial="SN-ZZZ9")
    assert "not one the order shipped" in other.get_data(as_text=True)
    assert _check(session, units[0]).serial_check == "mismatch"
    for bad, message in (("", "Type or scan"), ("SN 1; DROP", "up to 64"),
                         ("A" * 65, "up to 64"), ("x" * 100_000, "up to 64")):
        answer = _item(client, units[0], "serial", serial=bad)
        assert answer.status_code == 422 and message in answer.get_data(as_text=True)
    assert _check(session, units[0]).serial_number == "SN-ZZZ9"


def test_a_serial_the_order_does_not_know_is_recorded_either_way(client, api_key, session):
    lines = _lines()
    _rma, units = _counter(client, api_key, session, order_lines=lines)
    answer = _item(client, units[0], "serial", serial="XYZ-123")
    assert "Serial number recorded" in answer.get_data(as_text=True)
    assert _check(session, units[0]).serial_check == "unknown"


def test_a_serial_already_returned_in_another_return_is_a_risk_flag(client, api_key, session):
    rma, units = _counter(client, api_key, session)
    _item(client, units[0], "serial", serial="SN-AAA1")
    assert _decide(client, units[0]).status_code == 303
    intake_path = units[0].rsplit("/units/", 1)[0]
    page = client.get(intake_path).get_data(as_text=True)
    key = re.search(r'id="complete-form".*?name="idempotency_key" value="(\w+)"', page,
                    re.S).group(1)
    assert client.post(f"{intake_path}/complete",
                       data={"idempotency_key": key}).status_code == 303
    # the second headphones unit comes back with the first one's serial number
    second = issue_return(client, api_key("admin"), None)
    opened = _scan(client, second["voucher"]["short_code"])
    overview = client.get(opened.headers["Location"]).get_data(as_text=True)
    unit = re.search(r'href="(/store/intakes/\d+/units/\d+)"', overview).group(1)
    flagged = _item(client, unit, "serial", serial="sn-aaa1")
    assert f"already returned in {rma['number']}" in flagged.get_data(as_text=True)
    session.expire_all()
    again = session.scalar(sa.select(ReturnAuthorization).where(
        ReturnAuthorization.number == second["number"]))
    assert any(f["code"] == "serial_already_returned" and f["return"] == rma["number"]
               for f in again.risk_flags)
    assert _decide(client, unit).status_code == 303
    done = client.post(unit.rsplit("/units/", 1)[0] + "/complete", data={})
    assert done.status_code == 403  # a supervisor must approve: the risk rule
    assert "flagged by the risk rules" in done.get_data(as_text=True)
    _item(client, unit, "serial", serial="sn-aaa1")  # scanning again adds no second flag
    session.expire_all()
    assert sum(f["code"] == "serial_already_returned" for f in session.get(
        ReturnAuthorization, again.id).risk_flags) == 1


def test_the_order_import_refuses_a_malformed_gtin(client, api_key, session):
    admin = api_key("admin")
    for gtin, message in (("4006381333932", "does not fit"), ("12AB", "only digits"),
                          ("9" * 70, "far too long")):
        lines = _lines(gtin=gtin)
        answer = client.post("/api/v1/orders", json=order_payload(lines=lines), headers=admin)
        assert answer.status_code == 422, answer.get_json()
        assert message in str(answer.get_json())
    bad_serials = _lines(serial_numbers="SN1")
    assert client.post("/api/v1/orders", json=order_payload(lines=bad_serials),
                       headers=admin).status_code == 422
    assert session.scalar(sa.select(sa.func.count()).select_from(OrderLine)) == 0


# --- Amazon's catalog, over HTTP to the sandbox ------------------------------------------------

CATALOG = [{"asin": "B00HEADPH1", "marketplaceId": "ATVPDKIKX0DER", "itemName": "Headphones",
            "identifiers": [{"identifierType": "EAN", "identifier": "0036000291452"},
                            {"identifierType": "UPC", "identifier": HEADPHONES_UPC}]}]


def test_the_connector_reads_catalog_identifiers_through_python_amazon_sp_api(emu, sandbox):
    emu.add_catalog(CATALOG)
    import time

    from hub.amazon.connector import Throttled

    amazon = connector(sandbox)

    def identifiers(marketplace: str, asin: str):
        # The usage plan is 2 a second with a burst of 2: our own bucket says when to ask.
        for _ in range(20):
            try:
                return amazon.catalog_identifiers(marketplace, asin)
            except Throttled as exc:
                time.sleep(exc.wait)
        raise AssertionError("still throttled")

    found = identifiers("ATVPDKIKX0DER", "B00HEADPH1")
    assert {"identifierType": "UPC", "identifier": HEADPHONES_UPC} in found
    assert identifiers("ATVPDKIKX0DER", "B0UNKNOWN1") is None
    assert identifiers("A1PA6795UKMFR9", "B00HEADPH1") is None  # other market


def test_the_sandbox_answers_get_catalog_item_as_the_model_says(emu, sandbox):
    emu.add_catalog(CATALOG)
    emu.rate_multiplier = 1000.0  # the answers first; the usage plan below
    token = httpx.post(f"{sandbox.url}/auth/o2/token", data={
        "grant_type": "refresh_token", "refresh_token": "Atzr|homing-sandbox-refresh-token",
        "client_id": "amzn1.application-oa2-client.homing-sandbox",
        "client_secret": "homing-sandbox-secret"}).json()["access_token"]
    get = lambda path, **params: httpx.get(f"{sandbox.url}{path}", params=params,  # noqa: E731
                                           headers={"x-amz-access-token": token})
    ok = get("/catalog/2022-04-01/items/B00HEADPH1", marketplaceIds="ATVPDKIKX0DER",
             includedData="identifiers,summaries")
    assert ok.status_code == 200 and ok.headers["x-amzn-RateLimit-Limit"] == "2"
    body = ok.json()
    assert body["asin"] == "B00HEADPH1"
    assert body["identifiers"][0]["marketplaceId"] == "ATVPDKIKX0DER"
    assert body["summaries"][0]["itemName"] == "Headphones"
    missing = get("/catalog/2022-04-01/items/B00HEADPH1")
    assert missing.status_code == 400 and missing.json()["errors"][0]["code"] == "InvalidInput"
    wrong = get("/catalog/2022-04-01/items/B00HEADPH1", marketplaceIds="ATVPDKIKX0DER",
                includedData="identifiers,secrets")
    assert wrong.status_code == 400 and "secrets" in wrong.json()["errors"][0]["message"]
    assert get("/catalog/2022-04-01/items/B0UNKNOWN1",
               marketplaceIds="ATVPDKIKX0DER").status_code == 404
    # burst 2: the third call within the second is throttled, as Amazon's usage plan says
    emu.rate_multiplier = 1.0
    statuses = [get("/catalog/2022-04-01/items/B00HEADPH1",
                    marketplaceIds="ATVPDKIKX0DER").status_code for _ in range(3)]
    assert 429 in statuses


@pytest.fixture
def amazon_app(app, sandbox, monkeypatch):
    monkeypatch.setitem(app.config, "AMAZON_MODE", "sandbox")
    monkeypatch.setitem(app.config, "AMAZON_ENDPOINT", sandbox.url)
    monkeypatch.setitem(app.config, "AMAZON_LWA_URL", sandbox.url)
    app.extensions.pop("homing_spapi_buckets", None)  # fresh buckets for the test
    yield app
    app.extensions.pop("homing_spapi_buckets", None)


def _no_gtin_order():
    lines = _lines(asin="B00HEADPH1")
    lines[0].pop("gtin", None)
    return lines


def test_an_amazon_line_without_gtin_asks_the_catalog_once(client, api_key, session, emu,
                                                           amazon_app):
    emu.add_catalog(CATALOG)
    _rma, units = _counter(client, api_key, session, order_lines=_no_gtin_order())
    answer = _item(client, units[0], "scan", barcode=HEADPHONES_UPC, format="upc_a")
    assert "Right item" in answer.get_data(as_text=True)
    session.expire_all()
    line = session.scalar(sa.select(OrderLine).where(OrderLine.asin == "B00HEADPH1"))
    assert (line.gtin, line.gtin_source) == ("00036000291452", "amazon")
    asked = emu.requests["getCatalogItem"]
    _item(client, units[0], "scan", barcode=HEADPHONES_UPC, format="upc_a")
    assert emu.requests["getCatalogItem"] == asked  # known now: not asked again


def test_amazon_not_answering_never_blocks_the_counter(client, api_key, session, emu,
                                                       amazon_app):
    emu.add_catalog(CATALOG)
    emu.inject("getCatalogItem", 503, times=5)
    _rma, units = _counter(client, api_key, session, order_lines=_no_gtin_order())
    answer = _item(client, units[0], "scan", barcode=OTHER_EAN, format="ean_8")
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200 and 'id="item-amazon-unsure"' in text
    assert _check(session, units[0]).result == "unverified"
    line = session.scalar(sa.select(OrderLine).where(OrderLine.asin == "B00HEADPH1"))
    assert (line.gtin, line.gtin_source) == ("", "")  # don't-know is not stored as no
    assert _decide(client, units[0]).status_code == 303  # the clerk checked it by eye


def test_amazon_knowing_no_gtin_is_stored_as_no(client, api_key, session, emu, amazon_app):
    _rma, units = _counter(client, api_key, session, order_lines=_no_gtin_order())
    _item(client, units[0], "scan", barcode=OTHER_EAN, format="ean_8")
    session.expire_all()
    line = session.scalar(sa.select(OrderLine).where(OrderLine.asin == "B00HEADPH1"))
    assert line.gtin_source == "none"
    asked = emu.requests["getCatalogItem"]
    _item(client, units[0], "scan", barcode=OTHER_EAN, format="ean_8")
    assert emu.requests["getCatalogItem"] == asked
