"""The refund's outcomes as webhook events, hung on the refund's own transitions (the refund
feature knows nothing of webhooks)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from hub.money import amount_text
from hub.orders.models import Order
from hub.refunds import actions
from hub.refunds.models import Refund
from hub.returns.models import ReturnAuthorization
from hub.webhooks.service import publish


def refund_data(session: Session, refund: Refund) -> dict:
    rma = session.get(ReturnAuthorization, refund.rma_id)
    order = session.get(Order, refund.order_id)
    return {"refund_id": refund.id, "return": rma.number if rma else "",
            "order_id": order.external_id if order else "", "channel": refund.channel,
            "amount": amount_text(refund.amount, refund.currency), "currency": refund.currency,
            "status": refund.status}


@actions.on_enter("succeeded")
def _refund_succeeded(session: Session, refund: Refund, _before: str) -> None:
    """Amazon accepted it (a refund finance pays out by hand is finance's to announce)."""
    publish(session, "refund.succeeded", refund_data(session, refund),
            key=f"refund:{refund.id}:succeeded:{len(refund.attempts)}",
            store_id=_store_of(session, refund))


@actions.on_enter("failed")
def _refund_failed(session: Session, refund: Refund, _before: str) -> None:
    data = {**refund_data(session, refund), "failure_code": refund.failure_code or ""}
    publish(session, "refund.failed", data,
            key=f"refund:{refund.id}:failed:{len(refund.attempts)}",
            store_id=_store_of(session, refund))


def _store_of(session: Session, refund: Refund) -> int | None:
    from hub.intake.models import Intake

    intake = session.get(Intake, refund.intake_id) if refund.intake_id else None
    return intake.store_id if intake else None
