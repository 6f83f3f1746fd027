from __future__ import annotations

import base64
import io
import json
from datetime import timedelta

import sqlalchemy as sa
import zxingcpp
from PIL import Image

from hub.models import utcnow
from hub.returns.models import ReturnAuthorization, ReturnLine
from hub.returns.service import consume_voucher, expire_due, find_voucher
from hub.vouchers.crypto import Keyring, derive_private_key, sign, verify
from hub.vouchers.keys import keyring
from hub.vouchers.models import Voucher
from tests.conftest import count
from tests.integration.factories import create_order, seed_stores

ORDER = "114-1234567-1234567"


def _request(**overrides) -> dict:
    body = {"channel": "amazon-mfn", "order_id": ORDER,
            "lines": [{"item_id": "11111111111111", "quantity": 1,
                       "reason": "changed_mind.better_price"}],
            "latitude": 40.7580, "longitude": -73.9855, "locale": "en"}
    body.update(overrides)
    return body


def _setup(client, api_key, session):
    seed_stores(session)
    admin = api_key("admin")
    create_order(client, admin)
    return admin


def test_issue_a_return_with_voucher_route_and_expected_refund(client, api_key, session, app):
    admin = _setup(client, api_key, session)
    response = client.post("/api/v1/returns", json=_request(), headers=admin)
    assert response.status_code == 201, response.get_json()
    rma = response.get_json()
    assert rma["status"] == "issued" and len(rma["units"]) == 1
    # One of two headphones: half of 199.98 and half of the tax, no shipping (not all back).
    assert rma["expected_refund"] == "108.86"
    assert rma["expected_breakdown"]["components"] == {"Principal": "99.99", "Tax": "8.87"}
    assert [s["code"] for s in rma["routed_stores"]][:2] == ["NYC-1", "JC-1"]
    assert rma["store"]["code"] == "NYC-1"
    # The QR decodes (real decoder) to a token whose signature verifies.
    png = client.get(f"/api/v1/returns/{rma['number']}/voucher.png", headers=admin).data
    [decoded] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert decoded.text == rma["voucher"]["token"]
    claims = verify(keyring(), decoded.text, utcnow())
    assert claims.rma == rma["number"] and claims.store == "NYC-1"
    svg = client.get(f"/api/v1/returns/{rma['number']}/voucher.svg", headers=admin)
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data


def test_units_cannot_be_authorised_twice(client, api_key, session):
    admin = _setup(client, api_key, session)
    two = _request(lines=[{"item_id": "11111111111111", "quantity": 2,
                           "reasons": ["fit.too_small", "damaged.arrived_broken"]}])
    assert client.post("/api/v1/returns", json=two, headers=admin).status_code == 201
    again = client.post("/api/v1/returns", json=_request(), headers=admin)
    assert again.status_code == 422
    assert again.get_json()["errors"][0]["code"] == "already_returned"
    assert count(session, ReturnAuthorization) == 1


def test_bad_requests_say_what_is_wrong_and_change_nothing(client, api_key, session):
    admin = _setup(client, api_key, session)
    cases = [
        (_request(order_id="114-0000000-0000000"), 404, "order_not_found"),
        (_request(lines=[{"item_id": "11111111111111", "quantity": 3, "reason": "fit.too_small"}]),
         422, "quantity_exceeds"),
        (_request(lines=[{"item_id": "11111111111111", "quantity": 1, "reason": "i-hate-it"}]),
         422, "unknown_reason"),
        (_request(lines=[{"item_id": "11111111111111", "quantity": 1, "reason": "fit"}]),
         422, "unknown_reason"),  # a group, not a reason a shopper can pick
        (_request(lines=[]), 422, None),
        (_request(latitude=123), 422, None),
    ]
    for body, status, code in cases:
        response = client.post("/api/v1/returns", json=body, headers=admin)
        assert response.status_code == status, (body, response.get_json())
        if code:
            problem = response.get_json()
            assert code in (problem["code"], *(e.get("code") for e in problem.get("errors", [])))
    huge = client.post("/api/v1/returns", data="{" * 10_000, headers={
        **admin, "Content-Type": "application/json"})
    assert huge.status_code == 400
    assert count(session, ReturnAuthorization) == 0 and count(session, Voucher) == 0


