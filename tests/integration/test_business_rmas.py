"""A business buyer returns units of many orders under one RMA number (API: JSON or CSV);
bad lines are named by line number and nothing is written."""

from __future__ import annotations

import sqlalchemy as sa

from hub.business.models import BusinessReturnBatch
from hub.returns.models import ReturnAuthorization
from tests.integration.business_helpers import business_order_payload
from tests.integration.factories import seed_stores

FIRST, SECOND = "302-1111111-1111111", "302-2222222-2222222"
NYC = "latitude=40.758&longitude=-73.9855"


def _orders(client, admin):
    for order_id in (FIRST, SECOND):
        response = client.post("/api/v1/orders", json=business_order_payload(order_id),
                               headers=admin)
        assert response.status_code in (200, 201), response.get_json()


def _count(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_csv_of_two_orders_gets_one_rma_number(client, api_key, session):
    seed_stores(session)
    admin = api_key("admin")
    _orders(client, admin)
    csv = ("Order,Item,Quantity,Reason\r\n"
           f"{FIRST},DRILL-1,2,changed_mind.better_price\r\n"
           f"{SECOND},44444444444444,1,changed_mind.better_price\r\n\r\n")
    response = client.post("/api/v1/rmas?store_code=NYC-1", data=csv.encode(),
                           headers={**admin, "Content-Type": "text/csv"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["number"].startswith("B") and len(body["returns"]) == 2
    assert sorted(len(r["units"]) for r in body["returns"]) == [1, 2]
    again = client.get(f"/api/v1/rmas/{body['number']}", headers=admin).get_json()
    assert [r["number"] for r in again["returns"]] == [r["number"] for r in body["returns"]]
    assert client.get("/api/v1/rmas/BNOSUCH", headers=admin).status_code == 404


def test_bad_lines_are_named_and_nothing_is_written(client, api_key, session):
    seed_stores(session)
    admin = api_key("admin")
    _orders(client, admin)
    before = _count(session, ReturnAuthorization)
    csv = ("order,item,qty,reason\n"
           f"{FIRST},DRILL-1,1,changed_mind.better_price\n"
           f"{FIRST},DRILL-1,1,changed_mind.better_price\n"
           f"{SECOND},BOOK-1,zero,changed_mind.better_price\n"
           "302-9999999-9999999,X,1,changed_mind.better_price\n"
           f"{SECOND},BOOK-1,1,\n")
    response = client.post("/api/v1/rmas", data=csv, headers={**admin,
                                                              "Content-Type": "text/csv"})
    assert response.status_code == 422
    fields = [e["field"] for e in response.get_json()["errors"]]
    assert fields == ["line 3", "line 4", "line 6"], fields
    # Lines that parse but fail on the orders: unknown order, an item of another order,
    # more units than bought; the good order's return is not kept either.
    bad = {"lines": [
        {"order_id": FIRST, "item_id": "DRILL-1", "quantity": 1,
         "reason": "changed_mind.better_price"},
        {"order_id": "302-9999999-9999999", "item_id": "X", "quantity": 1, "reason": "r"},
        {"order_id": SECOND, "item_id": "DRILL-9", "quantity": 1, "reason": "r"},
    ], "latitude": 40.758, "longitude": -73.9855}
    response = client.post("/api/v1/rmas", json=bad, headers=admin)
    assert response.status_code == 422, response.get_json()
    assert [e["field"] for e in response.get_json().get("errors", [])] == ["line 2", "line 3"], \
        response.get_json()
    too_many = {"lines": [{"order_id": FIRST, "item_id": "DRILL-1", "quantity": 5,
                           "reason": "changed_mind.better_price"}]}
    response = client.post("/api/v1/rmas", json=too_many, headers=admin)
    assert response.status_code == 422
    assert "line 1" in str(response.get_json()), response.get_json()
    for body, kind in ((b"\xff\xfe", "text/csv"), (b"order\n", "text/csv"),
                       (b"<x/>", "application/xml")):
        assert client.post("/api/v1/rmas", data=body, headers={
            **admin, "Content-Type": kind}).status_code in (400, 415, 422)
    assert _count(session, ReturnAuthorization) == before
    assert _count(session, BusinessReturnBatch) == 0
    clerk = api_key("clerk", "NYC-1")
    assert client.post("/api/v1/rmas", json=bad, headers=clerk).status_code == 403


def test_the_portal_upload_names_bad_lines_then_gives_one_rma_number(client, api_key,
                                                                     session):
    import io

    seed_stores(session)
    admin = api_key("admin")
    _orders(client, admin)
    other = business_order_payload("302-3333333-3333333")
    other["buyer"] = {**other["buyer"], "email": "someone-else@example.com"}
    assert client.post("/api/v1/orders", json=other, headers=admin).status_code in (200, 201)
    found = client.post("/return/find", data={"order_id": FIRST, "proof": "10115"})
    assert found.status_code == 302
    items = client.get("/return/items").get_data(as_text=True)
    assert "data-business-upload" in items

    def upload(text: str):
        return client.post("/return/business/upload", data={
            "file": (io.BytesIO(text.encode()), "returns.csv"), "store_code": "NYC-1"},
            content_type="multipart/form-data")

    before = _count(session, ReturnAuthorization)
    bad = upload("order,item,quantity,reason\n"
                 f"{FIRST},DRILL-1,x,changed_mind.better_price\n"
                 "302-3333333-3333333,BOOK-1,1,changed_mind.better_price\n")
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert "Line 2" in page and "Nothing was created" in page
    # Another buyer's order is not theirs to return (named like an unknown order).
    bad = upload("order,item,quantity,reason\n"
                 "302-3333333-3333333,BOOK-1,1,changed_mind.better_price\n")
    assert bad.status_code == 422 and "is not one of your Amazon" in bad.get_data(as_text=True)
    assert _count(session, ReturnAuthorization) == before
    good = upload("order,item,quantity,reason\n"
                  f"{FIRST},DRILL-1,1,changed_mind.better_price\n"
                  f"{SECOND},BOOK-1,1,changed_mind.better_price\n")
    assert good.status_code == 201, good.get_data(as_text=True)
    page = good.get_data(as_text=True)
    assert "data-batch-number" in page and page.count("/return/r/") == 2
    assert _count(session, BusinessReturnBatch) == 1
