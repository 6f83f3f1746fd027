from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.models import Base, JsonDoc, Timestamped, money_column, status_check, utcnow
from hub.refunds import states


class Refund(Timestamped, Base):
    """The money intent for one decided intake. Created once per decision; retried with the
    same idempotency key, never re-created."""

    __tablename__ = "refunds"
    __table_args__ = (sa.Index("ix_refunds_created_at", "created_at"),  # HQ's date ranges
                      status_check("status", states.REFUND_TRANSITIONS))

    id: Mapped[int] = mapped_column(primary_key=True)
    rma_id: Mapped[int] = mapped_column(sa.ForeignKey("return_authorizations.id"), index=True)
    intake_id: Mapped[int | None] = mapped_column(sa.ForeignKey("intakes.id"), unique=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(24), default="pending", index=True)
    currency: Mapped[str] = mapped_column(sa.String(3))
    amount: Mapped[int] = money_column()
    breakdown: Mapped[dict] = mapped_column(JsonDoc, default=dict)
    idempotency_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    channel: Mapped[str] = mapped_column(sa.String(20))
    seller_id: Mapped[str] = mapped_column(sa.String(40), default="")
    marketplace_id: Mapped[str] = mapped_column(sa.String(20), default="")
    feed_submission_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("amazon_feed_submissions.id"), index=True
    )
    failure_code: Mapped[str] = mapped_column(sa.String(60), default="")
    failure_message: Mapped[str] = mapped_column(sa.String(1000), default="")
    # Amazon has two business days from receipt to refund a seller-fulfilled return.
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    submitted_at: Mapped[datetime | None]
    succeeded_at: Mapped[datetime | None]

    lines: Mapped[list[RefundLine]] = relationship(
        back_populates="refund", order_by="RefundLine.id", cascade="all, delete-orphan"
    )
    attempts: Mapped[list[RefundAttempt]] = relationship(order_by="RefundAttempt.id")


class RefundLine(Base):
    """One adjusted order line: the unit of Amazon's adjustment feed and of reconciliation."""

    __tablename__ = "refund_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(sa.ForeignKey("refunds.id", ondelete="CASCADE"))
    order_line_id: Mapped[int] = mapped_column(sa.ForeignKey("order_lines.id"), index=True)
    # MerchantAdjustmentItemID in the feed; the key settlements are matched on.
    adjustment_item_id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    quantity: Mapped[int]
    amount: Mapped[int] = money_column()
    # [{"type": "Principal", "amount_minor": 1999}, {"type": "Tax", ...}]
    components: Mapped[list] = mapped_column(JsonDoc, default=list)

    refund: Mapped[Refund] = relationship(back_populates="lines")


class RefundAttempt(Base):
    """Append-only log of every try to get a refund to its channel."""

    __tablename__ = "refund_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(sa.ForeignKey("refunds.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[str] = mapped_column(sa.String(24))  # submitted|succeeded|failed|throttled
    feed_id: Mapped[str] = mapped_column(sa.String(40), default="")
    detail: Mapped[dict] = mapped_column(JsonDoc, default=dict)
