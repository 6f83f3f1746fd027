from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.models import Base, money_column, utcnow


class Account(Base):
    """The configurable chart of accounts refunds and dispositions post to."""

    __tablename__ = "accounts"

    code: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    # asset | liability | revenue | contra_revenue | expense
    kind: Mapped[str] = mapped_column(sa.String(20))
    # The role the ledger rules look accounts up by: sales_returns, tax_payable, ...
    role: Mapped[str | None] = mapped_column(sa.String(40), unique=True)
    active: Mapped[bool] = mapped_column(default=True)


class JournalEntry(Base):
    """A balanced double-entry posting (sum of debits = sum of credits, per currency)."""

    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_type: Mapped[str] = mapped_column(sa.String(20))  # refund | disposition | write_off
    source_id: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(12), default="pending", index=True)
    currency: Mapped[str] = mapped_column(sa.String(3))
    memo: Mapped[str] = mapped_column(sa.String(300), default="")
    idempotency_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    posted_at: Mapped[datetime | None]
    external_ref: Mapped[str] = mapped_column(sa.String(120), default="")
    last_error: Mapped[str] = mapped_column(sa.String(1000), default="")

    lines: Mapped[list[JournalLine]] = relationship(
        back_populates="entry", order_by="JournalLine.id", cascade="all, delete-orphan"
    )


class JournalLine(Base):
    __tablename__ = "journal_lines"
    __table_args__ = (
        sa.CheckConstraint("debit >= 0 AND credit >= 0 AND (debit = 0 OR credit = 0)",
                           name="one_side"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("journal_entries.id", ondelete="CASCADE"),
                                          index=True)
    account_code: Mapped[str] = mapped_column(sa.ForeignKey("accounts.code"))
    debit: Mapped[int] = money_column()
    credit: Mapped[int] = money_column()
    memo: Mapped[str] = mapped_column(sa.String(200), default="")

    entry: Mapped[JournalEntry] = relationship(back_populates="lines")
