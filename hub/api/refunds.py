"""Refunds, the finance journal and reconciliation over the API (HQ, finance, integrators)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Response, jsonify, request
from sqlalchemy.orm import selectinload

from hub.amazon.models import FeedSubmission, ReconciliationItem
from hub.amazon.sync import mismatches
from hub.api import bp
from hub.api.common import int_arg, require
from hub.extensions import db
from hub.ledger import service as ledger
from hub.models import iso
from hub.money import amount_text
from hub.refunds.models import Refund
from hub.refunds.states import REFUND_TRANSITIONS
from hub.web.errors import Problem

FINANCE_ROLES = ("admin", "hq_ops", "finance")


def refund_to_dict(refund: Refund, feed_id: str | None = None, full: bool = False) -> dict:
    body = {"id": refund.id, "status": refund.status, "channel": refund.channel,
            "amount": amount_text(refund.amount, refund.currency), "currency": refund.currency,
            "intake_id": refund.intake_id, "seller_id": refund.seller_id,
            "marketplace_id": refund.marketplace_id, "feed_id": feed_id,
            "due_at": iso(refund.due_at), "submitted_at": iso(refund.submitted_at),
            "succeeded_at": iso(refund.succeeded_at), "created_at": iso(refund.created_at),
            "amazon_result": {"code": refund.failure_code, "message": refund.failure_message}
            if refund.failure_code else None}
    if full:
        body["breakdown"] = refund.breakdown
        body["lines"] = [{"adjustment_item_id": ln.adjustment_item_id, "quantity": ln.quantity,
                          "amount": amount_text(ln.amount, refund.currency),
                          "components": {c["type"]: amount_text(c["amount_minor"], refund.currency)
                                         for c in ln.components}} for ln in refund.lines]
        body["attempts"] = [{"at": iso(a.attempted_at), "outcome": a.outcome,
                             "feed_id": a.feed_id or None, "detail": a.detail}
                            for a in refund.attempts]
    return body


def _date_arg(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise Problem(400, "invalid_parameter", "Invalid parameter",
                      f"'{name}' must be an ISO 8601 date or date-time.",
                      parameter=name) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@bp.get("/api/v1/refunds")
@require(*FINANCE_ROLES)
def list_refunds():
    """Refunds, newest first; ``?status=failed`` (any refund state), ``limit``, ``before``
    (an id, for the next page)."""
    status = request.args.get("status")
    if status and status not in REFUND_TRANSITIONS:
        raise Problem(400, "invalid_parameter", "Invalid parameter",
                      f"'status' must be one of: {', '.join(REFUND_TRANSITIONS)}.",
                      parameter="status")
    limit = int_arg("limit", 50, lo=1, hi=500)
    before = int_arg("before", 0, lo=0, hi=2**62)
    query = (sa.select(Refund, FeedSubmission.feed_id)
             .outerjoin(FeedSubmission, FeedSubmission.id == Refund.feed_submission_id)
             .order_by(Refund.id.desc()).limit(limit))
    if status:
        query = query.where(Refund.status == status)
    if before:
        query = query.where(Refund.id < before)
    rows = db.session.execute(query).all()
    items = [refund_to_dict(refund, feed_id) for refund, feed_id in rows]
    return jsonify({"items": items,
                    "next_before": items[-1]["id"] if len(items) == limit else None})


@bp.get("/api/v1/refunds/<int:refund_id>")
@require(*FINANCE_ROLES)
def get_refund(refund_id: int):
    refund = db.session.get(Refund, refund_id, options=[selectinload(Refund.lines),
                                                        selectinload(Refund.attempts)])
    if refund is None:
        raise Problem(404, "refund_not_found", "Refund not found", f"No refund {refund_id}.")
    feed_id = db.session.scalar(sa.select(FeedSubmission.feed_id).where(
        FeedSubmission.id == refund.feed_submission_id)) if refund.feed_submission_id else None
    return jsonify(refund_to_dict(refund, feed_id, full=True))


@bp.get("/api/v1/journal")
@require(*FINANCE_ROLES)
def journal():
    """Journal entries with their lines: ``from``, ``to`` (dates), ``source`` (refund,
    disposition), ``format=csv`` for a spreadsheet."""
    source = request.args.get("source")
    if source and source not in ("refund", "disposition"):
        raise Problem(400, "invalid_parameter", "Invalid parameter",
                      "'source' must be 'refund' or 'disposition'.", parameter="source")
    rows = ledger.entries(db.session, since=_date_arg("from"), until=_date_arg("to"),
                          source=source, limit=int_arg("limit", 500, lo=1, hi=10_000))
    if request.args.get("format") == "csv":
        return Response(ledger.entries_csv(rows), mimetype="text/csv", headers={
            "Content-Disposition": "attachment; filename=homing-journal.csv"})
    return jsonify({"items": [ledger.entry_to_dict(e) for e in rows]})


@bp.get("/api/v1/reconciliation/mismatches")
@require(*FINANCE_ROLES)
def reconciliation_mismatches():
    """Settlement lines and refunds that did not match: missing on either side or amounts
    that differ, per settlement."""
    items: list[ReconciliationItem] = mismatches(db.session,
                                                 int_arg("limit", 200, lo=1, hi=1000))
    return jsonify({"items": [{
        "settlement_id": m.settlement_id, "refund_id": m.refund_id, "outcome": m.outcome,
        "adjustment_item_id": m.adjustment_item_id, "currency": m.currency,
        "homing_amount": amount_text(m.homing_amount, m.currency),
        "amazon_amount": amount_text(m.amazon_amount, m.currency),
        "checked_at": iso(m.checked_at)} for m in items]})
