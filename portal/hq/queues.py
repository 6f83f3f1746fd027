"""The queues HQ works through (risk reviews, stuck refunds, dead letters, mismatches,
overdue work) and the actions on them."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from hub.extensions import db
from hub.hq import queues
from hub.models import utcnow
from portal.hq.base import (
    bp,
    hq_required,
)


@bp.get("/queues")
@hq_required
def queues_page():
    from hub.jobs.deadlines import WAITING_REASONS

    return render_template("hq/queues.html", q=all_queues(), now=utcnow(),
                           waiting_reasons=WAITING_REASONS)


def all_queues() -> queues.Queues:
    from hub.jobs.queue import redis_connection

    return queues.all_queues(db.session, g.scope, utcnow(),
                             redis=redis_connection(current_app))


def queue_rows(q: queues.Queues, name: str) -> tuple[list[str], list]:
    """One queue as a CSV table (header, rows); codes and ISO times, for spreadsheets."""
    def at(moment) -> str:
        return moment.isoformat() if moment else ""

    if name == "approvals":
        return (["return", "store", "waiting_since", "expected_refund", "currency", "reasons"],
                [[rma.number, store.code, at(intake.started_at), rma.expected_refund,
                  rma.currency, " ".join(intake.approval_reasons)]
                 for intake, rma, store in q.approvals])
    if name == "risk":
        return (["return", "score", "flags", "status"],
                [[r.number, r.risk_score, " ".join(f["code"] for f in r.risk_flags), r.status]
                 for r in q.risk])
    if name in ("failed_refunds", "near_deadline"):
        return (["refund", "status", "amount_minor", "currency", "due_at", "failure_code",
                 "failure_message"],
                [[r.id, r.status, r.amount, r.currency, at(r.due_at), r.failure_code,
                  r.failure_message] for r in getattr(q, name)])
    if name == "mismatches":
        return (["settlement", "outcome", "adjustment_item_id", "refund", "currency",
                 "homing_minor", "amazon_minor"],
                [[m.settlement_id, m.outcome, m.adjustment_item_id, m.refund_id or "",
                  m.currency, m.homing_amount, m.amazon_amount] for m in q.mismatches])
    if name == "overdue":
        return (["kind", "ref", "state", "since", "deadline", "owner", "attempts", "last_error",
                 "waiting_reason"],
                [[o.kind, o.ref, o.state, at(o.since), at(o.deadline), o.owner,
                  "" if o.attempts is None else o.attempts, o.last_error, o.waiting_reason]
                 for o in q.overdue])
    if name == "dead_messages":
        return (["message", "topic", "status", "attempts", "last_error"],
                [[m.id, m.topic, m.status, m.attempts, m.last_error] for m in q.dead_messages])
    abort(404)


def queue_action(run, done: str, back: str = "hq.queues_page"):
    try:
        run()
    except queues.QueueError as exc:
        db.session.rollback()
        flash(str(exc), "bad")
    else:
        flash(done, "ok")
    return redirect(url_for(back))


@bp.post("/queues/risk/<number>")
@hq_required
def review_risk(number: str):
    return queue_action(lambda: queues.review_risk(
        db.session, g.scope, g.actor, number, outcome=request.form.get("outcome", ""),
        note=request.form.get("note", "")), _("Review recorded."))


@bp.post("/queues/refunds/<int:refund_id>/retry")
@hq_required
def retry_refund(refund_id: int):
    return queue_action(lambda: queues.retry_refund(db.session, g.scope, g.actor, refund_id),
                         _("The refund is queued again."))


@bp.post("/queues/outbox/<int:message_id>/replay")
@hq_required
def replay_message(message_id: int):
    return queue_action(
        lambda: queues.replay_message(db.session, g.scope, g.actor, message_id),
        _("The message will be delivered again."))


@bp.post("/queues/mismatches/<int:item_id>/resolve")
@hq_required
def resolve_mismatch(item_id: int):
    return queue_action(lambda: queues.resolve_mismatch(
        db.session, g.scope, g.actor, item_id, request.form.get("note", ""), utcnow()),
        _("Marked as resolved."))
