"""How a return ends: with its refund. Nothing at the counter completes a return (the money
has not moved yet); the refund's own transitions do. When a refund of the return reaches a
final status and every other refund of it is final too, the return becomes ``completed`` in
the same transaction and the shopper is told, after commit, through the outbox. A refund
Amazon refused is not final (HQ sends it again): the shopper is told it is delayed and what
happens next, and the return stays open until the retry ends it."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.audit.service import Actor, record
from hub.models import utcnow
from hub.outbox import service as outbox
from hub.refunds import actions
from hub.refunds.models import Refund
from hub.returns import actions as return_actions
from hub.returns.models import ReturnAuthorization
from hub.returns.status import FINAL_REFUND

SYSTEM = Actor("system", None, "refunds")


@actions.on_enter("succeeded", "settled", "amazon_refunded", "manual", "failed")
def follow_the_refund(session: Session, refund: Refund, _before: str) -> None:
    rma = session.get(ReturnAuthorization, refund.rma_id, with_for_update=True)
    if rma is None:
        return
    if refund.status == "failed":
        _tell_shopper(session, rma, "refund_delayed", f"refund:{refund.id}:delayed")
        return
    complete_if_refunded(session, rma)


def complete_if_refunded(session: Session, rma: ReturnAuthorization) -> bool:
    """Complete a dropped-off return whose refunds are all final. True when it did."""
    if rma.status != "dropped_off":
        return False  # already completed (a settlement after the refund), or not handed in
    refunds = session.scalars(sa.select(Refund).where(Refund.rma_id == rma.id)).all()
    if not refunds or any(r.status not in FINAL_REFUND for r in refunds):
        return False
    return_actions.move(rma, "completed")
    rma.completed_at = utcnow()
    record(session, SYSTEM, "return.completed", "return", rma.number,
           after={"refunds": [r.id for r in refunds],
                  "refunded": sum(r.amount for r in refunds), "currency": rma.currency})
    _tell_shopper(session, rma, "refunded", f"return:{rma.number}:completed")
    return True


def _tell_shopper(session: Session, rma: ReturnAuthorization, event: str, key: str) -> None:
    if rma.shopper_email:
        outbox.emit(session, "shopper.notify", {"rma": rma.number, "event": event},
                    dedupe_key=key)
