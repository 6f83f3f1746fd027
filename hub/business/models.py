from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hub.models import Base, utcnow


class BusinessBuyer(Base):
    """What Amazon tells about the buyer of a business order, read through a Restricted Data
    Token for exactly these fields (``hub.business.service``). Personal data of a company:
    shown on the voucher, the receipt and the credit note, never logged."""

    __tablename__ = "business_buyers"

    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"),
                                          primary_key=True)
    po_number: Mapped[str] = mapped_column(sa.String(80), default="")
    company: Mapped[str] = mapped_column(sa.String(200), default="")
    vat_id: Mapped[str] = mapped_column(sa.String(40), default="")
    read_at: Mapped[datetime] = mapped_column(default=utcnow)


class BusinessReturnBatch(Base):
    """One RMA number for a business buyer's return of units from many orders: each order
    keeps its own return (and voucher); the batch number names them all."""

    __tablename__ = "business_return_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(12), unique=True)
    buyer_email: Mapped[str] = mapped_column(sa.String(254), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BusinessReturnBatchMember(Base):
    __tablename__ = "business_return_batch_members"

    batch_id: Mapped[int] = mapped_column(
        sa.ForeignKey("business_return_batches.id", ondelete="CASCADE"), primary_key=True)
    rma_id: Mapped[int] = mapped_column(sa.ForeignKey("return_authorizations.id"),
                                        primary_key=True)
