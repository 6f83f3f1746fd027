from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hub.intake.states import INTAKE_TRANSITIONS
from hub.models import Base, JsonDoc, status_check, utcnow


class Intake(Base):
    """The drop-off: where and when the units actually arrived, and who took them."""

    __tablename__ = "intakes"
    __table_args__ = (status_check("status", INTAKE_TRANSITIONS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # One intake per RMA: the voucher is single use, so a second store scanning it loses.
    rma_id: Mapped[int] = mapped_column(sa.ForeignKey("return_authorizations.id"), unique=True)
    voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("vouchers.id"))
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id"), index=True)
    clerk_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    device_id: Mapped[int | None] = mapped_column(sa.ForeignKey("devices.id"))
    api_key_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_keys.id"))
    status: Mapped[str] = mapped_column(sa.String(20), default="open", index=True)
    offsite: Mapped[bool] = mapped_column(default=False)  # dropped at a store it wasn't routed to
    offline: Mapped[bool] = mapped_column(default=False)  # recorded on a tablet while offline
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(index=True)
    approval_reasons: Mapped[list] = mapped_column(JsonDoc, default=list)
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    approved_at: Mapped[datetime | None]
    receipt_number: Mapped[str | None] = mapped_column(sa.String(24), unique=True)
    notes: Mapped[str] = mapped_column(sa.Text, default="")


class Inspection(Base):
    """What the clerk found on one unit."""

    __tablename__ = "inspections"

    id: Mapped[int] = mapped_column(primary_key=True)
    intake_id: Mapped[int] = mapped_column(sa.ForeignKey("intakes.id"), index=True)
    return_line_id: Mapped[int] = mapped_column(sa.ForeignKey("return_lines.id"), unique=True)
    grade: Mapped[str] = mapped_column(sa.String(12))
    checklist: Mapped[dict] = mapped_column(JsonDoc, default=dict)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    clerk_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    inspected_at: Mapped[datetime] = mapped_column(default=utcnow)


class Photo(Base):
    """A photo of a unit. The file lives outside the database (EXIF stripped, resized)."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    intake_id: Mapped[int] = mapped_column(sa.ForeignKey("intakes.id"), index=True)
    return_line_id: Mapped[int | None] = mapped_column(sa.ForeignKey("return_lines.id"))
    path: Mapped[str] = mapped_column(sa.String(300))
    content_type: Mapped[str] = mapped_column(sa.String(40), default="image/jpeg")
    width: Mapped[int]
    height: Mapped[int]
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)


class StockMovement(Base):
    """Where a returned unit goes next; drives inventory and the disposition ledger entry."""

    __tablename__ = "stock_movements"

    id: Mapped[int] = mapped_column(primary_key=True)
    return_line_id: Mapped[int] = mapped_column(sa.ForeignKey("return_lines.id"), unique=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id"), index=True)
    sku: Mapped[str] = mapped_column(sa.String(80))
    disposition: Mapped[str] = mapped_column(sa.String(24))
    destination: Mapped[str] = mapped_column(sa.String(80), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
