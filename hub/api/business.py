"""Amazon Business returns of many orders under one RMA number (``hub.business.batch``):
JSON lines or a CSV body (order, item, quantity, reason)."""

from __future__ import annotations

from decimal import Decimal

from flask import current_app, jsonify, request

from hub.api import bp
from hub.api.common import idempotent, require
from hub.api.returns import INTEGRATORS, _actor
from hub.business import batch as batches
from hub.business.models import BusinessReturnBatch
from hub.extensions import db
from hub.returns import service
from hub.vouchers.keys import keyring
from hub.web.errors import Problem

MAX_BYTES = 512 * 1024


def _batch_to_dict(batch: BusinessReturnBatch) -> dict:
    return {"number": batch.number, "created_at": batch.created_at.isoformat(),
            "returns": [service.return_to_dict(db.session, r)
                        for r in batches.batch_returns(db.session, batch)]}


@bp.post("/api/v1/rmas")
@require(*INTEGRATORS)
@idempotent()
def create_business_rma():
    """One RMA number for units of many Amazon Business orders of one buyer. Body: JSON
    ``{"lines": [{"order_id", "item_id", "quantity", "reason"}], "latitude", "longitude",
    "store_code"}`` or ``text/csv`` with the columns order, item, quantity, reason. Any bad
    line: 422 naming each line; nothing is created."""
    if request.content_length and request.content_length > MAX_BYTES:
        raise Problem(413, "too_large", "Too large", f"At most {MAX_BYTES} bytes.")
    options: dict = {}
    if request.mimetype == "text/csv":
        try:
            text = request.get_data(as_text=False).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Problem(400, "not_utf8", "Not UTF-8", "Send the CSV as UTF-8.") from None
        lines = batches.parse_csv(text)
        options = {k: request.args.get(k) for k in ("store_code",) if request.args.get(k)}
    elif request.is_json and isinstance(request.get_json(silent=True), dict):
        body = request.get_json()
        lines = batches.parse_json(body.get("lines"))
        for name in ("latitude", "longitude"):
            value = body.get(name)
            if value is not None and (isinstance(value, bool)
                                      or not isinstance(value, int | float | Decimal)):
                raise Problem(422, "invalid_position", "Invalid position",
                              f"{name} must be a number.")
            options[name] = float(value) if value is not None else None
        if body.get("store_code"):
            options["store_code"] = str(body["store_code"])[:20]
    else:
        raise Problem(415, "json_or_csv_required", "JSON or CSV required",
                      "Send JSON (application/json) or a CSV (text/csv).")
    batch = batches.create_batch(db.session, lines, actor=_actor(), keyring=keyring(),
                                 secret=current_app.config["SECRET_KEY"], **options)
    return jsonify(_batch_to_dict(batch)), 201


@bp.get("/api/v1/rmas/<number>")
@require(*INTEGRATORS)
def get_business_rma(number: str):
    batch = db.session.query(BusinessReturnBatch).filter_by(
        number=number.upper()[:12]).one_or_none()
    if batch is None:
        raise Problem(404, "rma_not_found", "RMA not found", f"No RMA {number[:12]!r}.")
    return jsonify(_batch_to_dict(batch))
