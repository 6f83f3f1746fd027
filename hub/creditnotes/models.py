from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hub.creditnotes import states
from hub.models import Base, JsonDoc, Timestamped, money_column, status_check


class CreditNoteSequence(Base):
    """The last credit-note number used per seller and marketplace. Taken with a row lock in
    the transaction that records the refund's success, so numbers have no gaps: a rolled-back
    refund rolls its number back with it."""

    __tablename__ = "credit_note_sequences"

    seller_id: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    marketplace_id: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)


class CreditNote(Timestamped, Base):
    """A VAT credit note for one refund on an EU marketplace: its number, its VAT breakdown
    per rate, the parties' VAT ids, and the PDF exactly as issued (bytes and SHA-256)."""

    __tablename__ = "credit_notes"
    __table_args__ = (sa.UniqueConstraint("seller_id", "marketplace_id", "sequence"),
                      status_check("status", states.CREDIT_NOTE_TRANSITIONS))

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(sa.ForeignKey("refunds.id"), index=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    seller_id: Mapped[str] = mapped_column(sa.String(40))
    marketplace_id: Mapped[str] = mapped_column(sa.String(20))
    sequence: Mapped[int]
    number: Mapped[str] = mapped_column(sa.String(40), index=True)
    status: Mapped[str] = mapped_column(sa.String(20), default="issued", index=True)
    currency: Mapped[str] = mapped_column(sa.String(3))
    total_amount: Mapped[int] = money_column()
    total_vat: Mapped[int] = money_column()
    # [{"rate": "19.0", "net_minor": ..., "vat_minor": ..., "gross_minor": ...}]
    vat_breakdown: Mapped[list] = mapped_column(JsonDoc, default=list)
    original_invoice: Mapped[str] = mapped_column(sa.String(60), default="")
    seller_vat_id: Mapped[str] = mapped_column(sa.String(40), default="")
    buyer_vat_id: Mapped[str] = mapped_column(sa.String(40), default="")
    buyer_company: Mapped[str] = mapped_column(sa.String(200), default="")
    po_number: Mapped[str] = mapped_column(sa.String(80), default="")
    pdf: Mapped[bytes] = mapped_column(sa.LargeBinary)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    feed_document_id: Mapped[str] = mapped_column(sa.String(80), default="")
    feed_id: Mapped[str] = mapped_column(sa.String(40), default="")
    upload_started_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    rejection_code: Mapped[str] = mapped_column(sa.String(40), default="")
    rejection_reason: Mapped[str] = mapped_column(sa.String(1000), default="")
    attempts: Mapped[int] = mapped_column(default=0)
    replaces_id: Mapped[int | None] = mapped_column(sa.ForeignKey("credit_notes.id"))
