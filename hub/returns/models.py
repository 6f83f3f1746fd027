from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.models import Base, JsonDoc, Timestamped, money_column, status_check
from hub.returns import states

# Reception states in which a unit still counts as "taken" (cannot be authorised again).
_LIVE_UNIT = "reception_status NOT IN ('cancelled', 'expired')"


class ReturnAuthorization(Timestamped, Base):
    """An RMA: the shopper's permission to hand back some units of one order."""

    __tablename__ = "return_authorizations"
    __table_args__ = (sa.Index("ix_rma_created_at", "created_at"),  # HQ's date ranges
                      status_check("status", states.RMA_TRANSITIONS),
                      sa.CheckConstraint("outcome IN ('refund', 'credit')", name="outcome"))

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(24), unique=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(20), default="issued", index=True)
    source: Mapped[str] = mapped_column(sa.String(20), default="portal")  # portal|api|amazon
    external_rma_id: Mapped[str | None] = mapped_column(sa.String(60), unique=True)
    policy_version_id: Mapped[int] = mapped_column(sa.ForeignKey("policy_versions.id"))
    # A copy of the policy document as it was when the return was authorised.
    policy_snapshot: Mapped[dict] = mapped_column(JsonDoc)
    shopper_email: Mapped[str] = mapped_column(sa.String(254), default="")
    shopper_locale: Mapped[str] = mapped_column(sa.String(10), default="en")
    origin_postal_code: Mapped[str] = mapped_column(sa.String(20), default="")
    origin_latitude: Mapped[float | None] = mapped_column(sa.Float)
    origin_longitude: Mapped[float | None] = mapped_column(sa.Float)
    # Ranked stores with distance and the reasons for each rank, as shown to the shopper.
    routed_stores: Mapped[list] = mapped_column(JsonDoc, default=list)
    chosen_store_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stores.id"), index=True)
    currency: Mapped[str] = mapped_column(sa.String(3))
    expected_refund: Mapped[int] = money_column()
    expected_breakdown: Mapped[dict] = mapped_column(JsonDoc, default=dict)
    risk_score: Mapped[int] = mapped_column(default=0)
    risk_flags: Mapped[list] = mapped_column(JsonDoc, default=list)
    needs_hq_review: Mapped[bool] = mapped_column(default=False)
    expires_at: Mapped[datetime]
    dropped_off_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    # How the shopper wants it settled: "refund", or "credit" (store credit, where the
    # policy offers it for the order's channel).
    outcome: Mapped[str] = mapped_column(sa.String(12), default="refund",
                                         server_default="refund")
    # The key the creating request carried, so a retried API call returns the same RMA.
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(80), unique=True)

    lines: Mapped[list[ReturnLine]] = relationship(
        back_populates="rma", order_by="ReturnLine.id", cascade="all, delete-orphan"
    )


class ReturnLine(Base):
    """One physical unit being returned. Quantity 3 on an order line gives three of these."""

    __tablename__ = "return_lines"
    __table_args__ = (
        # A unit is returned at most once: unit numbers are unique per order line among the
        # units that are still live (a cancelled or expired authorisation frees its units).
        sa.Index(
            "uq_return_lines_live_unit",
            "order_line_id",
            "unit_no",
            unique=True,
            postgresql_where=sa.text(_LIVE_UNIT),
            sqlite_where=sa.text(_LIVE_UNIT),
        ),
        status_check("reception_status", states.UNIT_RECEPTION),
        status_check("acceptance_status", states.UNIT_ACCEPTANCE),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rma_id: Mapped[int] = mapped_column(
        sa.ForeignKey("return_authorizations.id", ondelete="CASCADE"), index=True
    )
    order_line_id: Mapped[int] = mapped_column(sa.ForeignKey("order_lines.id"), index=True)
    unit_no: Mapped[int]  # 1..quantity of the order line
    reason_code: Mapped[str] = mapped_column(sa.ForeignKey("return_reasons.code"))
    reason_note: Mapped[str] = mapped_column(sa.String(500), default="")
    reception_status: Mapped[str] = mapped_column(sa.String(20), default="awaiting")
    acceptance_status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    grade: Mapped[str | None] = mapped_column(sa.String(12))
    disposition: Mapped[str | None] = mapped_column(sa.String(24))
    expected_amount: Mapped[int] = money_column()
    approved_amount: Mapped[int | None] = money_column(nullable=True, default=None)
    decision_reason: Mapped[str] = mapped_column(sa.String(200), default="")
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]

    rma: Mapped[ReturnAuthorization] = relationship(back_populates="lines")
