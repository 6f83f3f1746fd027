from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hub.counter.states import APPROVAL_TRANSITIONS, VISIT_TRANSITIONS
from hub.models import Base, JsonDoc, status_check, utcnow


class ApprovalRequest(Base):
    """An intake waiting for a tier above the clerk, with the clock it waits on."""

    __tablename__ = "approval_requests"
    __table_args__ = (status_check("status", APPROVAL_TRANSITIONS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    intake_id: Mapped[int] = mapped_column(sa.ForeignKey("intakes.id"), index=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id"), index=True)
    role: Mapped[str] = mapped_column(sa.String(20))  # the tier that must decide
    reasons: Mapped[list] = mapped_column(JsonDoc, default=list)
    amount: Mapped[int] = mapped_column(sa.BigInteger)  # minor units
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[str] = mapped_column(sa.String(20), default="pending", index=True)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime] = mapped_column(index=True)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]


class CounterVisit(Base):
    """One shopper at the counter: several returns, one receipt."""

    __tablename__ = "counter_visits"
    __table_args__ = (status_check("status", VISIT_TRANSITIONS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id"), index=True)
    device_id: Mapped[int | None] = mapped_column(sa.ForeignKey("devices.id"))
    clerk_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(sa.String(20), default="open", index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    receipt_number: Mapped[str | None] = mapped_column(sa.String(24), unique=True)


class VisitReturn(Base):
    """An intake handed in during a visit (each keeps its own refund)."""

    __tablename__ = "counter_visit_returns"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("counter_visits.id"), index=True)
    intake_id: Mapped[int] = mapped_column(sa.ForeignKey("intakes.id"), unique=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
