"""The outbox over the API: what failed or went dead, and replaying it (HQ, admins)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import g, jsonify, request

from hub.api import bp
from hub.api.common import idempotent, int_arg, require
from hub.audit.service import Actor
from hub.extensions import db
from hub.hq.access import Scope
from hub.hq.queues import QueueError, replay_message
from hub.models import iso
from hub.outbox.models import OutboxMessage
from hub.web.errors import Problem

STATUSES = ("pending", "enqueued", "failed", "dead", "delivered")


def message_to_dict(message: OutboxMessage) -> dict:
    # The payload holds ids only (never personal data), so it can be shown.
    return {"id": message.id, "topic": message.topic, "status": message.status,
            "attempts": message.attempts, "max_attempts": message.max_attempts,
            "last_error": message.last_error, "payload": message.payload,
            "store_id": message.store_id, "created_at": iso(message.created_at),
            "next_attempt_at": iso(message.next_attempt_at),
            "delivered_at": iso(message.delivered_at)}


@bp.get("/api/v1/outbox")
@require("admin", "hq_ops", "finance")
def list_outbox():
    """Side effects by delivery state: ``?status=dead`` (default) lists what needs a person."""
    status = request.args.get("status", "dead")
    if status not in STATUSES:
        raise Problem(400, "invalid_parameter", "Invalid parameter",
                      f"'status' must be one of: {', '.join(STATUSES)}.", parameter="status")
    query = (sa.select(OutboxMessage).where(OutboxMessage.status == status)
             .order_by(OutboxMessage.id.desc()).limit(int_arg("limit", 100, lo=1, hi=1000)))
    topic = request.args.get("topic")
    if topic:
        query = query.where(OutboxMessage.topic == topic)
    return jsonify({"items": [message_to_dict(m) for m in db.session.scalars(query)]})


@bp.post("/api/v1/outbox/<int:message_id>/replay")
@require("admin", "hq_ops")
@idempotent()
def replay_outbox(message_id: int):
    """Put a dead or failed message back in line; audited."""
    principal = g.principal
    scope = Scope(None, principal.role, principal.store_id, principal.label)
    try:
        message = replay_message(db.session, scope,
                                 Actor("api_key", principal.id, principal.label), message_id)
    except QueueError as exc:
        status = 404 if exc.code == "message_not_found" else 409
        raise Problem(status, exc.code, "Nothing to replay" if status == 409 else
                      "Message not found", str(exc)) from exc
    return jsonify(message_to_dict(message))
