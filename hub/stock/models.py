from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hub.models import Base, utcnow


class StoreStock(Base):
    """How many units of a SKU (a variant: size, colour) a store holds. Never negative: the
    database refuses it too."""

    __tablename__ = "store_stock"
    __table_args__ = (sa.UniqueConstraint("store_id", "sku"),
                      sa.CheckConstraint("quantity >= 0", name="not_negative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id"))
    sku: Mapped[str] = mapped_column(sa.String(80))
    quantity: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StockChange(Base):
    """Every change of a store's stock, append-only: what moved, why, and the quantity after.
    ``key`` makes a change happen once (a restock per returned unit, a delta per caller and
    Idempotency-Key)."""

    __tablename__ = "stock_changes"
    __table_args__ = (sa.Index("ix_stock_changes_store_sku", "store_id", "sku", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id"))
    sku: Mapped[str] = mapped_column(sa.String(80))
    delta: Mapped[int]
    quantity_after: Mapped[int]
    # set (a full count from the POS / ERP) | delta (a sale or receipt the POS reports) |
    # restock (a returned unit Homing put back on the shelf) | redeem ...
    reason: Mapped[str] = mapped_column(sa.String(20))
    reference: Mapped[str] = mapped_column(sa.String(120), default="")
    key: Mapped[str | None] = mapped_column(sa.String(160), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
