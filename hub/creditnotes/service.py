"""VAT credit notes: one per refund on an EU marketplace, numbered without gaps per seller and
marketplace in the transaction that records the refund's success, rendered to PDF and kept
as issued. Uploading is ``hub.creditnotes.upload``'s job; correcting a rejected note is here.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from sqlalchemy.orm import Session

from hub.audit.service import Actor, record
from hub.business.models import BusinessBuyer
from hub.creditnotes import pdf, states, vat
from hub.creditnotes.models import CreditNote, CreditNoteSequence
from hub.models import insert_on_conflict, utcnow
from hub.orders.models import Order, OrderLine
from hub.refunds import actions as refund_actions
from hub.refunds.models import Refund

SYSTEM = Actor("system", None, "vat-credit-notes")
# The language a marketplace's tax documents are written in.
MARKETPLACE_LOCALES = {"DE": "de", "FR": "fr", "ES": "es", "IT": "en", "NL": "en", "PL": "en",
                       "SE": "en", "GB": "en"}


class CorrectionError(ValueError):
    """A correction that cannot be made (the note is not rejected, or a field is invalid)."""


def needs_credit_note(marketplace_id: str) -> bool:
    return marketplace_id in vat.EU_VAT_MARKETPLACES


@refund_actions.on_enter("succeeded")
def issue_for_refund(session: Session, refund: Refund, _before: str) -> CreditNote | None:
    """The refund's credit note, in the refund's own transaction (no refund without its
    note, no number without its refund). Once per refund."""
    if not needs_credit_note(refund.marketplace_id):
        return None
    existing = session.scalar(sa.select(CreditNote).where(CreditNote.refund_id == refund.id))
    if existing is not None:
        return existing
    order = session.get(Order, refund.order_id)
    buyer = session.get(BusinessBuyer, order.id) if order.is_business else None
    return _issue(session, refund, order, company=buyer.company if buyer else "",
                  buyer_vat_id=buyer.vat_id if buyer else "",
                  po_number=buyer.po_number if buyer else "", replaces=None)


def _issue(session: Session, refund: Refund, order: Order, *, company: str, buyer_vat_id: str,
           po_number: str, replaces: CreditNote | None) -> CreditNote:
    rates = vat.breakdown(_refunded_lines(session, refund))
    total, total_vat = vat.totals(rates)
    sequence = next_number(session, refund.seller_id, refund.marketplace_id)
    country = vat.EU_VAT_MARKETPLACES[refund.marketplace_id]
    now = utcnow()
    note = CreditNote(
        refund_id=refund.id, order_id=order.id, seller_id=refund.seller_id,
        marketplace_id=refund.marketplace_id, sequence=sequence,
        number=vat.number_text(country, sequence), status="issued", currency=refund.currency,
        total_amount=total, total_vat=total_vat, vat_breakdown=[r.as_dict() for r in rates],
        original_invoice=original_invoice(order), seller_vat_id=seller_vat_id(refund),
        buyer_vat_id=buyer_vat_id, buyer_company=company, po_number=po_number,
        replaces_id=replaces.id if replaces else None, pdf=b"", sha256="")
    note.pdf = render_pdf(session, note, order, replaces, now)
    note.sha256 = hashlib.sha256(note.pdf).hexdigest()
    session.add(note)
    session.flush()
    record(session, SYSTEM, "credit_note.issued", "credit_note", note.id,
           after={"number": note.number, "refund_id": refund.id, "sha256": note.sha256})
    return note


def next_number(session: Session, seller_id: str, marketplace_id: str) -> int:
    """The next number of this seller and marketplace. The sequence row is locked until the
    transaction ends, so two refunds succeeding at once get consecutive numbers, and a
    transaction that rolls back gives its number back."""
    session.execute(insert_on_conflict(session, CreditNoteSequence).values(
        seller_id=seller_id, marketplace_id=marketplace_id, last_number=0)
        .on_conflict_do_nothing())
    row = session.scalar(sa.select(CreditNoteSequence).where(
        CreditNoteSequence.seller_id == seller_id,
        CreditNoteSequence.marketplace_id == marketplace_id).with_for_update())
    row.last_number += 1
    session.flush()
    return row.last_number


def _refunded_lines(session: Session, refund: Refund) -> list[vat.RefundedLine]:
    out = []
    for line in refund.lines:
        order_line = session.get(OrderLine, line.order_line_id)
        components = {c["type"]: int(c["amount_minor"]) for c in line.components}
        out.append(vat.RefundedLine(line.amount, components, order_line.item_price,
                                    order_line.item_tax, prices_include_vat=False))
    return out


def original_invoice(order: Order) -> str:
    """The invoice the note corrects: Amazon's order id is the invoice's reference on the
    marketplace (an ERP's own invoice number can be configured per order later)."""
    prefix = current_app.config.get("VAT_INVOICE_PREFIX", "INV-")
    return f"{prefix}{order.external_id}"


def seller_vat_id(refund: Refund) -> str:
    ids = current_app.config.get("SELLER_VAT_IDS") or {}
    return str(ids.get(f"{refund.seller_id}:{refund.marketplace_id}")
               or ids.get(refund.seller_id) or "")


def render_pdf(session: Session, note: CreditNote, order: Order,
               replaces: CreditNote | None, now: datetime) -> bytes:
    refund = session.get(Refund, note.refund_id)
    lines = [(session.get(OrderLine, ln.order_line_id).title or "-", ln.quantity, ln.amount)
             for ln in refund.lines]
    country = vat.EU_VAT_MARKETPLACES[note.marketplace_id]
    with force_locale(MARKETPLACE_LOCALES.get(country, "en")):
        return pdf.render(pdf.NoteDocument(
            number=note.number, issued_at=now, currency=note.currency,
            seller_name=current_app.config.get("SELLER_NAME", "Homing"),
            seller_vat_id=note.seller_vat_id, order_id=order.external_id,
            original_invoice=note.original_invoice, rates=note.vat_breakdown,
            total_minor=note.total_amount, vat_minor=note.total_vat,
            buyer_company=note.buyer_company, buyer_vat_id=note.buyer_vat_id,
            po_number=note.po_number, replaces=replaces.number if replaces else "",
            lines=lines))


def correct(session: Session, note: CreditNote, *, company: str, buyer_vat_id: str,
            po_number: str, actor: Actor) -> CreditNote:
    """A rejected note corrected by HQ: a new note under a new number; the rejected one is
    superseded (and kept, as issued)."""
    if note.status != "rejected":
        raise CorrectionError("only a rejected credit note can be corrected")
    company, buyer_vat_id, po_number = (company.strip(), buyer_vat_id.replace(" ", "").upper(),
                                        po_number.strip())
    if len(company) > 200 or len(buyer_vat_id) > 40 or len(po_number) > 80:
        raise CorrectionError("a field is too long")
    if buyer_vat_id and not (buyer_vat_id[:2].isalpha() and buyer_vat_id[2:].isalnum()):
        raise CorrectionError("a VAT id starts with its country code, e.g. DE123456789")
    refund = session.get(Refund, note.refund_id)
    order = session.get(Order, note.order_id)
    states.move(note, "superseded")
    new = _issue(session, refund, order, company=company, buyer_vat_id=buyer_vat_id,
                 po_number=po_number, replaces=note)
    record(session, actor, "credit_note.corrected", "credit_note", note.id,
           before={"number": note.number}, after={"number": new.number})
    return new


def notes_for_refund(session: Session, refund_id: int) -> list[CreditNote]:
    return list(session.scalars(sa.select(CreditNote).where(CreditNote.refund_id == refund_id)
                                .order_by(CreditNote.id)))
