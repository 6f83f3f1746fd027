"""Keys and replays. Promise: an Idempotency-Key belongs to the API key that sent it and to
the body it came with. A retry gets the first answer and nothing is done twice; the same key
with another body is 422 ``idempotency_key_reused``; another caller's equal key is its own
and never returns the first caller's return or voucher. Bad, revoked or missing API keys are
401; a store's key cannot act for another store."""

from __future__ import annotations

from hub.returns.models import ReturnAuthorization
from tests.conftest import count
from tests.integration.factories import create_order

ORDER, OTHER = "114-1234567-1234567", "114-7654321-7654321"


def _body(order: str = ORDER, item: str = "11111111111111", quantity: int = 1) -> dict:
    return {"channel": "amazon-mfn", "order_id": order, "latitude": 40.758,
            "longitude": -73.9855,
            "lines": [{"item_id": item, "quantity": quantity, "reason": "fit.too_small"}]}


def test_a_retry_gets_the_first_answer_and_nothing_twice(client, admin, session):
    key = {**admin, "Idempotency-Key": "retry-1"}
    first = client.post("/api/v1/returns", json=_body(), headers=key)
    again = client.post("/api/v1/returns", json=_body(), headers=key)
    assert first.status_code == again.status_code == 201
    assert again.get_json()["number"] == first.get_json()["number"]
    assert count(session, ReturnAuthorization) == 1


def test_the_same_key_with_another_body_is_refused(client, admin, session):
    key = {**admin, "Idempotency-Key": "retry-2"}
    assert client.post("/api/v1/returns", json=_body(), headers=key).status_code == 201
    other = client.post("/api/v1/returns", json=_body(item="22222222222222"), headers=key)
    assert other.status_code == 422 and other.get_json()["code"] == "idempotency_key_reused"
    assert count(session, ReturnAuthorization) == 1


def test_another_callers_equal_key_never_gets_the_first_callers_voucher(
        client, api_key, admin, session):
    create_order(client, admin, order_id=OTHER)
    first = client.post("/api/v1/returns", json=_body(),
                        headers={**admin, "Idempotency-Key": "shared"}).get_json()
    intruder = api_key("hq_ops")
    theirs = client.post("/api/v1/returns", json=_body(order=OTHER),
                         headers={**intruder, "Idempotency-Key": "shared"})
    assert theirs.status_code == 201, theirs.get_json()
    body = theirs.get_json()
    assert body["number"] != first["number"]
    assert body["voucher"]["token"] != first["voucher"]["token"]
    assert body["order"]["order_id"] == OTHER if "order" in body else True
    assert count(session, ReturnAuthorization) == 2
    # The same caller and body with the key in the JSON body instead of the header: one key.
    again = client.post("/api/v1/returns", json={**_body(order=OTHER), "idempotency_key":
                                                 "shared"}, headers=intruder)
    assert again.status_code == 201 and again.get_json()["number"] == body["number"]


def test_bad_revoked_and_missing_keys_are_401(client, admin, session):
    from hub.auth.models import ApiKey
    from hub.models import utcnow

    for header in ({}, {"Authorization": "Basic eDp5"}, {"Authorization": "Bearer "},
                   {"Authorization": "Bearer hom_deadbeef_nope"},
                   {"Authorization": "Bearer hom_" + "a" * 5000},
                   {"Authorization": "Bearer \x00\x01"}):
        assert client.get("/api/v1/refunds", headers=header).status_code == 401, header
    key = session.query(ApiKey).one()
    key.revoked_at = utcnow()
    session.commit()
    revoked = client.get("/api/v1/refunds", headers=admin)
    assert revoked.status_code == 401 and revoked.get_json()["code"] == "revoked_key"


def test_a_stores_key_cannot_open_another_stores_intake(client, api_key, admin, rma):
    other_store = api_key("clerk", "JC-1")
    opened = client.post("/api/v1/intakes", json={"voucher": rma["voucher"]["token"],
                                                  "store": "NYC-1"}, headers=other_store)
    assert opened.status_code == 403 and opened.get_json()["code"] == "wrong_store"
