"""Uploading credit notes to Amazon with the ``UPLOAD_VAT_INVOICE`` feed, one note per feed,
each outcome a yes, a no or a don't-know:

- issued -> uploading: createFeedDocument and the PDF's upload (a failure here sent nothing
  that counts: back to issued, tried again next run);
- createFeed answered -> submitted; refused on its merits (400) -> rejected with Amazon's
  reason; no readable answer -> unsure;
- unsure: once Amazon's feed list can be trusted (the connector's settle time), a feed of
  the seller's we do not know, created since the upload began, is this note's; none means
  Amazon never made it, and the same note (same number, same bytes) goes again;
- submitted: the processing report decides accepted or rejected; a feed Amazon never
  processed (FATAL, CANCELLED) sends the note again.
Owner: the periodic job ``vat-credit-notes`` (every 30 s); see hub.jobs.deadlines."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import httpx
import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.amazon import feed as feed_xml
from hub.amazon.connector import VAT_INVOICE_FEED, AmazonError, AmazonUnsure, Throttled
from hub.audit.service import record
from hub.creditnotes import states
from hub.creditnotes.models import CreditNote
from hub.creditnotes.service import SYSTEM
from hub.money import Money
from hub.orders.models import Order

log = logging.getLogger(__name__)
PDF_CONTENT_TYPE = "application/pdf"
BATCH = 20


def feed_options(note: CreditNote, order: Order) -> dict[str, str]:
    """The feed's metadata as Amazon documents it for a credit note (amounts as decimals)."""
    return {"metadata:OrderId": order.external_id,
            "metadata:InvoiceNumber": note.number,
            "metadata:DocumentType": "CreditNote",
            "metadata:TransactionId": f"refund-{note.refund_id}",
            "metadata:TotalAmount": str(Money.from_minor(note.total_amount, note.currency)
                                        .amount),
            "metadata:TotalVATAmount": str(Money.from_minor(note.total_vat, note.currency)
                                           .amount)}


def advance_all(session: Session, connector_for, now: datetime) -> dict[str, int]:
    """Move every open note one step; one commit per step, so a crash loses nothing."""
    ids = list(session.scalars(sa.select(CreditNote.id).where(
        CreditNote.status.in_(states.OPEN)).order_by(CreditNote.id).limit(BATCH)))
    outcomes: dict[str, int] = {}
    for note_id in ids:
        note = session.get(CreditNote, note_id, with_for_update={"skip_locked": True})
        if note is None or note.status not in states.OPEN:
            session.rollback()
            continue
        outcome = advance(session, connector_for(note.seller_id), note, now)
        session.commit()
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def advance(session: Session, connector, note: CreditNote, now: datetime) -> str:
    try:
        if note.status == "issued":
            return _upload(session, connector, note, now)
        if note.status == "uploading":  # a run died mid-upload: createFeed may have happened
            _move(session, note, "unsure" if note.feed_document_id else "issued")
            return note.status
        if note.status == "unsure":
            return _settle(session, connector, note, now)
        return _poll(session, connector, note, now)
    except (Throttled, AmazonUnsure, httpx.HTTPError, OSError) as exc:
        log.info("credit note %s waits: %s", note.id, type(exc).__name__)
        return "waiting"


def _move(session: Session, note: CreditNote, target: str, **detail) -> None:
    before = note.status
    states.move(note, target)
    if target in ("submitted", "accepted", "rejected", "unsure"):
        record(session, SYSTEM, f"credit_note.{target}", "credit_note", note.id,
               before={"status": before}, after={"status": target, **detail})


def _upload(session: Session, connector, note: CreditNote, now: datetime) -> str:
    order = session.get(Order, note.order_id)
    _move(session, note, "uploading")
    note.attempts += 1
    note.upload_started_at, note.feed_document_id = now, ""
    session.commit()  # whatever happens next, the attempt is on record
    try:
        note.feed_document_id = connector.upload_feed(note.marketplace_id, note.pdf,
                                                      PDF_CONTENT_TYPE)
    except (AmazonError, Throttled, httpx.HTTPError, OSError) as exc:
        # Nothing Amazon could act on was created: a document is inert without a feed.
        log.info("credit note %s upload failed: %s", note.id, type(exc).__name__)
        _move(session, note, "issued")
        return "retry"
    session.commit()
    try:
        feed_id = connector.create_vat_invoice_feed(note.marketplace_id, note.feed_document_id,
                                                    feed_options(note, order))
    except AmazonUnsure as exc:
        _move(session, note, "unsure", code=exc.code)
        return "unsure"
    except Throttled:
        _move(session, note, "issued")  # Amazon refused before doing anything
        return "throttled"
    except AmazonError as exc:
        if exc.status is not None and 400 <= exc.status < 500 and exc.status != 429:
            return _reject(session, note, exc.code, exc.message, now)
        _move(session, note, "unsure", code=exc.code)
        return "unsure"
    _submitted(session, note, feed_id, now)
    return "submitted"


def _submitted(session: Session, note: CreditNote, feed_id: str, now: datetime) -> None:
    note.feed_id, note.submitted_at = feed_id, now
    _move(session, note, "submitted", feed_id=feed_id)


def _reject(session: Session, note: CreditNote, code: str, reason: str, now: datetime) -> str:
    note.rejection_code, note.rejection_reason = str(code)[:40], str(reason)[:1000]
    note.decided_at = now
    _move(session, note, "rejected", code=note.rejection_code)
    return "rejected"


def _settle(session: Session, connector, note: CreditNote, now: datetime) -> str:
    started = note.upload_started_at or now
    if now < started + timedelta(seconds=connector.feed_settle_seconds):
        return "unsure"
    known = set(session.scalars(sa.select(CreditNote.feed_id).where(
        CreditNote.seller_id == note.seller_id, CreditNote.feed_id != "")))
    feeds = connector.recent_feeds(note.marketplace_id, started - timedelta(seconds=5),
                                   VAT_INVOICE_FEED)
    unknown = sorted((f for f in feeds if str(f.get("feedId")) not in known),
                     key=lambda f: f.get("createdTime") or "")
    if unknown:
        _submitted(session, note, str(unknown[0]["feedId"]), now)
        return "submitted"
    _move(session, note, "issued")  # Amazon never made it: send the same note again
    return "retry"


def _poll(session: Session, connector, note: CreditNote, now: datetime) -> str:
    feed = connector.get_feed(note.marketplace_id, note.feed_id)
    status = feed.get("processingStatus")
    if status in ("FATAL", "CANCELLED"):
        _move(session, note, "issued")
        return "retry"
    if status != "DONE":
        return "submitted"
    report = feed_xml.parse_processing_report(
        connector.feed_result(note.marketplace_id, feed["resultFeedDocumentId"]))
    problems = [e for errs in report.errors.values() for e in errs]
    if report.document_error:
        problems.insert(0, ("5000", report.document_error))
    if problems or report.with_error:
        code, reason = problems[0] if problems else ("Error", "rejected")
        return _reject(session, note, code, reason, now)
    note.decided_at = now
    _move(session, note, "accepted")
    return "accepted"
