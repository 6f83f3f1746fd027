"""Store stock on PostgreSQL: counts and changes from the POS (JSON, CSV, idempotent deltas),
Homing's own restocks, never below zero, and hostile input refused with nothing written."""

from __future__ import annotations

import sqlalchemy as sa

from hub.stock.models import StockChange, StoreStock
from hub.stores.service import get_store
from tests.integration.factories import (
    clerk_may_approve_up_to,
    create_order,
    issue_return,
    seed_stores,
)

ACCEPT = {"reception": "received", "decision": "accept", "grade": "A", "disposition": "restock"}


def _quantities(session, code="NYC-1") -> dict[str, int]:
    store = get_store(session, code)
    return dict(session.execute(sa.select(StoreStock.sku, StoreStock.quantity)
                                .where(StoreStock.store_id == store.id)).all())


def test_a_full_count_sets_every_sku_and_zeroes_the_missing(client, api_key, session):
    seed_stores(session)
    admin = api_key("admin")
    put = client.put("/api/v1/stores/NYC-1/stock", headers=admin, json={"items": [
        {"sku": "TSHIRT-M", "quantity": 4}, {"sku": "TSHIRT-L", "quantity": 2}]})
    assert put.status_code == 200, put.get_json()
    assert put.get_json()["changed"] == 2
    csv_body = "sku,quantity\nTSHIRT-M,5\n"
    again = client.put("/api/v1/stores/NYC-1/stock", headers={**admin,
                       "Content-Type": "text/csv"}, data=csv_body)
    assert again.status_code == 200, again.get_json()
    assert _quantities(session) == {"TSHIRT-M": 5, "TSHIRT-L": 0}
    read = client.get("/api/v1/stores/NYC-1/stock", headers=admin).get_json()
    assert {i["sku"]: i["quantity"] for i in read["items"]} == {"TSHIRT-M": 5, "TSHIRT-L": 0}
    changes = session.execute(sa.select(StockChange.sku, StockChange.delta,
                                        StockChange.quantity_after)
                              .order_by(StockChange.id)).all()
    assert changes == [("TSHIRT-L", 2, 2), ("TSHIRT-M", 4, 4), ("TSHIRT-L", -2, 0),
                       ("TSHIRT-M", 1, 5)]


def test_hostile_counts_are_refused_and_change_nothing(client, api_key, session):
    seed_stores(session)
    admin = api_key("admin")
    client.put("/api/v1/stores/NYC-1/stock", headers=admin,
               json={"items": [{"sku": "A-1", "quantity": 1}]})
    for items in ([{"sku": "A-1", "quantity": -1}], [{"sku": "A-1", "quantity": True}],
                  [{"sku": "A-1", "quantity": 1.5}], [{"sku": "=cmd|'/c calc'!A0", "quantity": 1}],
                  [{"sku": "A-1", "quantity": 1}, {"sku": "A-1", "quantity": 2}],
                  [{"sku": "x" * 81, "quantity": 1}], ["A-1"], "A-1", None,
                  [{"sku": "B-1", "quantity": 10**12}]):
        answer = client.put("/api/v1/stores/NYC-1/stock", headers=admin, json={"items": items})
        assert answer.status_code == 422, (items, answer.get_json())
        assert answer.get_json()["errors"], items
    bad_csv = "sku,quantity\nA-1,3\nB-2,-4\nC 3,1\n"
    answer = client.put("/api/v1/stores/NYC-1/stock", data=bad_csv,
                        headers={**admin, "Content-Type": "text/csv"})
    assert answer.status_code == 422
    assert [e["field"] for e in answer.get_json()["errors"]] == ["line 3", "line 4"]
    other = client.put("/api/v1/stores/NYC-1/stock", data="store,sku,quantity\nJC-1,A-1,3\n",
                       headers={**admin, "Content-Type": "text/csv"})
    assert other.status_code == 422 and other.get_json()["code"] == "other_store_rows"
    assert _quantities(session) == {"A-1": 1}


