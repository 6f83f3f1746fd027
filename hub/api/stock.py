"""Store stock from the brand's POS or ERP: read it, send a full count (JSON or CSV), or send
one change (a sale, a receipt) idempotently."""

from __future__ import annotations

from flask import g, jsonify, request

from hub.api import bp
from hub.api.common import json_body, require
from hub.extensions import db, limiter
from hub.stock import service as stock
from hub.stores.models import Store
from hub.stores.service import get_store
from hub.web.errors import Problem
from hub.web.idempotency import fingerprint, run_once
from hub.web.limits import caller_key

STOCK_ROLES = ("admin", "hq_ops", "supervisor", "clerk")
STOCK_LIMIT = "120 per minute"


def _store(code: str) -> Store:
    store = get_store(db.session, code)
    # Another store's stock does not exist for a store's key: same answer as a wrong code.
    if store is None or not g.principal.can_act_for_store(store.id):
        raise Problem(404, "store_not_found", "Store not found", f"No store has code {code!r}.")
    return store


@bp.get("/api/v1/stores/<code>/stock")
@require(*STOCK_ROLES)
def get_stock(code: str):
    store = _store(code)
    return jsonify(stock.stock_to_dict(store, stock.store_stock(db.session, store)))


@bp.put("/api/v1/stores/<code>/stock")
@limiter.limit(STOCK_LIMIT, key_func=caller_key)
@require(*STOCK_ROLES)
def put_stock(code: str):
    """The store's whole stock: every SKU listed is set, every SKU not listed goes to zero.
    JSON ``{"items": [{"sku", "quantity"}]}`` or a text/csv body with sku,quantity."""
    store = _store(code)
    if request.mimetype == "text/csv":
        try:
            text = request.get_data().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Problem(400, "not_utf8", "Not UTF-8", "Send the CSV as UTF-8.") from None
        by_store = stock.parse_csv(text)
        if set(by_store) - {"", store.code}:
            raise Problem(422, "other_store_rows", "Rows of another store",
                          f"Every row must be store {store.code} (or leave store out).")
        counts = {sku: qty for rows in by_store.values() for sku, qty in rows.items()}
    else:
        counts = stock.parse_counts(json_body().get("items"))
    changes = stock.set_counts(db.session, store, counts, replace=True,
                               reference=f"count by {g.principal.label}"[:120])
    body = stock.stock_to_dict(store, stock.store_stock(db.session, store))
    body["changed"] = len(changes)
    return jsonify(body)


@bp.post("/api/v1/stores/<code>/stock/deltas")
@limiter.limit(STOCK_LIMIT, key_func=caller_key)
@require(*STOCK_ROLES)
def post_stock_delta(code: str):
    """One change ``{"sku", "delta", "reference"}``; an Idempotency-Key is required (a POS
    retries), and the same key with another body is refused."""
    store = _store(code)
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        raise Problem(400, "idempotency_key_required", "Idempotency-Key required",
                      "Send an Idempotency-Key header: the same change sent twice counts once.")
    body = json_body()
    sku, delta, reference = stock.parse_delta(body)
    scope = f"apikey:{g.principal.id}"

    def run():
        try:
            change = stock.adjust(db.session, store, sku, delta, reason="delta",
                                  reference=reference, key=f"{scope}:{key}"[:160])
        except stock.NotEnoughStock as exc:
            raise Problem(409, "not_enough_stock", "Not enough stock",
                          f"Store {store.code} holds {exc.have} of {sku}; "
                          f"a change of {delta} would take it below zero.",
                          sku=sku, quantity=exc.have) from exc
        return {"store": store.code, "sku": sku, "delta": delta,
                "quantity": change.quantity}, 201

    answer, status = run_once(db.session, scope, key,
                              fingerprint(request.path, sku, delta, reference), run)
    return jsonify(answer), status
