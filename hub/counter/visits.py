"""One shopper at the counter, several returns (vouchers and walk-in orders, any channel or
currency), one receipt and one e-mail listing each return's outcome. Each return keeps its
own intake, refund and Amazon adjustment; the visit only groups them. A visit the clerk
never closed is closed by the periodic sweep (``close_stale``), so its e-mail is not lost.
The caller commits."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.audit.service import Actor, record
from hub.counter.models import CounterVisit, VisitReturn
from hub.counter.states import move_visit
from hub.intake.models import Intake
from hub.models import utcnow
from hub.orders.models import Order
from hub.outbox import service as outbox
from hub.refunds.models import Refund
from hub.returns.models import ReturnAuthorization
from hub.stores.models import Store

# A visit is one shopper at the counter: after this long it is not continued, and once all
# its returns are done the sweep closes it.
VISIT_SPAN = timedelta(hours=1)


class VisitOpen(Exception):
    """A return of the visit is still being checked."""


def get(session: Session, visit_id: int | None, store_id: int) -> CounterVisit | None:
    visit = session.get(CounterVisit, visit_id) if visit_id else None
    return visit if visit is not None and visit.store_id == store_id else None


def current(session: Session, visit_id: int | None, store_id: int,
            now: datetime | None = None) -> CounterVisit | None:
    visit = get(session, visit_id, store_id)
    now = now or utcnow()
    if visit is None or visit.status != "open" or visit.started_at < now - VISIT_SPAN:
        return None
    return visit


def start(session: Session, store: Store, device_id: int | None, actor: Actor,
          now: datetime | None = None) -> CounterVisit:
    visit = CounterVisit(store_id=store.id, device_id=device_id, status="open",
                         clerk_id=actor.id if actor.kind == "user" else None,
                         started_at=now or utcnow())
    session.add(visit)
    session.flush()
    return visit


def join(session: Session, visit: CounterVisit, intake: Intake) -> None:
    """Add the intake to the visit (once; an intake belongs to one visit)."""
    if session.scalar(sa.select(VisitReturn.id).where(VisitReturn.intake_id == intake.id)):
        return
    session.add(VisitReturn(visit_id=visit.id, intake_id=intake.id))
    session.flush()


def in_a_visit(session: Session, intake_id: int) -> bool:
    return session.scalar(sa.select(VisitReturn.id).where(
        VisitReturn.intake_id == intake_id)) is not None


def rows(session: Session, visit: CounterVisit) -> list[dict]:
    """Each return of the visit with its outcome, in the order handed in."""
    found = session.execute(
        sa.select(Intake, ReturnAuthorization, Order)
        .join(VisitReturn, VisitReturn.intake_id == Intake.id)
        .join(ReturnAuthorization, ReturnAuthorization.id == Intake.rma_id)
        .join(Order, Order.id == ReturnAuthorization.order_id)
        .where(VisitReturn.visit_id == visit.id).order_by(VisitReturn.id)).all()
    refunds = {r.intake_id: r for r in session.scalars(sa.select(Refund).where(
        Refund.intake_id.in_([i.id for i, _r, _o in found])))} if found else {}
    out = []
    for intake, rma, order in found:
        refund = refunds.get(intake.id)
        out.append({
            "intake": intake, "number": rma.number, "order_id": order.external_id,
            "channel": order.channel, "status": intake.status,
            "accepted": sum(1 for ln in rma.lines if ln.acceptance_status == "accepted"),
            "rejected": sum(1 for ln in rma.lines if ln.acceptance_status == "rejected"),
            "refund": refund.amount if refund else 0,
            "currency": refund.currency if refund else rma.currency,
            "email": rma.shopper_email})
    return out


def close(session: Session, visit: CounterVisit, actor: Actor,
          now: datetime | None = None) -> None:
    """One receipt for the visit and one e-mail listing each return's outcome."""
    now = now or utcnow()
    listed = rows(session, visit)
    if any(r["status"] in ("open", "awaiting_approval") for r in listed):
        raise VisitOpen()
    done = [r for r in listed if r["status"] == "completed"]
    move_visit(visit, "closed" if done else "cancelled")
    visit.closed_at = now
    if not done:
        return
    visit.receipt_number = _receipt_number(session, now)
    first = next((r for r in done if r["email"]), None)
    if first is not None:
        outbox.emit(session, "shopper.notify",
                    {"rma": first["number"], "event": "visit_receipt", "visit_id": visit.id},
                    dedupe_key=f"visit:{visit.id}:notify", store_id=visit.store_id)
    record(session, actor, "visit.closed", "visit", visit.id, store_id=visit.store_id,
           after={"receipt": visit.receipt_number, "returns": [r["number"] for r in done]})


def _receipt_number(session: Session, now: datetime) -> str:
    while True:
        number = f"RV-{now:%y%m%d}-{secrets.token_hex(3).upper()}"
        if not session.scalar(sa.select(CounterVisit.id)
                              .where(CounterVisit.receipt_number == number)):
            return number


def close_stale(session: Session, now: datetime | None = None) -> int:
    """Close visits left open past their span whose returns are all done (the owner of the
    open state; the periodic sweep calls it)."""
    now = now or utcnow()
    closed = 0
    for visit in session.scalars(sa.select(CounterVisit).where(
            CounterVisit.status == "open", CounterVisit.started_at < now - VISIT_SPAN)
            .with_for_update(skip_locked=True)):
        try:
            close(session, visit, Actor("system", None, "visit-sweep"), now)
            closed += 1
        except VisitOpen:
            continue  # a return is still with the clerk or the supervisor
    return closed
