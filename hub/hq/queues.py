"""HQ's work queues: what waits for a person (approvals, risk reviews, failed and dead
refunds, refunds close to Amazon's deadline, reconciliation mismatches) and the actions on
them. Each action checks the caller's permission and store, and writes an audit event in the
caller's transaction; the view commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.amazon.models import ConnectorStatus, ReconciliationItem
from hub.audit.service import Actor, record
from hub.hq.access import Forbidden, Scope
from hub.intake.models import Intake
from hub.outbox import service as outbox
from hub.outbox.models import OutboxMessage
from hub.refunds import actions as refund_actions
from hub.refunds import states as refund_states
from hub.refunds.models import Refund
from hub.returns.models import ReturnAuthorization
from hub.returns.service import cancel_return
from hub.stores.models import Store

DEADLINE_WARNING = timedelta(hours=24)
LIMIT = 200


class QueueError(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Queues:
    approvals: list
    risk: list
    failed_refunds: list
    dead_messages: list
    near_deadline: list
    mismatches: list
    connectors: list
    overdue: list = ()

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in self.__dataclass_fields__}


def _store_filter(query, column, scope: Scope):
    return query if scope.chain_wide else query.where(column == scope.store_id)


def approvals(session: Session, scope: Scope) -> list[tuple[Intake, ReturnAuthorization, Store]]:
    if not scope.can("queues.operations"):
        return []
    query = (sa.select(Intake, ReturnAuthorization, Store)
             .join(ReturnAuthorization, ReturnAuthorization.id == Intake.rma_id)
             .join(Store, Store.id == Intake.store_id)
             .where(Intake.status == "awaiting_approval").order_by(Intake.started_at).limit(LIMIT))
    return session.execute(_store_filter(query, Intake.store_id, scope)).all()


def risk_reviews(session: Session, scope: Scope) -> list[ReturnAuthorization]:
    if not scope.can("queues.operations"):
        return []
    query = (sa.select(ReturnAuthorization)
             .where(ReturnAuthorization.needs_hq_review,
                    ReturnAuthorization.status.in_(("issued", "dropped_off")))
             .order_by(ReturnAuthorization.risk_score.desc(), ReturnAuthorization.id)
             .limit(LIMIT))
    return list(session.scalars(_store_filter(query, ReturnAuthorization.chosen_store_id, scope)))


def failed_refunds(session: Session, scope: Scope) -> list[Refund]:
    if not scope.can("queues.finance"):
        return []
    return list(session.scalars(sa.select(Refund).where(Refund.status.in_(("failed", "manual")))
                                .order_by(Refund.id).limit(LIMIT)))


def dead_messages(session: Session, scope: Scope) -> list[OutboxMessage]:
    if not scope.can("outbox.replay"):
        return []
    return list(session.scalars(sa.select(OutboxMessage)
                                .where(OutboxMessage.status.in_(("dead", "failed")))
                                .order_by(OutboxMessage.id).limit(LIMIT)))


def near_deadline(session: Session, scope: Scope, now: datetime) -> list[Refund]:
    """Open refunds due within a day (or overdue): Amazon expects seller-fulfilled returns
    refunded within two business days of receipt."""
    if not scope.can("queues.finance"):
        return []
    return list(session.scalars(
        sa.select(Refund).where(Refund.status.in_((*refund_states.OPEN, "failed")),
                                Refund.due_at.is_not(None),
                                Refund.due_at <= now + DEADLINE_WARNING)
        .order_by(Refund.due_at).limit(LIMIT)))


def mismatches(session: Session, scope: Scope) -> list[ReconciliationItem]:
    if not scope.can("queues.finance"):
        return []
    from hub.amazon.sync import mismatches as unresolved

    return unresolved(session, LIMIT)


def connectors(session: Session, scope: Scope) -> list[ConnectorStatus]:
    if not scope.can("queues.finance"):
        return []
    return list(session.scalars(sa.select(ConnectorStatus).order_by(ConnectorStatus.name)))


def overdue(session: Session, scope: Scope, now: datetime, redis=None) -> list:
    """Everything of the machinery past its deadline (outbox messages, RQ, refunds, feed
    submissions, periodic jobs), with its history: ``hub.jobs.deadlines``."""
    if not scope.can("queues.finance"):
        return []
    from hub.jobs.deadlines import overdue as past_deadline

    return past_deadline(session, now, redis=redis, limit=LIMIT)[:LIMIT]


def all_queues(session: Session, scope: Scope, now: datetime, redis=None) -> Queues:
    if not (scope.can("queues.operations") or scope.can("queues.finance")):
        raise Forbidden("queues")
    return Queues(approvals=approvals(session, scope), risk=risk_reviews(session, scope),
                  failed_refunds=failed_refunds(session, scope),
                  dead_messages=dead_messages(session, scope),
                  near_deadline=near_deadline(session, scope, now),
                  mismatches=mismatches(session, scope), connectors=connectors(session, scope),
                  overdue=overdue(session, scope, now, redis))


# --- actions ----------------------------------------------------------------------------------

def review_risk(session: Session, scope: Scope, actor: Actor, number: str, *, outcome: str,
                note: str) -> ReturnAuthorization:
    """HQ looked at a flagged return: clear it (the store may accept as usual) or cancel it
    (the voucher stops working). A note is required either way."""
    scope.require("risk.review")
    note = note.strip()
    if outcome not in ("clear", "cancel"):
        raise QueueError("bad_outcome", "choose clear or cancel")
    if not note:
        raise QueueError("note_required", "say why")
    rma = session.scalar(sa.select(ReturnAuthorization)
                         .where(ReturnAuthorization.number == number).with_for_update())
    if rma is None or not rma.needs_hq_review:
        raise QueueError("not_flagged", "this return is not waiting for HQ review")
    if outcome == "cancel":
        if rma.status != "issued":
            raise QueueError("already_dropped_off",
                             "the items are already at a store; decide at the counter")
        cancel_return(session, rma, actor=actor)
    rma.needs_hq_review = False
    record(session, actor, "return.hq_reviewed", "return", rma.number,
           before={"needs_hq_review": True}, after={"outcome": outcome, "note": note[:500]},
           store_id=rma.chosen_store_id)
    return rma


def retry_refund(session: Session, scope: Scope, actor: Actor, refund_id: int) -> Refund:
    """Send a refund Amazon refused back to the queue (after fixing the cause)."""
    scope.require("refunds.retry")
    refund = session.get(Refund, refund_id, with_for_update=True)
    if refund is None:
        raise QueueError("not_found", f"no refund {refund_id}")
    before = {"status": refund.status, "failure_code": refund.failure_code}
    try:
        refund_actions.move(refund, "queued", actor)
    except refund_states.TransitionError as exc:
        raise QueueError("not_retryable", str(exc)) from exc
    refund.failure_code, refund.failure_message = "", ""
    record(session, actor, "refund.retried", "refund", refund.id, before=before,
           after={"status": "queued"})
    return refund


def replay_message(session: Session, scope: Scope, actor: Actor, message_id: int
                   ) -> OutboxMessage:
    """Put a dead or failed outbox message back in line, or one handed to RQ longer ago than
    the relay's sweep allows (its job is lost or stuck; delivery is idempotent)."""
    from hub.jobs.deadlines import ENQUEUED_SWEEP_AFTER
    from hub.models import utcnow

    scope.require("outbox.replay")
    message = session.get(OutboxMessage, message_id, with_for_update=True)
    if message is None:
        raise QueueError("message_not_found", f"no outbox message {message_id}")
    stale = (message.status == "enqueued" and message.enqueued_at is not None
             and message.enqueued_at <= utcnow() - ENQUEUED_SWEEP_AFTER)
    if message.status not in ("dead", "failed") and not stale:
        raise QueueError("not_replayable", f"the message is {message.status}; only dead, "
                                           "failed or stale enqueued messages are replayed")
    before = {"status": message.status, "attempts": message.attempts,
              "last_error": message.last_error}
    outbox.replay(session, message_id)
    record(session, actor, "outbox.replayed", "outbox_message", message_id, before=before,
           after={"status": "pending"})
    return message


def resolve_mismatch(session: Session, scope: Scope, actor: Actor, item_id: int, note: str,
                     now: datetime) -> ReconciliationItem:
    scope.require("queues.finance")
    item = session.get(ReconciliationItem, item_id, with_for_update=True)
    if item is None or item.resolved_at is not None:
        raise QueueError("not_found", "no open mismatch with that id")
    if not note.strip():
        raise QueueError("note_required", "say how it was resolved")
    item.resolved_at = now
    record(session, actor, "reconciliation.resolved", "reconciliation_item", item.id,
           after={"outcome": item.outcome, "note": note.strip()[:500]})
    return item


def set_job_paused(session: Session, scope: Scope, actor: Actor, name: str, paused: bool
                   ) -> ConnectorStatus:
    from hub.jobs.runner import PERIODIC, job_row

    scope.require("connector.manage")
    if name not in {job for job, _every, _func in PERIODIC}:
        raise QueueError("unknown_job", f"no periodic job named {name!r}")
    row = job_row(session, name)
    if row.paused != paused:
        row.paused = paused
        record(session, actor, "job.paused" if paused else "job.resumed", "job", name)
    return row

