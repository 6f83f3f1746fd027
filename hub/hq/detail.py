"""One return from voucher to settlement, for HQ's drill-down: the order, the units with
their grades and decisions, photos, the refund with every attempt, the journal entries, the
settlement lines and the audit events, merged into one timeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.amazon.models import SettlementLine
from hub.audit.models import AuditEvent
from hub.hq.access import Scope
from hub.intake.models import Inspection, Intake, Photo, StockMovement
from hub.ledger.models import JournalEntry
from hub.orders.models import Order, OrderLine
from hub.refunds.models import Refund
from hub.returns.models import ReturnAuthorization, ReturnLine
from hub.stores.models import Store
from hub.vouchers.models import Voucher


class NotFound(LookupError):
    pass


@dataclass(frozen=True)
class Moment:
    at: datetime
    what: str  # an audit action ("intake.completed") or a pipeline step ("refund.submitted")
    who: str
    detail: dict


@dataclass
class ReturnDetail:
    rma: ReturnAuthorization
    order: Order
    order_lines: dict[int, OrderLine]
    routed_store: Store | None
    voucher: Voucher | None
    intake: Intake | None
    store: Store | None
    inspections: dict[int, Inspection]
    photos: list[Photo]
    movements: dict[int, StockMovement]
    refund: Refund | None
    journal: list[JournalEntry]
    settlement_lines: list[SettlementLine]
    timeline: list[Moment] = field(default_factory=list)

    @property
    def timezone(self) -> str:
        store = self.store or self.routed_store
        return store.timezone if store else "UTC"


def find_return(session: Session, scope: Scope, query: str) -> str | None:
    """A return number from what HQ typed: the number, a voucher short code or an Amazon
    order id (the most recent return of that order). Store staff find only their store's."""
    scope.require("returns.view")
    text = query.strip().upper()
    if not text:
        return None
    rma = ReturnAuthorization
    where = sa.or_(rma.number == text,
                   rma.id.in_(sa.select(Voucher.rma_id).where(Voucher.short_code == text)),
                   rma.order_id.in_(sa.select(Order.id).where(Order.external_id == text)))
    numbers = session.execute(sa.select(rma.number, rma.chosen_store_id,
                                        sa.select(Intake.store_id).where(Intake.rma_id == rma.id)
                                        .scalar_subquery())
                              .where(where).order_by(rma.id.desc())).all()
    for number, routed, dropped in numbers:
        if scope.chain_wide or scope.store_id in (routed, dropped):
            return number
    return None


def return_detail(session: Session, scope: Scope, number: str) -> ReturnDetail:
    scope.require("returns.view")
    rma = session.scalar(sa.select(ReturnAuthorization).where(ReturnAuthorization.number == number))
    if rma is None:
        raise NotFound(number)
    intake = session.scalar(sa.select(Intake).where(Intake.rma_id == rma.id))
    # Store staff see returns routed to or dropped at their store; for anyone else the
    # return does not exist (no hint that it does).
    if not scope.chain_wide and scope.store_id not in (rma.chosen_store_id,
                                                         intake.store_id if intake else None):
        raise NotFound(number)
    order = session.get(Order, rma.order_id)
    refund = session.scalar(sa.select(Refund).where(Refund.rma_id == rma.id)
                            .order_by(Refund.id.desc()))
    line_ids = [line.id for line in rma.lines]
    movements = {m.return_line_id: m for m in session.scalars(
        sa.select(StockMovement).where(StockMovement.return_line_id.in_(line_ids)))}
    detail = ReturnDetail(
        rma=rma, order=order,
        order_lines={ol.id: ol for ol in session.scalars(
            sa.select(OrderLine).where(OrderLine.order_id == order.id))},
        routed_store=session.get(Store, rma.chosen_store_id) if rma.chosen_store_id else None,
        voucher=session.scalar(sa.select(Voucher).where(Voucher.rma_id == rma.id)),
        intake=intake, store=session.get(Store, intake.store_id) if intake else None,
        inspections={i.return_line_id: i for i in session.scalars(
            sa.select(Inspection).where(Inspection.return_line_id.in_(line_ids)))},
        photos=list(session.scalars(sa.select(Photo).where(Photo.intake_id == intake.id)
                                    .order_by(Photo.id))) if intake else [],
        movements=movements, refund=refund,
        journal=_journal(session, refund, movements),
        settlement_lines=list(session.scalars(
            sa.select(SettlementLine).where(SettlementLine.refund_id == refund.id)
            .order_by(SettlementLine.id))) if refund else [],
    )
    detail.timeline = _timeline(session, detail)
    return detail


def _journal(session: Session, refund: Refund | None, movements: dict) -> list[JournalEntry]:
    sources = []
    if refund is not None:
        sources.append(sa.and_(JournalEntry.source_type.in_(("refund", "refund_reversal")),
                               JournalEntry.source_id == refund.id))
    if movements:
        sources.append(sa.and_(JournalEntry.source_type == "disposition",
                               JournalEntry.source_id.in_([m.id for m in movements.values()])))
    if not sources:
        return []
    return list(session.scalars(sa.select(JournalEntry).where(sa.or_(*sources))
                                .order_by(JournalEntry.id)))


def _timeline(session: Session, d: ReturnDetail) -> list[Moment]:
    subjects = [sa.and_(AuditEvent.subject_type == "return", AuditEvent.subject_id == d.rma.number)]
    if d.intake is not None:
        subjects.append(sa.and_(AuditEvent.subject_type == "intake",
                                AuditEvent.subject_id == str(d.intake.id)))
    if d.refund is not None:
        subjects.append(sa.and_(AuditEvent.subject_type == "refund",
                                AuditEvent.subject_id == str(d.refund.id)))
    moments = [Moment(e.occurred_at, e.action, e.actor_label, e.after or {})
               for e in session.scalars(sa.select(AuditEvent).where(sa.or_(*subjects)))]
    if d.refund is not None:
        moments += [Moment(a.attempted_at, f"refund.{a.outcome}", "Amazon connector",
                           {"feed_id": a.feed_id, **(a.detail or {})})
                    for a in d.refund.attempts]
    moments += [Moment(e.created_at, f"journal.{e.source_type}", "ledger",
                       {"status": e.status, "memo": e.memo}) for e in d.journal]
    moments += [Moment(s.posted_at, "amazon.settled", "Amazon",
                       {"settlement_id": s.settlement_id, "amount_type": s.amount_type})
                for s in d.settlement_lines if s.posted_at]
    return sorted(moments, key=lambda m: m.at)


def unit_rows(d: ReturnDetail) -> list[tuple[ReturnLine, OrderLine, Inspection | None]]:
    return [(line, d.order_lines[line.order_line_id], d.inspections.get(line.id))
            for line in d.rma.lines]
