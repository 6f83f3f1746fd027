from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hub.credits.states import CREDIT_TRANSITIONS
from hub.models import Base, JsonDoc, money_column, status_check, utcnow


class StoreCredit(Base):
    """Credit issued instead of a refund: a code with a balance in the order's currency."""

    __tablename__ = "store_credits"
    __table_args__ = (
        status_check("status", CREDIT_TRANSITIONS),
        sa.CheckConstraint("balance >= 0 AND balance <= amount + bonus", name="balance"),
        sa.CheckConstraint("amount >= 0 AND bonus >= 0", name="amounts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(24), unique=True)
    rma_id: Mapped[int] = mapped_column(sa.ForeignKey("return_authorizations.id"), unique=True)
    intake_id: Mapped[int | None] = mapped_column(sa.ForeignKey("intakes.id"))
    channel: Mapped[str] = mapped_column(sa.String(20))
    currency: Mapped[str] = mapped_column(sa.String(3))
    amount: Mapped[int] = money_column()  # what the refund would have been
    bonus: Mapped[int] = money_column()  # what the policy adds for taking credit
    balance: Mapped[int] = money_column()
    # What it settles, per order line, as a refund would: [{line_id, quantity, components}]
    # in minor units. A later return of the same order counts it as refunded before.
    lines: Mapped[list] = mapped_column(JsonDoc, default=list)
    status: Mapped[str] = mapped_column(sa.String(12), default="active", index=True)
    expires_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CreditRedemption(Base):
    """One spend of a credit by a till or the web shop; (caller, key) makes it happen once."""

    __tablename__ = "credit_redemptions"
    __table_args__ = (sa.UniqueConstraint("scope", "key"),
                      sa.CheckConstraint("amount > 0", name="positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_id: Mapped[int] = mapped_column(sa.ForeignKey("store_credits.id"), index=True)
    scope: Mapped[str] = mapped_column(sa.String(80))  # the caller, e.g. "apikey:12"
    key: Mapped[str] = mapped_column(sa.String(80))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    amount: Mapped[int] = money_column()
    balance_after: Mapped[int] = money_column()
    reference: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
