"""Which orders a write touches, so that a precomputed scan answer is never served stale.

Every flush that adds, changes or deletes a row a scan answer is built from bumps its order's
``scan_revision`` in the same transaction: an answer stored at an older revision is stale the
moment the write commits. Refunds are not watched: they exist once an intake is completed,
and a completed intake's page is never kept (its refund moves on without the counter). This
module imports models only (the services import it)."""

from __future__ import annotations

from itertools import chain

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from hub.intake.models import Inspection, Intake, Photo
from hub.orders.models import Order, OrderLine
from hub.policy.models import ReturnReason
from hub.returns.models import ReturnAuthorization, ReturnLine
from hub.scan.models import ScanAnswer
from hub.vouchers.models import Voucher


def track_writes() -> None:
    """Install the flush hook (idempotent; the app factory calls it)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


def touch(session: Session, *, order_ids=(), rma_ids=(), intake_ids=()) -> None:
    """Bump the revision of the orders behind these rows. For writes that bypass the unit of
    work (``sa.update``/``sa.delete``), which the flush hook cannot see."""
    where = []
    if order_ids:
        where.append(Order.id.in_(sorted(order_ids)))
    if rma_ids:
        where.append(Order.id.in_(sa.select(ReturnAuthorization.order_id)
                                  .where(ReturnAuthorization.id.in_(sorted(rma_ids)))))
    if intake_ids:
        where.append(Order.id.in_(
            sa.select(ReturnAuthorization.order_id)
            .join(Intake, Intake.rma_id == ReturnAuthorization.id)
            .where(Intake.id.in_(sorted(intake_ids)))))
    if where:
        # updated_at kept as it was: a scan revision is bookkeeping, not a change to the order.
        session.connection().execute(
            sa.update(Order).where(sa.or_(*where))
            .values(scan_revision=Order.scan_revision + 1, updated_at=Order.updated_at))


def _after_flush(session: Session, _context) -> None:
    orders, rmas, intakes = set(), set(), set()
    forget_all = False
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, (Order, ReturnAuthorization, OrderLine)):
            orders.add(obj.id if isinstance(obj, Order) else obj.order_id)
        elif isinstance(obj, (ReturnLine, Voucher, Intake)):
            rmas.add(obj.rma_id)
        elif isinstance(obj, (Inspection, Photo)):
            intakes.add(obj.intake_id)
        elif isinstance(obj, ReturnReason):
            forget_all = True  # which reasons are the seller's fault prices every unit
    touch(session, order_ids=orders - {None}, rma_ids=rmas - {None},
          intake_ids=intakes - {None})
    if forget_all:
        session.connection().execute(sa.delete(ScanAnswer))
