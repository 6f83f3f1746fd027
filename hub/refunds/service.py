"""The refund feature's operations other features ask for. A refund's status changes only
through ``hub.refunds.actions.move``; its creation only here."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from hub.outbox import service as outbox
from hub.refunds.engine import RefundBreakdown
from hub.refunds.models import Refund, RefundLine

# Amazon expects a refund within two business days of the drop-off.
REFUND_DUE_AFTER = timedelta(days=2)


def create_intent(session: Session, *, rma_id: int, rma_number: str, intake_id: int,
                  store_id: int, order, currency: str, breakdown: RefundBreakdown,
                  now: datetime) -> Refund | None:
    """The refund an accepted return earns, with one line per unit that moves money and the
    Amazon adjustment components of each; handed to its channel and to finance by the outbox
    after commit. Nothing when nothing is owed."""
    if breakdown.total <= 0:
        return None
    key = f"intake:{intake_id}"
    refund = Refund(rma_id=rma_id, intake_id=intake_id, order_id=order.id, status="pending",
                    currency=currency, amount=breakdown.total, breakdown=breakdown.as_dict(),
                    idempotency_key=key, channel=order.channel, seller_id=order.seller_id,
                    marketplace_id=order.marketplace_id, due_at=now + REFUND_DUE_AFTER)
    for n, line in enumerate(breakdown.lines, start=1):
        if not line.amount:  # Amazon refuses a zero adjustment; nothing to settle either
            continue
        refund.lines.append(RefundLine(
            order_line_id=int(line.line_id), quantity=line.quantity, amount=line.amount,
            adjustment_item_id=f"{rma_number}-{intake_id}-{n}",
            components=[{"type": k, "amount_minor": v} for k, v in line.components.items()
                        if v]))
    session.add(refund)
    session.flush()
    outbox.emit(session, "refund.submit", {"refund_id": refund.id}, dedupe_key=f"{key}:refund",
                store_id=store_id)
    outbox.emit(session, "finance.journal", {"refund_id": refund.id, "kind": "refund"},
                dedupe_key=f"{key}:journal", store_id=store_id)
    return refund
