from __future__ import annotations

import sqlalchemy as sa
from flask import Response, current_app, g, jsonify

from hub.api import bp
from hub.api.common import idempotent, json_body, read_only, require, voucher_problem
from hub.audit.service import Actor
from hub.extensions import db, limiter
from hub.orders.models import Order
from hub.returns import queries as returns_queries
from hub.returns import service
from hub.returns.models import ReturnAuthorization
from hub.returns.states import TransitionError
from hub.scan import service as scan
from hub.vouchers import render
from hub.vouchers.crypto import VoucherError
from hub.vouchers.keys import keyring
from hub.web.errors import Problem
from hub.web.limits import caller_key

INTEGRATORS = ("admin", "hq_ops")
# Lines of one return request. An order with more lines is returned in several requests;
# a longer list is refused whole, never cut short.
MAX_LINES = 200


def _actor() -> Actor:
    return Actor("api_key", g.principal.id, g.principal.label)


def _lookup_limit() -> str:
    # Every caller here is authenticated (a counter's key scans all day), and is counted
    # per key, not per address (hub.web.limits).
    return current_app.config["RATELIMIT_CODE_LOOKUP_STORE"]


def _rma(number: str) -> ReturnAuthorization:
    rma = returns_queries.by_number(db.session, number)
    if rma is None:
        raise Problem(404, "return_not_found", "Return not found", f"No return {number!r}.")
    return rma


@bp.post("/api/v1/returns")
@require(*INTEGRATORS)
@idempotent()
def create_return():
    """Authorise units of an order for return; answers the RMA with its voucher.

    ``Idempotency-Key`` (header, or ``idempotency_key`` in the body) is kept per API key and
    bound to the body: a retry gets the first answer; another body, or another caller's key,
    never does (422 ``idempotency_key_reused``, or a return of its own)."""
    body = json_body()
    lines = body.get("lines")
    if isinstance(lines, list) and len(lines) > MAX_LINES:
        raise Problem(422, "too_many_lines", "Too many lines",
                      f"A return has at most {MAX_LINES} lines; this request has "
                      f"{len(lines)}. Send the rest in another request.",
                      max_lines=MAX_LINES)
    answer, status = _create(body)
    return jsonify(answer), status


def _create(body: dict) -> tuple[dict, int]:
    order = db.session.scalar(sa.select(Order).where(
        Order.channel == str(body.get("channel") or "amazon-mfn"),
        Order.external_id == str(body.get("order_id") or "")))
    if order is None:
        raise Problem(404, "order_not_found", "Order not found",
                      "No order with this channel and order id.")
    # The key is kept by @idempotent, per caller; the return itself carries none (a key of the
    # return's own would be global, and another caller's equal key would find this return).
    req = service.parse_request({**body, "source": "api", "idempotency_key": None}, order)
    rma = service.create_return(db.session, order, req, actor=_actor(), keyring=keyring(),
                                    secret=current_app.config["SECRET_KEY"])
    db.session.flush()
    return service.return_to_dict(db.session, rma), 201


@bp.get("/api/v1/returns/<number>")
@require(*INTEGRATORS, "finance")
def get_return(number: str):
    return jsonify(service.return_to_dict(db.session, _rma(number)))


@bp.post("/api/v1/returns/<number>/cancel")
@require(*INTEGRATORS)
@idempotent()
def cancel_return(number: str):
    rma = _rma(number)
    try:
        service.cancel_return(db.session, rma, actor=_actor())
    except TransitionError as exc:
        raise Problem(409, "not_cancellable", "Return cannot be cancelled",
                      f"The return is {exc.current}; only issued returns can be cancelled "
                      "(before drop-off).") from None
    return jsonify(service.return_to_dict(db.session, rma))


@bp.get("/api/v1/vouchers/keys")
def voucher_keys():
    """Public keys that verify vouchers (for offline verification on store tablets)."""
    return jsonify({"keys": keyring().public_keys()})


@bp.get("/api/v1/vouchers/<path:code>")
@read_only
@require()
@limiter.limit(_lookup_limit, key_func=caller_key)
def verify_voucher(code: str):
    """Verify a voucher token or short code without changing anything."""
    try:
        body = scan.verify_voucher(db.session, keyring(), code, current_app.json.dumps,
                                   keep=current_app.config["SCAN_ANSWERS"])
    except VoucherError as exc:
        raise voucher_problem(exc) from None
    return current_app.response_class(body, mimetype="application/json")


@bp.get("/api/v1/returns/<number>/voucher.<fmt>")
@require(*INTEGRATORS)
def voucher_image(number: str, fmt: str):
    voucher = returns_queries.voucher_of(db.session, _rma(number))
    if voucher is None or fmt not in ("png", "svg"):
        raise Problem(404, "voucher_not_found", "No voucher", "png or svg of an issued voucher.")
    token = voucher.token
    body = render.qr_png(token) if fmt == "png" else render.qr_svg(token)
    return Response(body, mimetype="image/png" if fmt == "png" else "image/svg+xml",
                    headers={"Cache-Control": "private, max-age=86400"})
