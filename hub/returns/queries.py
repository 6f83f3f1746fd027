"""Reads of returns that pages and the API share (no writes here)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.intake.models import Intake
from hub.refunds.models import Refund
from hub.returns.models import ReturnAuthorization
from hub.vouchers.models import Voucher


def by_number(session: Session, number: str) -> ReturnAuthorization | None:
    """Return numbers are printed in capitals; a typed one may not be."""
    return session.scalar(sa.select(ReturnAuthorization).where(
        ReturnAuthorization.number == number.strip().upper()))


def by_ids(session: Session, ids) -> dict[int, ReturnAuthorization]:
    ids = list(ids)
    if not ids:
        return {}
    return {r.id: r for r in session.scalars(sa.select(ReturnAuthorization)
                                             .where(ReturnAuthorization.id.in_(ids)))}


def voucher_of(session: Session, rma: ReturnAuthorization) -> Voucher | None:
    return session.scalar(sa.select(Voucher).where(Voucher.rma_id == rma.id))


def completed_intake(session: Session, rma: ReturnAuthorization) -> Intake | None:
    return session.scalar(sa.select(Intake).where(Intake.rma_id == rma.id,
                                                  Intake.status == "completed"))


def refunds_of(session: Session, rma: ReturnAuthorization) -> list[Refund]:
    return list(session.scalars(sa.select(Refund).where(Refund.rma_id == rma.id)
                                .order_by(Refund.id)))