def test_deltas_are_idempotent_and_never_take_stock_below_zero(client, api_key, session):
    seed_stores(session)
    pos = api_key("supervisor", "NYC-1")
    url = "/api/v1/stores/NYC-1/stock/deltas"
    assert client.post(url, headers=pos, json={"sku": "A-1", "delta": 3}).status_code == 400
    first = client.post(url, headers={**pos, "Idempotency-Key": "sale-1"},
                        json={"sku": "A-1", "delta": 3, "reference": "receipt 1"})
    assert first.status_code == 201 and first.get_json()["quantity"] == 3
    again = client.post(url, headers={**pos, "Idempotency-Key": "sale-1"},
                        json={"sku": "A-1", "delta": 3, "reference": "receipt 1"})
    assert again.get_json() == first.get_json()
    reused = client.post(url, headers={**pos, "Idempotency-Key": "sale-1"},
                         json={"sku": "A-1", "delta": -3, "reference": "receipt 1"})
    assert reused.status_code == 422 and reused.get_json()["code"] == "idempotency_key_reused"
    too_many = client.post(url, headers={**pos, "Idempotency-Key": "sale-2"},
                           json={"sku": "A-1", "delta": -4})
    assert too_many.status_code == 409 and too_many.get_json()["code"] == "not_enough_stock"
    for body in ({"sku": "A-1", "delta": 0}, {"sku": "A-1", "delta": "1"},
                 {"sku": "A-1", "delta": 10**9}, {"sku": "", "delta": 1},
                 {"sku": "A-1", "delta": 1, "reference": "x\x00y"}):
        answer = client.post(url, headers={**pos, "Idempotency-Key": "bad"}, json=body)
        assert answer.status_code == 422, body
    assert _quantities(session) == {"A-1": 3}
    # A store's key sees no other store.
    assert client.post("/api/v1/stores/JC-1/stock/deltas", json={"sku": "A-1", "delta": 1},
                       headers={**pos, "Idempotency-Key": "x"}).status_code == 404
    assert client.get("/api/v1/stores/JC-1/stock", headers=pos).status_code == 404


def test_a_restock_at_the_counter_puts_the_unit_on_the_shelf(client, api_key, session):
    seed_stores(session)
    clerk_may_approve_up_to(session)  # not a story about approval tiers
    admin = api_key("admin")
    create_order(client, admin)
    rma = issue_return(client, admin)
    clerk = api_key("clerk", "NYC-1")
    intake = client.post("/api/v1/intakes", json={"voucher": rma["voucher"]["token"]},
                         headers=clerk).get_json()
    [unit] = intake["units"]
    client.post(f"/api/v1/intakes/{intake['id']}/units/{unit['unit_id']}", json=ACCEPT,
                headers=clerk)
    assert client.post(f"/api/v1/intakes/{intake['id']}/complete",
                       headers=clerk).status_code == 200
    assert _quantities(session) == {"HEADPHONES-1": 1}
    change = session.scalar(sa.select(StockChange))
    assert change.reason == "restock" and change.reference.startswith(rma["number"])


def test_the_cli_imports_a_pos_export_or_nothing(runner, session, tmp_path):
    seed_stores(session)
    good = tmp_path / "stock.csv"
    good.write_text("store,sku,quantity\nNYC-1,A-1,3\nJC-1,A-1,2\nJC-1,B-1,1\n")
    result = runner.invoke(args=["stock", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert "3 rows, 2 stores" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("store,sku,quantity\nNYC-1,A-1,9\nNOPE,A-1,1\nNYC-1,B-1,x\n")
    result = runner.invoke(args=["stock", "import", str(bad)])
    assert result.exit_code == 1 and "line 4" in result.output
    assert _quantities(session) == {"A-1": 3}
    assert _quantities(session, "JC-1") == {"A-1": 2, "B-1": 1}
