"""Refunds to Amazon: batched order-adjustment feeds, exactly once.

The path of a refund (states in ``hub.refunds.states``):
queued -> claimed into a FeedSubmission (committed before Amazon hears of it) -> document
uploaded -> "creating" committed -> createFeed -> feed id committed -> polled -> processing
report applied per message. Each step commits, so a worker that dies anywhere resumes from the
last step. The one blind spot of any API without idempotency keys (a crash between createFeed
answering and our commit) is closed by "creating": a submission found in that state looks for
the feed Amazon created before it creates one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from hub.amazon import feed as feed_xml
from hub.amazon.connector import AmazonError, Connector, Throttled
from hub.amazon.models import ConnectorStatus, FeedSubmission, SettlementLine
from hub.models import utcnow
from hub.orders.models import Order, OrderLine
from hub.outbox import service as outbox
from hub.refunds import actions
from hub.refunds.models import Refund, RefundAttempt, RefundLine

log = logging.getLogger(__name__)

AMAZON_CHANNELS = ("amazon-mfn", "amazon-business")
MAX_MESSAGES = 1000  # refunds per feed; a feed of 1,000 messages stays far below 10 MB
RESUBMIT_LIMIT = 3  # feeds Amazon never processed (FATAL/CANCELLED) before a refund fails
AMAZON_REFUND_EVENTS = ("RefundEventList", "GuaranteeClaimEventList", "ChargebackEventList")


@dataclass
class StepResult:
    submission_id: int
    status: str
    detail: str = ""


def _move(refund: Refund, target: str) -> None:
    actions.move(refund, target)


# --- handing over ------------------------------------------------------------------------------

@outbox.handler("refund.submit")
def queue_refund(session: Session, message) -> None:
    """The outbox delivers the intent: Amazon refunds wait for the next batched feed; other
    channels are paid out by finance."""
    refund = session.get(Refund, message.payload["refund_id"])
    if refund is None or refund.status != "pending":
        return  # delivered before (at least once): nothing to do
    _move(refund, "queued" if refund.channel in AMAZON_CHANNELS else "manual")


def work_to_do(session: Session) -> list[tuple[str, str]]:
    """(seller, marketplace) pairs with queued refunds or unfinished feeds."""
    queued = sa.select(Refund.seller_id, Refund.marketplace_id).where(Refund.status == "queued")
    unfinished = sa.select(FeedSubmission.seller_id, FeedSubmission.marketplace_id).where(
        FeedSubmission.status.in_(("building", "uploaded", "creating", "submitted")))
    return sorted({tuple(row) for row in session.execute(queued.union(unfinished))})


# --- claiming a batch -------------------------------------------------------------------------

def claim_batch(session: Session, seller_id: str, marketplace_id: str,
                now: datetime | None = None) -> FeedSubmission | None:
    """Put up to MAX_MESSAGES queued refunds of one seller and marketplace into a new feed.
    Refunds Amazon already made itself are set aside instead. The caller commits."""
    now = now or utcnow()
    query = (sa.select(Refund).where(Refund.status == "queued", Refund.seller_id == seller_id,
                                     Refund.marketplace_id == marketplace_id)
             .options(selectinload(Refund.lines)).order_by(Refund.id).limit(MAX_MESSAGES))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Refund)
    refunds = list(session.scalars(query))
    seen = _amazon_events_by_order(session, refunds)
    refunds = [r for r in refunds
               if r.order_id not in seen or not _refunded_by_amazon(session, r, seen[r.order_id],
                                                                    now)]
    if not refunds:
        return None
    submission = FeedSubmission(seller_id=seller_id, marketplace_id=marketplace_id,
                                feed_type=feed_xml.FEED_TYPE, status="building",
                                message_count=len(refunds), created_at=now)
    session.add(submission)
    session.flush()
    for refund in refunds:
        _move(refund, "submitting")
        refund.feed_submission_id = submission.id
    submission.processing_summary = {
        "messages": {str(n): r.id for n, r in enumerate(refunds, start=1)}}
    return submission


def _amazon_events_by_order(session: Session, refunds: list[Refund]
                            ) -> dict[int, list[tuple[str, str, str]]]:
    """The refund-type financial events pulled so far for these refunds' orders, by order id:
    (event list, item code, Amazon adjustment id). One query for the whole batch."""
    rows = session.execute(
        sa.select(Order.id, SettlementLine.transaction_type, SettlementLine.order_item_code,
                  SettlementLine.adjustment_item_id).distinct()
        .join(Order, Order.external_id == SettlementLine.amazon_order_id)
        .where(SettlementLine.source == "financial_event",
               Order.id.in_({r.order_id for r in refunds})))
    seen: dict[int, list[tuple[str, str, str]]] = {}
    for order_id, *event in rows:
        seen.setdefault(order_id, []).append(tuple(event))
    return seen


def _refunded_by_amazon(session: Session, refund: Refund, events: list[tuple[str, str, str]],
                        now: datetime) -> bool:
    """Amazon refunded one of this refund's lines on its own (seen in the financial events
    pulled so far)? Then sending ours would refund the shopper twice."""
    external = _external_refund(session, refund, events)
    if not external:
        return False
    _move(refund, "amazon_refunded")
    refund.failure_code = "amazon_refunded"
    refund.failure_message = (f"Amazon refunded this order itself ({external}); Homing did "
                              "not send a second refund.")
    session.add(RefundAttempt(refund_id=refund.id, attempted_at=now, outcome="skipped",
                              detail={"amazon": external}))
    return True


def _external_refund(session: Session, refund: Refund,
                     events: list[tuple[str, str, str]]) -> str:
    """Among Amazon's refund events (list name, item code, adjustment id) on this refund's
    items, one that none of our own successful refunds accounts for, described; else ''."""
    codes = _item_codes(session, refund)
    ours = dict(session.execute(
        sa.select(OrderLine.external_item_id, sa.func.count(RefundLine.id))
        .join(RefundLine, RefundLine.order_line_id == OrderLine.id)
        .join(Refund, Refund.id == RefundLine.refund_id)
        .where(OrderLine.id.in_(codes), Refund.id != refund.id,
               Refund.status.in_(("succeeded", "settled")))
        .group_by(OrderLine.external_item_id)).all())
    seen: dict[str, int] = {}
    for name, code, adjustment in events:
        if code not in codes.values():
            continue
        if name in ("GuaranteeClaimEventList", "ChargebackEventList"):
            kind = "A-to-z claim" if name == "GuaranteeClaimEventList" else "chargeback"
            return f"{kind}, adjustment {adjustment}"
        seen[code] = seen.get(code, 0) + 1
        if seen[code] > ours.get(code, 0):
            return f"refund, adjustment {adjustment}"
    return ""


def _item_codes(session: Session, refund: Refund) -> dict[int, str]:
    ids = [line.order_line_id for line in refund.lines]
    return dict(session.execute(sa.select(OrderLine.id, OrderLine.external_item_id)
                                .where(OrderLine.id.in_(ids))).all())


def build_document(session: Session, submission: FeedSubmission) -> bytes:
    """The feed for a submission, rebuilt identically whenever it is needed."""
    messages = submission.processing_summary["messages"]
    refunds = {r.id: r for r in session.scalars(
        sa.select(Refund).where(Refund.id.in_([int(v) for v in messages.values()]))
        .options(selectinload(Refund.lines)))}
    orders = dict(session.execute(sa.select(Order.id, Order.external_id).where(
        Order.id.in_({r.order_id for r in refunds.values()}))).all())
    line_ids = [ln.order_line_id for r in refunds.values() for ln in r.lines]
    codes = dict(session.execute(sa.select(OrderLine.id, OrderLine.external_item_id)
                                 .where(OrderLine.id.in_(line_ids))).all())
    batch = []
    for message_id, refund_id in sorted(messages.items(), key=lambda kv: int(kv[0])):
        refund = refunds[int(refund_id)]
        lines = tuple(feed_xml.FeedLine(codes[ln.order_line_id], ln.adjustment_item_id,
                                        {c["type"]: c["amount_minor"] for c in ln.components})
                      for ln in refund.lines)
        batch.append(feed_xml.FeedRefund(int(message_id), orders[refund.order_id],
                                         refund.currency, lines))
    return feed_xml.build(submission.seller_id, batch)


# --- moving a submission along ------------------------------------------------------------------

def advance(session: Session, connector: Connector, submission_id: int,
            now_func=utcnow) -> StepResult:
    """Take one submission as far as it can go now. Commits after every step."""
    while True:
        query = sa.select(FeedSubmission).where(FeedSubmission.id == submission_id)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        submission = session.scalar(query)
        if submission is None:
            session.rollback()
            return StepResult(submission_id, "busy")
        before = submission.status
        try:
            detail = _step(session, connector, submission, now_func())
        except Throttled as exc:
            session.commit()
            return StepResult(submission_id, submission.status, f"throttled: {exc.wait:.0f}s")
        session.commit()
        if submission.status == before or submission.status in ("done", "fatal", "cancelled"):
            return StepResult(submission_id, submission.status, detail)


def _step(session: Session, connector: Connector, sub: FeedSubmission, now: datetime) -> str:
    if sub.status == "building":
        sub.feed_document_id = connector.upload_feed(sub.marketplace_id,
                                                     build_document(session, sub))
        sub.status = "uploaded"
        return "uploaded"
    if sub.status == "creating":
        adopted = _adopt_feed(session, connector, sub)
        if adopted:
            _submitted(session, sub, adopted, now)
            return f"adopted feed {adopted}"
        sub.status = "uploaded"
        return "no feed was created; creating it now"
    if sub.status == "uploaded":
        return _create_feed(session, connector, sub, now)
    if sub.status == "submitted":
        return _poll(session, connector, sub, now)
    return sub.status


def _create_feed(session: Session, connector: Connector, sub: FeedSubmission,
                 now: datetime) -> str:
    # Committed before the call: if we never learn the answer, the next run looks first.
    sub.status = "creating"
    sub.last_polled_at = now
    session.commit()
    try:
        feed_id = connector.create_feed(sub.marketplace_id, sub.feed_document_id)
    except Throttled:
        sub.status = "uploaded"  # Amazon said no: nothing was created
        raise
    except AmazonError as exc:
        # A definite refusal: the document expired or was lost; upload it again.
        sub.status, sub.feed_document_id = "building", ""
        return f"createFeed refused: {exc.code} {exc.message}"
    connector.after_create_feed(feed_id)  # test hook: where a crash would hurt most
    _submitted(session, sub, feed_id, now)
    return f"feed {feed_id} created"


def _adopt_feed(session: Session, connector: Connector, sub: FeedSubmission) -> str | None:
    """The feed a crashed run created for this submission, if any: one created after we went
    to "creating" that no other submission of ours owns. Only one submission per seller and
    marketplace is ever in "creating" (the push job runs one at a time per pair)."""
    since = (sub.last_polled_at or sub.created_at) - timedelta(seconds=5)
    feeds = connector.recent_feeds(sub.marketplace_id, since)
    known = set(session.scalars(sa.select(FeedSubmission.feed_id).where(
        FeedSubmission.feed_id.in_([f["feedId"] for f in feeds]))))
    unknown = [f["feedId"] for f in feeds if f["feedId"] not in known]
    return unknown[-1] if len(unknown) == 1 else None


def _submitted(session: Session, sub: FeedSubmission, feed_id: str, now: datetime) -> None:
    sub.feed_id, sub.status, sub.submitted_at = feed_id, "submitted", now
    for refund in _refunds_of(session, sub):
        _move(refund, "submitted")
        refund.submitted_at = now
        session.add(RefundAttempt(refund_id=refund.id, attempted_at=now, outcome="submitted",
                                  feed_id=feed_id))


def _refunds_of(session: Session, sub: FeedSubmission) -> list[Refund]:
    return list(session.scalars(sa.select(Refund).where(Refund.feed_submission_id == sub.id)
                                .order_by(Refund.id)))


def _poll(session: Session, connector: Connector, sub: FeedSubmission, now: datetime) -> str:
    feed = connector.get_feed(sub.marketplace_id, sub.feed_id)
    sub.last_polled_at = now
    status = feed["processingStatus"]
    if status in ("IN_QUEUE", "IN_PROGRESS"):
        return status
    if status in ("CANCELLED", "FATAL"):
        _requeue(session, sub, status, now)
        return status
    report = feed_xml.parse_processing_report(
        connector.feed_result(sub.marketplace_id, feed["resultFeedDocumentId"]))
    _apply_report(session, connector, sub, report, now)
    return "done"


def _requeue(session: Session, sub: FeedSubmission, status: str, now: datetime) -> None:
    """Amazon processed nothing: the refunds go back in the queue for a fresh feed, up to
    RESUBMIT_LIMIT times."""
    sub.status, sub.completed_at = status.lower(), now
    for refund in _refunds_of(session, sub):
        session.add(RefundAttempt(refund_id=refund.id, attempted_at=now, outcome="failed",
                                  feed_id=sub.feed_id or "", detail={"feed_status": status}))
        session.flush()
        tries = session.scalar(sa.select(sa.func.count()).select_from(RefundAttempt).where(
            RefundAttempt.refund_id == refund.id, RefundAttempt.outcome == "failed"))
        if tries >= RESUBMIT_LIMIT:
            _fail(refund, "feed_" + status.lower(),
                  f"Amazon did not process {tries} feeds carrying this refund ({status}).")
        else:
            _move(refund, "queued")
            refund.feed_submission_id = None


def _fail(refund: Refund, code: str, message: str) -> None:
    _move(refund, "failed")
    refund.failure_code, refund.failure_message = code[:60], message[:1000]


def _apply_report(session: Session, connector: Connector, sub: FeedSubmission,
                  report: feed_xml.ProcessingResult, now: datetime) -> None:
    messages = sub.processing_summary.get("messages", {})
    sub.processing_summary = {"messages": messages, "processed": report.processed,
                              "successful": report.successful, "with_error": report.with_error,
                              "document_error": report.document_error}
    sub.status, sub.completed_at = "done", now
    refunds = {r.id: r for r in _refunds_of(session, sub)}
    for message_id, refund_id in messages.items():
        refund = refunds[int(refund_id)]
        errors = report.failed(int(message_id))
        if not errors:
            _move(refund, "succeeded")
            refund.succeeded_at = now
            session.add(RefundAttempt(refund_id=refund.id, attempted_at=now,
                                      outcome="succeeded", feed_id=sub.feed_id))
            continue
        detail = {"errors": [{"code": c, "description": d} for c, d in errors]}
        external = _amazon_refund_seen(session, connector, refund)
        if external:
            _move(refund, "amazon_refunded")
            refund.failure_code = "amazon_refunded"
            refund.failure_message = (f"Amazon refunded this order itself ({external}); its "
                                      "answer to our feed was: " + errors[0][1])[:1000]
        else:
            code, description = errors[0]
            _fail(refund, f"amazon_{code}", description)
            outbox.emit(session, "finance.journal",
                        {"refund_id": refund.id, "kind": "refund_reversal"},
                        dedupe_key=f"refund:{refund.id}:reversal:{sub.id}")
        session.add(RefundAttempt(refund_id=refund.id, attempted_at=now, outcome="failed",
                                  feed_id=sub.feed_id, detail=detail))


def _amazon_refund_seen(session: Session, connector: Connector, refund: Refund) -> str:
    """Ask Amazon's finances whether it refunded this order's items itself."""
    order_id = session.scalar(sa.select(Order.external_id).where(Order.id == refund.order_id))
    try:
        payload = connector.order_financial_events(refund.marketplace_id, order_id)
    except (Throttled, AmazonError):
        return ""  # unknown: treated as a plain failure HQ will look at
    events = payload.get("FinancialEvents", {})
    found = [(name, str(item.get("OrderItemId", "")), str(item.get("OrderAdjustmentItemId", "")))
             for name in AMAZON_REFUND_EVENTS for event in events.get(name, [])
             for item in event.get("ShipmentItemAdjustmentList", [])]
    return _external_refund(session, refund, found)


# --- the push job ------------------------------------------------------------------------------

def push(session: Session, connector_for, now_func=utcnow) -> list[StepResult]:
    """One run of the refund push: per seller and marketplace, carry every unfinished feed
    along, then batch the queued refunds into a new feed."""
    results = []
    for seller_id, marketplace_id in work_to_do(session):
        connector = connector_for(seller_id)
        open_ids = list(session.scalars(sa.select(FeedSubmission.id).where(
            FeedSubmission.seller_id == seller_id, FeedSubmission.marketplace_id ==
            marketplace_id, FeedSubmission.status.in_(("building", "uploaded", "creating",
                                                       "submitted")))
            .order_by(FeedSubmission.id)))
        for submission_id in open_ids:
            results.append(_guarded(session, connector, submission_id, now_func))
        while True:
            submission = claim_batch(session, seller_id, marketplace_id, now_func())
            session.commit()
            if submission is None:
                break
            result = _guarded(session, connector, submission.id, now_func)
            results.append(result)
            if result.status not in ("submitted", "done"):
                break  # throttled, refused or not processed: the next run carries on
    return results


def _guarded(session: Session, connector: Connector, submission_id: int,
             now_func) -> StepResult:
    try:
        result = advance(session, connector, submission_id, now_func)
    except AmazonError as exc:
        session.rollback()
        note_error(session, f"amazon-push:{connector.seller_id}", str(exc))
        session.commit()
        return StepResult(submission_id, "error", str(exc))
    note_success(session, f"amazon-push:{connector.seller_id}")
    session.commit()
    return result


def connector_status(session: Session, name: str) -> ConnectorStatus:
    """The health row of one connector task, created on first use."""
    status = session.get(ConnectorStatus, name)
    if status is None:
        status = ConnectorStatus(name=name, cursor={}, throttled_total=0, last_error="")
        session.add(status)
    return status


def note_success(session: Session, name: str) -> None:
    connector_status(session, name).last_success_at = utcnow()


def note_error(session: Session, name: str, error: str) -> None:
    status = connector_status(session, name)
    status.last_error_at, status.last_error = utcnow(), error[:1000]


def note_throttled(session: Session, name: str) -> None:
    connector_status(session, name).throttled_total += 1
