"""What HQ and the tablet read of the vendor feature: lists, one debit note whole, the
evidence pack's facts. Reads only."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.audit.models import AuditEvent
from hub.stores.models import Store
from hub.vendor.evidence import Pack
from hub.vendor.models import (
    VendorCharge,
    VendorCreditNote,
    VendorDispute,
    VendorImport,
    VendorPhoto,
    VendorReceipt,
    VendorReceiptLine,
)

ACTION_TEXT = {
    "vendor.receipt_opened": "VRET shipment opened at the counter",
    "vendor.units_counted": "Units counted",
    "vendor.units_uncounted": "Count removed",
    "vendor.photo_added": "Photo taken",
    "vendor.receipt_closed": "VRET shipment received",
    "vendor.export_imported": "Vendor Central export imported",
    "vendor.difference_found": "Difference found",
    "vendor.difference_gone": "Difference matched",
    "vendor.dispute_disputed": "Disputed in Vendor Central",
    "vendor.dispute_won": "Dispute won",
    "vendor.dispute_lost": "Dispute lost",
    "vendor.dispute_dismissed": "Dispute dropped",
}


def open_disputes(session: Session, limit: int = 200) -> list[VendorDispute]:
    return list(session.scalars(sa.select(VendorDispute).where(
        VendorDispute.status.in_(("open", "disputed")))
        .order_by(VendorDispute.found_at.desc(), VendorDispute.id).limit(limit)))


def recent_imports(session: Session, limit: int = 10) -> list[VendorImport]:
    return list(session.scalars(sa.select(VendorImport)
                                .order_by(VendorImport.id.desc()).limit(limit)))


def receipts(session: Session, store_id: int | None = None, limit: int = 50
             ) -> list[VendorReceipt]:
    query = sa.select(VendorReceipt).order_by(VendorReceipt.id.desc()).limit(limit)
    if store_id is not None:
        query = query.where(VendorReceipt.store_id == store_id)
    return list(session.scalars(query))


def credit_notes(session: Session, limit: int = 100) -> list[VendorCreditNote]:
    return list(session.scalars(sa.select(VendorCreditNote)
                                .order_by(VendorCreditNote.id.desc()).limit(limit)))


def receipt_photos(session: Session, receipt_ids) -> list[VendorPhoto]:
    return list(session.scalars(sa.select(VendorPhoto).where(
        VendorPhoto.receipt_id.in_(list(receipt_ids))).order_by(VendorPhoto.id)))


def debit_note(session: Session, number: str) -> dict | None:
    charges = list(session.scalars(sa.select(VendorCharge).where(
        VendorCharge.debit_note_number == number).order_by(VendorCharge.id)))
    if not charges:
        return None
    disputes = list(session.scalars(sa.select(VendorDispute).where(
        VendorDispute.debit_note_number == number).order_by(VendorDispute.id)))
    vrets = {c.vret_number for c in charges if c.vret_number}
    found = list(session.scalars(sa.select(VendorReceipt).where(
        VendorReceipt.vret_number.in_(vrets)))) if vrets else []
    return {"number": number, "charges": charges, "disputes": disputes, "receipts": found}


def evidence_pack(session: Session, number: str, photo_dir: str, vendor_code: str
                  ) -> Pack | None:
    note = debit_note(session, number)
    if note is None:
        return None
    stores = dict(session.execute(sa.select(Store.id, Store.name)).all()) \
        if note["receipts"] else {}
    receipts_out = []
    for receipt in note["receipts"]:
        lines = session.scalars(sa.select(VendorReceiptLine).where(
            VendorReceiptLine.receipt_id == receipt.id).order_by(VendorReceiptLine.id))
        receipts_out.append({
            "vret": receipt.vret_number, "rma": receipt.rma_id,
            "store": stores.get(receipt.store_id, ""),
            "received_at": f"{receipt.received_at:%Y-%m-%d}" if receipt.received_at else "-",
            "lines": [{"asin": li.asin, "units": li.units, "grade": li.grade,
                       "amazon_damage": li.amazon_damage, "disposition": li.disposition}
                      for li in lines]})
    ids = [r.id for r in note["receipts"]]
    photos = [Path(photo_dir) / p.path for p in receipt_photos(session, ids)]
    return Pack(
        debit_note_number=number, vendor_code=vendor_code,
        charges=[{"kind": c.kind, "vret": c.vret_number, "asin": c.asin, "units": c.units,
                  "amount_minor": c.amount_minor, "currency": c.currency}
                 for c in note["charges"]],
        receipts=receipts_out,
        disputes=[{"kind": d.kind, "asin": d.asin, "units": d.units,
                   "amount_minor": d.amount_minor, "currency": d.currency,
                   "status": d.status} for d in note["disputes"]],
        photos=[p for p in photos if p.is_file()],
        timeline=_timeline(session, ids, [d.id for d in note["disputes"]]))


def _timeline(session: Session, receipt_ids: list[int], dispute_ids: list[int]
              ) -> list[tuple]:
    subjects = [("vendor_receipt", str(i)) for i in receipt_ids] + \
        [("vendor_dispute", str(i)) for i in dispute_ids]
    if not subjects:
        return []
    events = session.scalars(sa.select(AuditEvent).where(
        sa.tuple_(AuditEvent.subject_type, AuditEvent.subject_id).in_(subjects))
        .order_by(AuditEvent.id))
    return [(e.occurred_at, e.actor_label, _what(e)) for e in events]


def _what(event: AuditEvent) -> str:
    text = ACTION_TEXT.get(event.action, event.action)
    after = event.after or {}
    if event.action == "vendor.units_counted":
        text += f": {after.get('units')} x {after.get('asin')} grade {after.get('grade')}"
    return text
