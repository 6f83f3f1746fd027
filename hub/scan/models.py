from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hub.models import Base


class ScanAnswer(Base):
    """The JSON a scan lookup answered, kept to answer the same lookup again with one query.

    Fresh only while ``revision`` equals the order's ``scan_revision`` (bumped by every write
    to the order, its returns, vouchers, intakes, inspections and photos) and
    ``store_stamp`` equals the store's ``updated_at``. A stale answer is never served: it is
    recomputed and replaced."""

    __tablename__ = "scan_answers"

    key: Mapped[str] = mapped_column(sa.String(80), primary_key=True)  # voucher:CODE | intake:ID
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    store_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stores.id"))
    revision: Mapped[int]
    store_stamp: Mapped[datetime | None]
    # Vouchers only: the signed token (a scanned token must match it) and until when the
    # voucher is valid; past that the slow path gives the exact refusal.
    token: Mapped[str | None] = mapped_column(sa.Text)
    valid_until: Mapped[datetime | None]
    body: Mapped[str] = mapped_column(sa.Text)
