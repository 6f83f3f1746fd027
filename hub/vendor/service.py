"""Vendor returns, received and reconciled: the use cases. Each function works in the
caller's transaction (the view or job commits once) and writes the audit trail.

- ``open_receipt`` / ``count_line`` / ``add_photo`` / ``close_receipt``: a VRET shipment at the
  counter; closing it matches it against what Amazon charged.
- ``import_export``: a Vendor Central export, line by line (nothing written for a refused
  line; a re-import adds nothing); the debit notes it touched are matched again.
- ``reconcile``: the differences of those debit notes, kept as dispute lines.
- ``credit_note_for`` / ``correct_and_resend`` / ``settle_unsure``: the returns credit note;
  ``hub.vendor.jobs`` sends it to Amazon.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.audit.service import Actor, record
from hub.intake.inspection import DISPOSITIONS, GRADES
from hub.models import utcnow
from hub.outbox import service as outbox
from hub.validation import InvalidInput
from hub.vendor import importing, matching, states
from hub.vendor.models import (
    VendorCharge,
    VendorCreditNote,
    VendorDispute,
    VendorImport,
    VendorPhoto,
    VendorReceipt,
    VendorReceiptLine,
)

COUNT_GRADES = (*GRADES, matching.NOT_OURS)
_VRET = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,39}$")
_ASIN = re.compile(r"^[A-Z0-9]{10}$")
MAX_UNITS = 100_000
MAX_FILE_BYTES = 10 * 1024 * 1024


class VendorConflict(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def normalise_reference(text: str) -> str:
    """A VRET or RMA number as typed or scanned: spaces gone, upper case."""
    return re.sub(r"\s+", "", text or "").upper()


_ORDER_ID = re.compile(r"^\d{3}-?\d{7}-?\d{7}$")


def sold_by_amazon(session: Session, text: str) -> bool:
    """Whether what the clerk typed is the number of an order Amazon sold itself (a shopper
    bringing such an order has no voucher: Amazon refunds it)."""
    from hub.orders.models import Order
    from hub.returns.eligibility import SOLD_BY_AMAZON

    typed = re.sub(r"\s+", "", text or "")
    if not _ORDER_ID.match(typed):
        return False
    digits = typed.replace("-", "")
    order_id = f"{digits[:3]}-{digits[3:10]}-{digits[10:]}"
    return session.scalar(sa.select(Order.id).where(Order.external_id == order_id,
                                                    Order.channel == SOLD_BY_AMAZON)) is not None


# --- at the counter ------------------------------------------------------------------------

def open_receipt(session: Session, store_id: int, actor: Actor, vret_text: str,
                 rma_text: str = "") -> VendorReceipt:
    vret, rma = normalise_reference(vret_text), normalise_reference(rma_text)
    if not _VRET.match(vret):
        raise InvalidInput([{"field": "vret", "message": "not_a_vret"}])
    if rma and not _VRET.match(rma):
        raise InvalidInput([{"field": "rma", "message": "not_an_rma"}])
    receipt = session.scalar(sa.select(VendorReceipt).where(VendorReceipt.vret_number == vret))
    if receipt is not None:
        if receipt.store_id != store_id:
            raise VendorConflict("other_store", "received at another store")
        if receipt.status != "receiving":
            raise VendorConflict("already_received", "already received")
        return receipt
    receipt = VendorReceipt(vret_number=vret, rma_id=rma, store_id=store_id,
                            received_by_id=actor.id if actor.kind == "user" else None)
    session.add(receipt)
    session.flush()
    record(session, actor, "vendor.receipt_opened", "vendor_receipt", receipt.id,
           after={"vret": vret, "rma": rma}, store_id=store_id)
    return receipt


def _receiving(receipt: VendorReceipt) -> None:
    if receipt.status != "receiving":
        raise VendorConflict("already_received", "already received")


def count_line(session: Session, receipt: VendorReceipt, actor: Actor, *, asin: str,
               units: str | int, grade: str, disposition: str, amazon_damage: bool
               ) -> VendorReceiptLine:
    _receiving(receipt)
    errors = []
    asin = normalise_reference(asin)
    if not _ASIN.match(asin):
        errors.append({"field": "asin", "message": "bad_asin"})
    try:
        count = int(str(units).strip())
        if not 0 < count <= MAX_UNITS:
            raise ValueError
    except ValueError:
        errors.append({"field": "units", "message": "bad_units"})
        count = 0
    if grade not in COUNT_GRADES:
        errors.append({"field": "grade", "message": "bad_grade"})
    if disposition not in DISPOSITIONS:
        errors.append({"field": "disposition", "message": "bad_disposition"})
    if errors:
        raise InvalidInput(errors)
    line = VendorReceiptLine(receipt_id=receipt.id, asin=asin, units=count, grade=grade,
                             disposition=disposition,
                             amazon_damage=bool(amazon_damage) and grade != matching.NOT_OURS)
    session.add(line)
    session.flush()
    record(session, actor, "vendor.units_counted", "vendor_receipt", receipt.id,
           after={"asin": asin, "units": count, "grade": grade, "disposition": disposition,
                  "amazon_damage": line.amazon_damage}, store_id=receipt.store_id)
    return line


def remove_line(session: Session, receipt: VendorReceipt, actor: Actor, line_id: int) -> None:
    _receiving(receipt)
    line = session.get(VendorReceiptLine, line_id)
    if line is None or line.receipt_id != receipt.id:
        raise VendorConflict("unknown_line", "no such line")
    record(session, actor, "vendor.units_uncounted", "vendor_receipt", receipt.id,
           before={"asin": line.asin, "units": line.units, "grade": line.grade},
           store_id=receipt.store_id)
    session.delete(line)


def add_photo(session: Session, receipt: VendorReceipt, actor: Actor, stored: dict
              ) -> VendorPhoto:
    _receiving(receipt)
    photo = VendorPhoto(receipt_id=receipt.id, **stored)
    session.add(photo)
    session.flush()
    record(session, actor, "vendor.photo_added", "vendor_receipt", receipt.id,
           after={"photo": photo.id}, store_id=receipt.store_id)
    return photo


def close_receipt(session: Session, receipt: VendorReceipt, actor: Actor) -> list:
    """The shipment is counted: matched against every charge for its VRET."""
    _receiving(receipt)
    if not lines_of(session, receipt):
        raise VendorConflict("nothing_counted", "nothing counted")
    states.move_receipt(receipt, "received")
    receipt.received_at = utcnow()
    record(session, actor, "vendor.receipt_closed", "vendor_receipt", receipt.id,
           before={"status": "receiving"}, after={"status": "received"},
           store_id=receipt.store_id)
    notes = session.scalars(sa.select(VendorCharge.debit_note_number).distinct()
                            .where(VendorCharge.vret_number == receipt.vret_number))
    return reconcile(session, set(notes), actor)


def lines_of(session: Session, receipt: VendorReceipt) -> list[VendorReceiptLine]:
    return list(session.scalars(sa.select(VendorReceiptLine)
                                .where(VendorReceiptLine.receipt_id == receipt.id)
                                .order_by(VendorReceiptLine.id)))


# --- Vendor Central's exports ----------------------------------------------------------------

def import_export(session: Session, actor: Actor, filename: str, data: bytes,
                  default_kind: str = "debit_note") -> VendorImport:
    """Import one export. ExportFormatError when the file as a whole cannot be read (nothing
    written); otherwise the VendorImport with its line-numbered report."""
    if len(data) > MAX_FILE_BYTES:
        raise importing.ExportFormatError("too_large", "The file is larger than 10 MB.")
    if default_kind not in importing.CHARGE_KINDS:
        raise importing.ExportFormatError("bad_kind", "Unknown export type.")
    parsed = importing.parse_export(data, filename, default_kind)
    run = VendorImport(filename=filename[:200], sha256=hashlib.sha256(data).hexdigest(),
                       imported_by_id=actor.id if actor.kind == "user" else None,
                       rows=parsed.total)
    session.add(run)
    session.flush()
    report = [_problem(p.line, p.code, p.params) for p in parsed.problems]
    known = set(session.scalars(sa.select(VendorCharge.line_key).where(
        VendorCharge.line_key.in_([r.line_key for r in parsed.rows]))))
    received = set(session.scalars(sa.select(VendorReceipt.vret_number).where(
        VendorReceipt.vret_number.in_({r.vret_number for r in parsed.rows if r.vret_number}))))
    touched = set()
    for row in parsed.rows:
        if row.line_key in known:
            run.already_known += 1
            report.append(_problem(row.line, "already_imported", {}))
            continue
        session.add(_charge(row, run.id))
        run.added += 1
        touched.add(row.debit_note_number)
        if row.vret_number and row.vret_number not in received \
                and row.kind in importing.MATCHED_KINDS:
            report.append(_problem(row.line, "vret_not_received", {"value": row.vret_number}))
    run.report = sorted(report, key=lambda p: p["line"])
    session.flush()
    record(session, actor, "vendor.export_imported", "vendor_import", run.id,
           after={"file": run.filename, "rows": run.rows, "added": run.added,
                  "already_known": run.already_known,
                  "refused": sum(1 for p in report if p["code"] not in NOTICES)})
    reconcile(session, touched, actor)
    return run


# Report entries that are notes, not refusals: the line was imported (or already was).
NOTICES = ("unknown_columns", "vret_not_received", "already_imported")


def _problem(line: int, code: str, params: dict) -> dict:
    return {"line": line, "code": code, "params": params,
            "message": importing.PROBLEMS[code] % params}


def _charge(row: importing.ChargeRow, import_id: int) -> VendorCharge:
    return VendorCharge(line_key=row.line_key, kind=row.kind,
                        debit_note_number=row.debit_note_number, vret_number=row.vret_number,
                        rma_id=row.rma_id, return_id=row.return_id, asin=row.asin,
                        units=row.units, amount_minor=row.amount_minor, currency=row.currency,
                        charged_on=row.charged_on, description=row.description,
                        import_id=import_id, import_line=row.line)


# --- matching -----------------------------------------------------------------------------

def reconcile(session: Session, debit_notes: set[str], actor: Actor) -> list[VendorDispute]:
    """Match these debit notes' charges to the VRETs received; each difference becomes (or
    updates, while still open) a dispute line. A difference that went away leaves an open
    line dismissed."""
    if not debit_notes:
        return []
    charges = list(session.scalars(sa.select(VendorCharge).where(
        VendorCharge.debit_note_number.in_(debit_notes),
        VendorCharge.kind.in_(importing.MATCHED_KINDS))))
    receipts = {r.vret_number: r for r in session.scalars(sa.select(VendorReceipt).where(
        VendorReceipt.vret_number.in_({c.vret_number for c in charges}),
        VendorReceipt.status == "received"))}
    counted: dict[str, list[matching.Counted]] = defaultdict(list)
    if receipts:
        by_id = {r.id: r.vret_number for r in receipts.values()}
        for line in session.scalars(sa.select(VendorReceiptLine).where(
                VendorReceiptLine.receipt_id.in_(by_id))):
            counted[by_id[line.receipt_id]].append(
                matching.Counted(line.asin, line.units, line.grade, line.amazon_damage))
    for vret in receipts:
        counted.setdefault(vret, [])
    found = matching.reconcile(
        [matching.Charged(c.debit_note_number, c.vret_number, c.asin, c.units, c.amount_minor,
                          c.currency) for c in charges], counted)
    return _keep_disputes(session, debit_notes, found, receipts, actor)


def _keep_disputes(session, debit_notes, found, receipts, actor) -> list[VendorDispute]:
    existing = {(d.debit_note_number, d.asin, d.kind): d for d in session.scalars(
        sa.select(VendorDispute).where(VendorDispute.debit_note_number.in_(debit_notes)))}
    kept = []
    for diff in found:
        key = (diff.debit_note_number, diff.asin, diff.kind)
        dispute = existing.pop(key, None)
        receipt = receipts.get(diff.vret_number)
        if dispute is None:
            dispute = VendorDispute(debit_note_number=diff.debit_note_number,
                                    vret_number=diff.vret_number, asin=diff.asin,
                                    kind=diff.kind, units=diff.units,
                                    amount_minor=diff.amount_minor, currency=diff.currency,
                                    receipt_id=receipt.id if receipt else None)
            session.add(dispute)
            session.flush()
            record(session, actor, "vendor.difference_found", "vendor_dispute", dispute.id,
                   after={"debit_note": diff.debit_note_number, "kind": diff.kind,
                          "units": diff.units})
        elif dispute.status == "open":
            dispute.units, dispute.amount_minor = diff.units, diff.amount_minor
            dispute.receipt_id = receipt.id if receipt else None
        kept.append(dispute)
    for dispute in existing.values():
        if dispute.status == "open":  # e.g. the VRET arrived after all
            states.move_dispute(dispute, "dismissed")
            dispute.note = "matched: no difference any more"
            record(session, actor, "vendor.difference_gone", "vendor_dispute", dispute.id,
                   before={"status": "open"}, after={"status": "dismissed"})
    return kept


def decide_dispute(session: Session, dispute: VendorDispute, actor: Actor, target: str,
                   note: str = "") -> None:
    before = dispute.status
    states.move_dispute(dispute, target)
    if note:
        dispute.note = note[:2000]
    record(session, actor, f"vendor.dispute_{target}", "vendor_dispute", dispute.id,
           before={"status": before}, after={"status": target, "note": note[:2000]})


# --- credit notes -------------------------------------------------------------------------

def credit_note_for(session: Session, receipt: VendorReceipt, actor: Actor,
                    debit_note_number: str = "", returns_reference: str = "",
                    replaces: VendorCreditNote | None = None) -> VendorCreditNote:
    """A returns credit note for the brand's units of a received VRET, priced at what
    Amazon charged for them; queued for Amazon after commit."""
    if receipt.status != "received":
        raise VendorConflict("not_received", "not received yet")
    if replaces is None and session.scalar(sa.select(VendorCreditNote.id).where(
            VendorCreditNote.receipt_id == receipt.id,
            VendorCreditNote.status != "superseded")):
        raise VendorConflict("has_credit_note", "already has a credit note")
    charges = list(session.scalars(sa.select(VendorCharge).where(
        VendorCharge.vret_number == receipt.vret_number,
        VendorCharge.kind.in_(importing.MATCHED_KINDS))))
    if not charges:
        raise VendorConflict("no_charge", "no debit note for this VRET")
    lines, currency = _credit_lines(session, receipt, charges)
    if not lines:
        raise VendorConflict("nothing_to_credit", "no units of the brand to credit")
    debit_note = normalise_reference(debit_note_number) or charges[0].debit_note_number
    reference = normalise_reference(returns_reference) or next(
        (c.return_id for c in charges if c.return_id), "") or receipt.rma_id \
        or receipt.vret_number
    note = VendorCreditNote(
        number=_next_number(session, receipt), receipt_id=receipt.id,
        debit_note_number=debit_note, returns_reference=reference,
        goods_return_date=receipt.received_at or utcnow(),
        amount_minor=sum(li["units"] * li["unit_minor"] for li in lines), currency=currency,
        lines=lines, replaces_id=replaces.id if replaces else None,
        created_by_id=actor.id if actor.kind == "user" else None)
    session.add(note)
    session.flush()
    record(session, actor, "vendor.credit_note_written", "vendor_credit_note", note.id,
           after={"number": note.number, "debit_note": debit_note,
                  "replaces": replaces.number if replaces else None})
    outbox.emit(session, "vendor.credit_note", {"credit_note_id": note.id},
                dedupe_key=f"vendor.credit_note:{note.id}")
    return note


def _credit_lines(session, receipt, charges) -> tuple[list[dict], str]:
    unit_cost = {}
    for charge in charges:
        if charge.units:
            unit_cost.setdefault(charge.asin, charge.amount_minor // charge.units)
    ours: dict[str, int] = defaultdict(int)
    for line in lines_of(session, receipt):
        if line.grade != matching.NOT_OURS and line.asin in unit_cost:
            ours[line.asin] += line.units
    lines = [{"asin": asin, "units": units, "unit_minor": unit_cost[asin]}
             for asin, units in sorted(ours.items())]
    return lines, charges[0].currency


def _next_number(session: Session, receipt: VendorReceipt) -> str:
    count = session.scalar(sa.select(sa.func.count(VendorCreditNote.id))
                           .where(VendorCreditNote.receipt_id == receipt.id)) or 0
    return f"CN-{receipt.vret_number}-{count + 1}"[:40]


def correct_and_resend(session: Session, note: VendorCreditNote, actor: Actor,
                       debit_note_number: str, returns_reference: str) -> VendorCreditNote:
    """A rejected credit note, corrected, goes again under a new number."""
    if note.status != "rejected":
        raise VendorConflict("not_rejected", "only a rejected credit note can be corrected")
    receipt = session.get(VendorReceipt, note.receipt_id)
    states.move_credit_note(note, "superseded")
    record(session, actor, "vendor.credit_note_superseded", "vendor_credit_note", note.id,
           before={"status": "rejected"}, after={"status": "superseded"})
    return credit_note_for(session, receipt, actor, debit_note_number, returns_reference,
                           replaces=note)


def settle_unsure(session: Session, note: VendorCreditNote, actor: Actor, amazon_has_it: bool
                  ) -> None:
    """A person looked in Vendor Central after a call with no answer: Amazon has the credit
    note (accepted), or it does not (sent again, same number: a duplicate would be refused)."""
    if note.status != "unsure":
        raise VendorConflict("not_unsure", "not waiting for a check")
    target = "accepted" if amazon_has_it else "queued"
    states.move_credit_note(note, target)
    record(session, actor, "vendor.credit_note_checked", "vendor_credit_note", note.id,
           before={"status": "unsure"}, after={"status": target})


def as_utc_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