def test_outside_the_window(client, api_key, session):
    seed_stores(session)
    admin = api_key("admin")
    create_order(client, admin, delivered_days_ago=45)
    response = client.post("/api/v1/returns", json=_request(), headers=admin)
    assert response.status_code == 422
    [error] = response.get_json()["errors"]
    assert error["code"] == "window_closed" and "30-day return window closed" in error["message"]


def test_voucher_verification_errors_are_distinct(client, api_key, session, app):
    admin = _setup(client, api_key, session)
    rma = client.post("/api/v1/returns", json=_request(), headers=admin).get_json()
    token, short = rma["voucher"]["token"], rma["voucher"]["short_code"]
    ok = client.get(f"/api/v1/vouchers/{short.lower()}", headers=admin)
    assert ok.status_code == 200 and ok.get_json()["return"]["number"] == rma["number"]
    head, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["e"] += 86400 * 365  # a year longer
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    tampered = f"{head}.{forged}.{signature}"
    foreign = sign(Keyring.build(derive_private_key("someone else")), rma["number"],
                   short.replace("-", ""), utcnow() + timedelta(days=1))
    typo = short[:-1] + ("2" if short[-1] != "2" else "3")
    cases = {tampered: "voucher_bad_signature", token[:40]: "voucher_malformed",
             foreign: "voucher_unknown_key", typo: "voucher_malformed",
             "hello": "voucher_malformed"}
    for text, code in cases.items():
        response = client.get(f"/api/v1/vouchers/{text}", headers=admin)
        assert response.get_json()["code"] == code, text
    cancel = client.post(f"/api/v1/returns/{rma['number']}/cancel", headers=admin)
    assert cancel.get_json()["status"] == "cancelled"
    assert client.get(f"/api/v1/vouchers/{token}", headers=admin).get_json()["code"] == \
        "voucher_cancelled"
    # Cancelling freed the unit: it can be authorised again.
    assert client.post("/api/v1/returns", json=_request(), headers=admin).status_code == 201
    assert client.post(f"/api/v1/returns/{rma['number']}/cancel",
                       headers=admin).status_code == 409


def test_voucher_is_consumed_exactly_once(client, api_key, session, app):
    admin = _setup(client, api_key, session)
    rma = client.post("/api/v1/returns", json=_request(), headers=admin).get_json()
    voucher, _ = find_voucher(session, keyring(), rma["voucher"]["token"])
    store_id = session.scalar(sa.text("SELECT id FROM stores WHERE code = 'NYC-1'"))
    assert consume_voucher(session, voucher, store_id) is True
    assert consume_voucher(session, voucher, store_id) is False
    session.commit()
    used = client.get(f"/api/v1/vouchers/{rma['voucher']['token']}", headers=admin)
    assert used.get_json()["code"] == "voucher_already_used"
    assert session.get(Voucher, voucher.id).replay_attempts == 1


def test_expiry_job_expires_unused_returns_and_frees_units(client, api_key, session):
    admin = _setup(client, api_key, session)
    rma = client.post("/api/v1/returns", json=_request(), headers=admin).get_json()
    assert expire_due(session, utcnow() + timedelta(days=13)) == 0
    assert expire_due(session, utcnow() + timedelta(days=15)) == 1
    session.commit()
    statuses = session.scalars(sa.select(ReturnLine.reception_status)).all()
    assert statuses == ["expired"]
    body = client.get(f"/api/v1/returns/{rma['number']}", headers=admin).get_json()
    assert body["status"] == "expired" and body["voucher"]["status"] == "expired"


def test_code_lookups_are_rate_limited(client, api_key, session, app, monkeypatch):
    admin = _setup(client, api_key, session)
    # Per API key (a counter scans all day; counters behind one address do not share it).
    monkeypatch.setitem(app.config, "RATELIMIT_CODE_LOOKUP_STORE", "5 per minute")
    answers = [client.get("/api/v1/vouchers/AAAA-AAAA-AA", headers=admin).status_code
               for _ in range(6)]
    assert answers[-1] == 429 and 429 not in answers[:-1]
    assert client.get("/api/v1/vouchers/AAAA-AAAA-AA",
                      headers=api_key("admin")).status_code != 429
