from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hub.models import Base, JsonDoc, Timestamped


class Store(Timestamped, Base):
    """A physical store that can take returns back."""

    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    city: Mapped[str] = mapped_column(sa.String(120), default="")
    region: Mapped[str] = mapped_column(sa.String(120), default="")
    postal_code: Mapped[str] = mapped_column(sa.String(20), default="")
    country: Mapped[str] = mapped_column(sa.String(2))
    latitude: Mapped[float] = mapped_column(sa.Float)
    longitude: Mapped[float] = mapped_column(sa.Float)
    timezone: Mapped[str] = mapped_column(sa.String(64))
    # {"mon": [["09:00", "21:00"]], ..., "exceptions": {"2026-12-25": []}}
    hours: Mapped[dict] = mapped_column(JsonDoc)
    categories: Mapped[list] = mapped_column(JsonDoc)
    size_classes: Mapped[list] = mapped_column(JsonDoc)
    daily_capacity: Mapped[int] = mapped_column(default=200)
    active: Mapped[bool] = mapped_column(default=True)

    def __repr__(self) -> str:
        return f"<Store {self.code}>"


class StoreVersion(Base):
    """One row that changes whenever any store does, in the same transaction, so that the
    routing index learns it is stale from one primary-key read instead of a scan of
    ``stores``. ``stamp`` is random per change: a counter alone would repeat after a rolled-back
    change, and an index built inside that transaction would pass for current."""

    __tablename__ = "store_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    stamp: Mapped[str] = mapped_column(sa.String(32), default="")
