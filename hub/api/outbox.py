"""The outbox over the API: what failed or went dead, and replaying it (HQ, admins)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import g, jsonify, request

from hub.api import bp
from hub.api.common import int_arg, require
from hub.audit.service import Actor, record
from hub.extensions import db
from hub.models import iso
from hub.outbox import service as outbox
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
def replay_outbox(message_id: int):
    """Put a dead or failed message back in line; audited."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise Problem(404, "message_not_found", "Message not found",
                      f"No outbox message {message_id}.")
    if message.status not in ("dead", "failed"):
        raise Problem(409, "not_replayable", "Nothing to replay",
                      f"The message is {message.status}; only dead or failed messages are "
                      "replayed.")
    before = {"status": message.status, "attempts": message.attempts,
              "last_error": message.last_error}
    outbox.replay(db.session, message_id)
    record(db.session, Actor("api_key", g.principal.id, g.principal.label), "outbox.replayed",
           "outbox_message", message_id, before=before, after={"status": "pending"})
    db.session.commit()
    return jsonify(message_to_dict(message))
