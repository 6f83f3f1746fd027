"""The vendor feature's tables: VRET receipts (with their counted lines and photos), Vendor
Central imports and the charges they carry, dispute lines, and returns credit notes."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hub.models import Base, JsonDoc, status_check, utcnow
from hub.vendor.states import CREDIT_NOTE_TRANSITIONS, DISPUTE_TRANSITIONS, RECEIPT_TRANSITIONS


class VendorReceipt(Base):
    """One VRET shipment as it arrived at a store or DC."""

    __tablename__ = "vendor_receipts"
    __table_args__ = (status_check("status", RECEIPT_TRANSITIONS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vret_number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    rma_id: Mapped[str] = mapped_column(sa.String(40), default="")
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id"), index=True)
    received_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(sa.String(20), default="receiving")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_at: Mapped[datetime | None]
    notes: Mapped[str] = mapped_column(sa.Text, default="")


class VendorReceiptLine(Base):
    """Units of one ASIN in one condition, as counted."""

    __tablename__ = "vendor_receipt_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(sa.ForeignKey("vendor_receipts.id"), index=True)
    asin: Mapped[str] = mapped_column(sa.String(20))
    units: Mapped[int]
    grade: Mapped[str] = mapped_column(sa.String(12))  # A-D, or not_ours
    amazon_damage: Mapped[bool] = mapped_column(default=False)
    disposition: Mapped[str] = mapped_column(sa.String(20))
    counted_at: Mapped[datetime] = mapped_column(default=utcnow)


class VendorPhoto(Base):
    """A photo of a VRET shipment or of one counted line (file outside the database)."""

    __tablename__ = "vendor_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(sa.ForeignKey("vendor_receipts.id"), index=True)
    path: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(40))
    width: Mapped[int]
    height: Mapped[int]
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)


class VendorImport(Base):
    """One Vendor Central export as uploaded, with its line-numbered report."""

    __tablename__ = "vendor_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(sa.String(200))
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    imported_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    rows: Mapped[int] = mapped_column(default=0)
    added: Mapped[int] = mapped_column(default=0)
    already_known: Mapped[int] = mapped_column(default=0)
    report: Mapped[list] = mapped_column(JsonDoc, default=list)  # [{line, code, message}]


class VendorCharge(Base):
    """One line of a debit note, chargeback or claim as Amazon charged it. The line key makes
    a re-import of the same export a no-op."""

    __tablename__ = "vendor_charges"

    id: Mapped[int] = mapped_column(primary_key=True)
    line_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    debit_note_number: Mapped[str] = mapped_column(sa.String(40), index=True)
    vret_number: Mapped[str] = mapped_column(sa.String(40), default="", index=True)
    rma_id: Mapped[str] = mapped_column(sa.String(40), default="")
    asin: Mapped[str] = mapped_column(sa.String(20), default="")
    units: Mapped[int] = mapped_column(default=0)
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(sa.String(3))
    charged_on: Mapped[date | None]
    description: Mapped[str] = mapped_column(sa.Text, default="")
    import_id: Mapped[int] = mapped_column(sa.ForeignKey("vendor_imports.id"))
    import_line: Mapped[int]
    return_id: Mapped[str] = mapped_column(sa.String(40), default="")


class VendorDispute(Base):
    """A difference between what Amazon charged and what arrived, to dispute."""

    __tablename__ = "vendor_disputes"
    __table_args__ = (status_check("status", DISPUTE_TRANSITIONS),
                      sa.UniqueConstraint("debit_note_number", "asin", "kind"))

    id: Mapped[int] = mapped_column(primary_key=True)
    debit_note_number: Mapped[str] = mapped_column(sa.String(40), index=True)
    vret_number: Mapped[str] = mapped_column(sa.String(40), default="")
    receipt_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vendor_receipts.id"))
    asin: Mapped[str] = mapped_column(sa.String(20), default="")
    kind: Mapped[str] = mapped_column(sa.String(20))
    units: Mapped[int] = mapped_column(default=0)
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[str] = mapped_column(sa.String(20), default="open", index=True)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    found_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class VendorCreditNote(Base):
    """A returns credit note for Amazon (``submitInvoices``, invoiceType CreditNote)."""

    __tablename__ = "vendor_credit_notes"
    __table_args__ = (status_check("status", CREDIT_NOTE_TRANSITIONS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    receipt_id: Mapped[int] = mapped_column(sa.ForeignKey("vendor_receipts.id"), index=True)
    debit_note_number: Mapped[str] = mapped_column(sa.String(40), default="")
    returns_reference: Mapped[str] = mapped_column(sa.String(40))
    goods_return_date: Mapped[datetime]
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(sa.String(3))
    lines: Mapped[list] = mapped_column(JsonDoc, default=list)  # [{asin, units, unit_minor}]
    status: Mapped[str] = mapped_column(sa.String(20), default="draft", index=True)
    transaction_id: Mapped[str | None] = mapped_column(sa.String(80))
    amazon_errors: Mapped[list] = mapped_column(JsonDoc, default=list)
    attempts: Mapped[int] = mapped_column(default=0)
    replaces_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vendor_credit_notes.id"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None]
    last_checked_at: Mapped[datetime | None]
