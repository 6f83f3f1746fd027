from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hub.models import Base, status_check, utcnow
from hub.vouchers.states import VOUCHER_TRANSITIONS


class Voucher(Base):
    """The signed QR a shopper shows at the counter. Single use: consumed at intake."""

    __tablename__ = "vouchers"
    __table_args__ = (status_check("status", VOUCHER_TRANSITIONS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rma_id: Mapped[int] = mapped_column(sa.ForeignKey("return_authorizations.id"), unique=True)
    short_code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    token: Mapped[str] = mapped_column(sa.Text)
    kid: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(12), default="active", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    consumed_at: Mapped[datetime | None]
    consumed_store_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stores.id"))
    # Lookups of this voucher that failed policy (other store, replays after use): risk input.
    replay_attempts: Mapped[int] = mapped_column(default=0)
