from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hub.models import Base, utcnow

RESULTS = ("match", "mismatch", "other_line", "unverified")
SERIAL_CHECKS = ("", "match", "mismatch", "unknown")


class ItemCheck(Base):
    """What the clerk scanned (or typed) on one returned unit, and what that proved. One row
    per unit, rewritten by a re-scan; the audit log keeps every scan."""

    __tablename__ = "item_checks"
    __table_args__ = (
        sa.CheckConstraint(sa.column("result").in_(RESULTS), name="result"),
        sa.CheckConstraint(sa.column("serial_check").in_(SERIAL_CHECKS), name="serial_check"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    intake_id: Mapped[int] = mapped_column(sa.ForeignKey("intakes.id"), index=True)
    return_line_id: Mapped[int] = mapped_column(sa.ForeignKey("return_lines.id"), unique=True)
    expected_gtin: Mapped[str] = mapped_column(sa.String(14), default="")
    scanned_gtin: Mapped[str] = mapped_column(sa.String(14), default="")
    source: Mapped[str] = mapped_column(sa.String(10), default="typed")  # barcode format
    # match | mismatch | other_line (another line of the same order) | unverified (the
    # order's GTIN is not known: the clerk checks by eye)
    result: Mapped[str] = mapped_column(sa.String(12), default="unverified")
    other_order_line_id: Mapped[int | None] = mapped_column(sa.ForeignKey("order_lines.id"))
    overridden_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    overridden_at: Mapped[datetime | None]
    serial_number: Mapped[str] = mapped_column(sa.String(64), default="", index=True)
    serial_check: Mapped[str] = mapped_column(sa.String(10), default="")
    # The return the same serial number was already handed back in (a risk flag).
    serial_seen_in: Mapped[str] = mapped_column(sa.String(40), default="")
    clerk_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)
