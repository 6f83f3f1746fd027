"""Returns credit notes to Amazon, as an RQ job (``vendor-credit-notes``, every 15 s in the
worker's scheduler, or the demo's in-process runner).

Per credit note (states in ``hub.vendor.states``): queued -> "submitting" committed before
Amazon hears of it -> submitInvoices -> the transaction id committed ("submitted") ->
getTransaction until Success ("accepted") or Failure ("rejected", Amazon's errors kept).
Every outside call ends in yes / no / don't-know:
- yes: the transaction id, then Amazon's status;
- no (a 4xx: the request is wrong): rejected with Amazon's message, to correct and resend;
- don't-know (5xx, timeout, dropped connection, a worker that died while "submitting"):
  "unsure". SP-API has no idempotency key and no list of vendor transactions, so nothing is
  sent again until a person has looked in Vendor Central (``service.settle_unsure``).
A throttle (ours or Amazon's) puts a claimed note back in the queue: nothing was sent.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from hub.amazon.connector import AmazonError, AmazonUnsure, Throttled
from hub.audit.service import Actor, record
from hub.extensions import db
from hub.jobs.runner import periodic
from hub.models import utcnow
from hub.money import amount_text
from hub.outbox import service as outbox
from hub.vendor import states
from hub.vendor.models import VendorCreditNote, VendorReceipt
from hub.vendor.service import as_utc_date

log = logging.getLogger(__name__)
JOB = Actor("system", None, "vendor-credit-notes")
# A note left "submitting" this long was claimed by a worker that died mid-call.
SUBMITTING_STALE = timedelta(minutes=10)
BATCH = 50


@outbox.handler("vendor.credit_note")
def queue_credit_note(session: Session, message) -> None:
    note = session.get(VendorCreditNote, message.payload["credit_note_id"])
    if note is None or note.status != "draft":
        return  # delivered before
    states.move_credit_note(note, "queued")


def _configured(app: Flask) -> bool:
    if app.config.get("AMAZON_MODE") == "sandbox":
        return bool(app.config.get("AMAZON_ENDPOINT"))
    return app.config.get("AMAZON_MODE") == "live"


@periodic("vendor-credit-notes", every_seconds=15)
def run_credit_notes(app: Flask) -> None:
    if not _configured(app):
        return
    from hub.vendor.amazon import vendor_connector

    amazon = vendor_connector(app)
    session = db.session
    mark_stale_submissions(session)
    session.commit()
    for note_id in list(session.scalars(sa.select(VendorCreditNote.id).where(
            VendorCreditNote.status == "queued").order_by(VendorCreditNote.id).limit(BATCH))):
        submit_one(session, amazon, note_id)
    for note_id in list(session.scalars(sa.select(VendorCreditNote.id).where(
            VendorCreditNote.status == "submitted").order_by(VendorCreditNote.id)
            .limit(BATCH))):
        check_one(session, amazon, note_id)


def mark_stale_submissions(session: Session) -> int:
    stale = list(session.scalars(sa.select(VendorCreditNote).where(
        VendorCreditNote.status == "submitting",
        VendorCreditNote.updated_at < utcnow() - SUBMITTING_STALE)))
    for note in stale:
        _move(session, note, "unsure", errors=[{"code": "NoAnswer", "message":
                                               "The worker stopped during submitInvoices."}])
    return len(stale)


def _claim(session: Session, note_id: int) -> VendorCreditNote | None:
    query = sa.select(VendorCreditNote).where(VendorCreditNote.id == note_id,
                                              VendorCreditNote.status == "queued")
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    note = session.scalar(query)
    if note is None:
        return None
    states.move_credit_note(note, "submitting")
    note.attempts += 1
    session.commit()  # claimed before Amazon hears of it
    return note


def submit_one(session: Session, amazon, note_id: int) -> str | None:
    note = _claim(session, note_id)
    if note is None:
        return None
    receipt = session.get(VendorReceipt, note.receipt_id)
    body = invoice_body(note, receipt, amazon.vendor_code)
    try:
        transaction_id = amazon.submit_invoices(body)
    except Throttled:
        _move(session, note, "queued")
    except AmazonUnsure as exc:
        _move(session, note, "unsure", errors=[{"code": exc.code, "message": exc.message}])
    except AmazonError as exc:
        _move(session, note, "rejected", errors=[{"code": exc.code, "message": exc.message}])
    else:
        note.transaction_id = transaction_id
        note.submitted_at = utcnow()
        _move(session, note, "submitted")
    session.commit()
    return note.status


def check_one(session: Session, amazon, note_id: int) -> str | None:
    note = session.get(VendorCreditNote, note_id)
    if note is None or note.status != "submitted":
        return None
    try:
        answer = amazon.transaction(note.transaction_id)
    except (Throttled, AmazonError) as exc:
        # Not knowing the status changes nothing: the next run asks again.
        log.info("credit note %s: status not read (%s)", note.id, type(exc).__name__)
        note.last_checked_at = utcnow()
        session.commit()
        return note.status
    note.last_checked_at = utcnow()
    if answer["status"] == "Success":
        _move(session, note, "accepted")
    elif answer["status"] == "Failure":
        _move(session, note, "rejected", errors=[
            {"code": str(e.get("code", "")), "message": str(e.get("message", ""))}
            for e in answer["errors"]] or [{"code": "Failure", "message": ""}])
    session.commit()
    return note.status


def _move(session: Session, note: VendorCreditNote, target: str,
          errors: list[dict] | None = None) -> None:
    before = note.status
    states.move_credit_note(note, target)
    if errors is not None:
        note.amazon_errors = errors
    if target != "queued":
        record(session, JOB, f"vendor.credit_note_{target}", "vendor_credit_note", note.id,
               before={"status": before}, after={"status": target, "errors": errors or []})


def invoice_body(note: VendorCreditNote, receipt: VendorReceipt, vendor_code: str) -> dict:
    """The SubmitInvoicesRequest of a returns credit note (vendorInvoices.json)."""
    details = {"returnsReferenceNumber": note.returns_reference,
               "goodsReturnDate": as_utc_date(note.goods_return_date),
               "consignorsReferenceNumber": receipt.vret_number}
    if note.debit_note_number:
        details["debitNoteNumber"] = note.debit_note_number
    if receipt.rma_id:
        details["rmaId"] = receipt.rma_id
    items = [{"itemSequenceNumber": i, "amazonProductIdentifier": line["asin"],
              "invoicedQuantity": {"amount": line["units"], "unitOfMeasure": "Eaches"},
              "netCost": {"currencyCode": note.currency,
                          "amount": amount_text(line["unit_minor"], note.currency)},
              "creditNoteDetails": details}
             for i, line in enumerate(note.lines, start=1)]
    return {"invoices": [{
        "invoiceType": "CreditNote", "id": note.number,
        "date": as_utc_date(note.created_at), "remitToParty": {"partyId": vendor_code},
        "invoiceTotal": {"currencyCode": note.currency,
                         "amount": amount_text(note.amount_minor, note.currency)},
        "items": items}]}
