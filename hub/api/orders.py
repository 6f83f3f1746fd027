from __future__ import annotations

from flask import g, jsonify

from hub.api import bp
from hub.api.common import idempotent, json_body, require
from hub.audit.service import Actor
from hub.extensions import db
from hub.orders import service
from hub.orders.models import Order
from hub.web.errors import Problem


@bp.post("/api/v1/orders")
@require("admin", "hq_ops")
@idempotent()
def upsert_order():
    """Create or update an order (any channel) that shoppers can then return against."""
    principal = g.principal
    order, created = service.upsert_order(db.session, json_body(),
                                          actor=Actor("api_key", principal.id, principal.label))
    return jsonify(service.order_to_dict(order)), 201 if created else 200


@bp.get("/api/v1/orders/<int:order_id>")
@require("admin", "hq_ops", "finance")
def get_order(order_id: int):
    order = db.session.get(Order, order_id)
    if order is None:
        raise Problem(404, "order_not_found", "Order not found", f"No order {order_id}.")
    return jsonify(service.order_to_dict(order))
