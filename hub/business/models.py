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
