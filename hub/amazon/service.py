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
from hub.amazon import states as submission_states
from hub.amazon.accounts import AccountUnavailable
from hub.amazon.connector import AmazonError, AmazonUnsure, Connector, Throttled
from hub.amazon.models import (
    UNFINISHED,
    AmazonFeed,
    ConnectorStatus,
    FeedSubmission,
    SettlementLine,
)
from hub.audit.service import record
from hub.models import utcnow
from hub.orders.models import Order, OrderLine
from hub.outbox import service as outbox
from hub.refunds import actions
from hub.refunds.models import Refund, RefundAttempt, RefundLine

log = logging.getLogger(__name__)

AMAZON_CHANNELS = ("amazon-mfn", "amazon-business")
SOLD_BY_AMAZON = "vendor"  # Vendor Central orders: Amazon is the merchant of record
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
    if refund.channel == SOLD_BY_AMAZON:
        _move(refund, _sold_by_amazon(session, refund))
        return
    _move(refund, "queued" if refund.channel in AMAZON_CHANNELS else "manual")


def _sold_by_amazon(session: Session, refund: Refund) -> str:
    """An order Amazon sold itself: Amazon refunds its customer, so Homing pays nothing
    ("amazon_refunded") unless the policy the return was authorised under says, with a
    written reason, that the brand takes it back (then finance pays it: "manual")."""
    from hub.policy.document import vendor_takeback
    from hub.returns.models import ReturnAuthorization

    rma = session.get(ReturnAuthorization, refund.rma_id)
    reason = vendor_takeback(rma.policy_snapshot or {}) if rma is not None else None
    record(session, actions.CONNECTOR, "refund.sold_by_amazon", "refund", refund.id,
           after={"brand_takes_back": reason is not None, "reason": reason or ""})
    return "manual" if reason else "amazon_refunded"


def work_to_do(session: Session) -> list[tuple[str, str]]:
    """(seller, marketplace) pairs with queued refunds or unfinished feeds."""
    queued = sa.select(Refund.seller_id, Refund.marketplace_id).where(Refund.status == "queued")
    unfinished = sa.select(FeedSubmission.seller_id, FeedSubmission.marketplace_id).where(
        FeedSubmission.status.in_(UNFINISHED))
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
    # Each message's id is its refund's id: a processing report then names our refunds
    # itself, which is what proves whose a feed found at Amazon is.
    submission.processing_summary = {"messages": {str(r.id): r.id for r in refunds}}
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
        submission_states.move(sub, "uploaded")
        return "uploaded"
    if sub.status == "creating":
        return _settle_uncertain(session, connector, sub, now)
    if sub.status == "uploaded":
        return _create_feed(session, connector, sub, now)
    if sub.status == "submitted":
        return _poll(session, connector, sub, now)
    return sub.status


def _create_feed(session: Session, connector: Connector, sub: FeedSubmission,
                 now: datetime) -> str:
    if _uncertain_sibling(session, sub):
        _wait(sub, "another_uncertain", now)
        return "waiting: another feed of this seller and marketplace is still uncertain"
    # Committed before the call: if we never learn the answer, the next run looks first.
    submission_states.move(sub, "creating")
    sub.create_started_at, sub.create_attempts = now, sub.create_attempts + 1
    attempt = sub.create_attempts
    _wait(sub, "", now)
    try:
        session.commit()
    except sa.exc.IntegrityError:  # another run made its own submission uncertain first
        session.rollback()
        return "waiting: another feed of this seller and marketplace is still uncertain"
    try:
        feed_id = connector.create_feed(sub.marketplace_id, sub.feed_document_id)
    except Throttled:
        submission_states.move(sub, "uploaded")  # Amazon said no: nothing was created
        raise
    except AmazonUnsure as exc:
        # Not a refusal: Amazon may have created the feed. Nothing is sent again until its
        # own list and reports say what happened.
        _wait(sub, "unsure_answer", now)
        return f"createFeed answer unknown ({exc}); looking for the feed first"
    except AmazonError as exc:
        # A definite refusal: the document expired or was lost; upload it again.
        submission_states.move(sub, "building")
        sub.feed_document_id = ""
        return f"createFeed refused: {exc.code} {exc.message}"
    connector.after_create_feed(feed_id)  # test hook: where a crash would hurt most
    session.refresh(sub, with_for_update=_locks(session))
    _know_feed(session, sub, feed_id, "answer", "IN_QUEUE")
    if sub.status != "creating" or sub.create_attempts != attempt:
        # Answered after another run had moved this submission on: Amazon holds a feed the
        # submission did not expect. Kept and shown, never silently ignored.
        log.error("feed %s answered late for submission %s (now %s)", feed_id, sub.id,
                  sub.status)
        return f"late answer: feed {feed_id}"
    _submitted(session, sub, feed_id, now)
    return f"feed {feed_id} created"


def _locks(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _uncertain_sibling(session: Session, sub: FeedSubmission) -> bool:
    return session.scalar(sa.select(sa.func.count()).select_from(FeedSubmission).where(
        FeedSubmission.seller_id == sub.seller_id,
        FeedSubmission.marketplace_id == sub.marketplace_id,
        FeedSubmission.status == "creating", FeedSubmission.id != sub.id)) > 0


def _wait(sub: FeedSubmission, reason: str, now: datetime) -> None:
    """Say why the submission waits (HQ shows it); "" when it no longer does."""
    if reason != sub.waiting_reason:
        sub.waiting_reason, sub.waiting_since = reason, (now if reason else None)


def _settle_uncertain(session: Session, connector: Connector, sub: FeedSubmission,
                      now: datetime) -> str:
    """createFeed may have reached Amazon and we do not know the feed. Every feed Amazon lists
    from around the call on is found and carried to its processing report; a report carrying
    exactly this submission's messages makes the feed ours. Only when Amazon's list, read
    after the settle time, holds no candidate is the feed created (again)."""
    started = sub.create_started_at or sub.created_at
    listed = connector.recent_feeds(sub.marketplace_id, started - LIST_MARGIN)
    for info in listed:
        _know_feed(session, sub, str(info["feedId"]), "pending", info.get("processingStatus", ""),
                   created=_amazon_time(info.get("createdTime")))
    session.flush()
    reports = {}
    for feed in _pending_feeds(session, sub):
        # A feed Amazon made before our call cannot be ours, whatever its report says.
        ours_possible = feed.amazon_created_at is None or feed.amazon_created_at >= \
            started - LIST_MARGIN
        reports[feed.feed_id] = _examine(session, connector, feed,
                                         sub if ours_possible else None)
    mine = [f for f in _feeds_of(session, sub) if f.origin == "report"]
    if mine:
        if len(mine) > 1:
            log.error("submission %s has %d processed feeds at Amazon: %s", sub.id, len(mine),
                      [f.feed_id for f in mine])
        feed = mine[0]
        report = reports.get(feed.feed_id) or _report_from(feed)
        _submitted(session, sub, feed.feed_id, now)
        _apply_report(session, connector, sub, report, now)
        return f"feed {feed.feed_id} found and proven ours by its report"
    if any(f.origin == "pending" for f in _pending_feeds(session, sub)):
        _wait(sub, "candidate_processing", now)
        return "a feed that may be this batch's is still processing at Amazon"
    if now < started + timedelta(seconds=connector.feed_settle_seconds):
        _wait(sub, "listing_settling", now)
        return "Amazon lists no feed yet; asking again once its list has settled"
    refunded = _refunded_elsewhere(session, sub)
    if refunded and 2 * len(refunded) >= len(_refunds_of(session, sub)):
        # The second witness disagrees with the list: money moved on most of these orders
        # and none of our known refunds explains it, as if our feed was applied after all.
        # Sending again could pay twice; HQ decides.
        _wait(sub, "finance_shows_refund", now)
        return "Amazon's finances show refunds on these orders that Homing cannot explain"
    if refunded:
        # Only a few orders show a refund: a processed feed of ours would have refunded all
        # of its messages together, so these are Amazon's own (A-to-z, auto-refunds). They
        # leave the batch (the next claim sets them aside as Amazon's); the rest go again.
        return _without(session, sub, refunded, now)
    submission_states.move(sub, "uploaded")
    _wait(sub, "", now)
    return "Amazon lists no feed created since the call: creating it now"


def _refunded_elsewhere(session: Session, sub: FeedSubmission) -> list[Refund]:
    """The submission's refunds whose orders show a refund in Amazon's financial events that
    none of our known refunds explains."""
    refunds = _refunds_of(session, sub)
    seen = _amazon_events_by_order(session, refunds)
    return [r for r in refunds
            if r.order_id in seen and _external_refund(session, r, seen[r.order_id])]


def _without(session: Session, sub: FeedSubmission, refunded: list[Refund],
             now: datetime) -> str:
    """Take these refunds out of an uncertain submission that Amazon never received, and
    build its feed again for the rest: they go back to the queue, where the next claim sees
    Amazon's refund and sets them aside instead of sending them."""
    # A new dict, not the stored one changed in place (which the ORM would not see).
    messages = dict(sub.processing_summary["messages"])
    for refund in refunded:
        _move(refund, "queued")
        refund.feed_submission_id = None
        messages.pop(str(refund.id), None)
    sub.processing_summary = {**sub.processing_summary, "messages": messages}
    sub.message_count = len(messages)
    sub.feed_document_id = ""
    submission_states.move(sub, "building")
    _wait(sub, "", now)
    return (f"Amazon lists no feed created since the call; {len(refunded)} of its orders were "
            "refunded by Amazon itself and leave the batch; building it again for the rest")


# Feeds listed this long before our call are looked at too (clocks differ a little).
LIST_MARGIN = timedelta(minutes=5)


def _know_feed(session: Session, sub: FeedSubmission, feed_id: str, origin: str, status: str,
               created: datetime | None = None) -> AmazonFeed:
    """The feed in our register of Amazon's feeds (added if new; an answer makes it ours)."""
    feed = _register(session, sub.seller_id, sub.marketplace_id, feed_id, origin, status,
                     created)
    if origin == "answer":
        feed.origin, feed.submission_id = "answer", sub.id
    return feed


def _register(session: Session, seller_id: str, marketplace_id: str, feed_id: str,
              origin: str, status: str, created: datetime | None) -> AmazonFeed:
    feed = session.scalar(sa.select(AmazonFeed).where(AmazonFeed.feed_id == feed_id))
    if feed is None:
        feed = AmazonFeed(feed_id=feed_id, seller_id=seller_id, marketplace_id=marketplace_id,
                          origin=origin, processing_status=status, amazon_created_at=created,
                          evidence={})
        session.add(feed)
    return feed


def _pending_feeds(session: Session, sub: FeedSubmission) -> list[AmazonFeed]:
    return _pending(session, sub.seller_id, sub.marketplace_id)


def _pending(session: Session, seller_id: str, marketplace_id: str) -> list[AmazonFeed]:
    return list(session.scalars(sa.select(AmazonFeed).where(
        AmazonFeed.seller_id == seller_id, AmazonFeed.marketplace_id == marketplace_id,
        AmazonFeed.origin == "pending").order_by(AmazonFeed.id)))


def _feeds_of(session: Session, sub: FeedSubmission) -> list[AmazonFeed]:
    return list(session.scalars(sa.select(AmazonFeed).where(AmazonFeed.submission_id == sub.id)
                                .order_by(AmazonFeed.id)))


def _examine(session: Session, connector: Connector, feed: AmazonFeed,
             sub: FeedSubmission | None) -> feed_xml.ProcessingResult | None:
    """Carry a found feed as far as Amazon has: still processing, void (applied nothing),
    this submission's (its report carries exactly our messages) or someone else's."""
    info = connector.get_feed(feed.marketplace_id, feed.feed_id)
    feed.processing_status = info["processingStatus"]
    if feed.processing_status in ("IN_QUEUE", "IN_PROGRESS"):
        return None
    if feed.processing_status in ("CANCELLED", "FATAL"):
        feed.origin = "void"
        return None
    report = feed_xml.parse_processing_report(
        connector.feed_result(feed.marketplace_id, info["resultFeedDocumentId"]))
    feed.evidence = {"processed": report.processed, "successful": report.successful,
                     "with_error": report.with_error, "document_error": report.document_error,
                     "errors": {str(k): v for k, v in report.errors.items()}}
    if report.document_error and report.successful == 0:
        feed.origin = "void"
    elif sub is not None and _carries(report, sub):
        feed.origin, feed.submission_id = "report", sub.id
    else:
        feed.origin = "foreign"
        log.warning("feed %s at Amazon is not one of Homing's submissions", feed.feed_id)
    return report


def _carries(report: feed_xml.ProcessingResult, sub: FeedSubmission) -> bool:
    """The report is of this submission's feed: as many messages, every one it names ours
    (our message ids are refund ids, never reused across refunds)."""
    ours = set(sub.processing_summary.get("messages", {}))
    return report.processed == sub.message_count and {str(m) for m in report.errors} <= ours


def _report_from(feed: AmazonFeed) -> feed_xml.ProcessingResult:
    evidence = feed.evidence
    return feed_xml.ProcessingResult(
        processed=evidence.get("processed", 0), successful=evidence.get("successful", 0),
        with_error=evidence.get("with_error", 0),
        document_error=evidence.get("document_error", ""),
        errors={int(k): [tuple(e) for e in v] for k, v in evidence.get("errors", {}).items()})


def _amazon_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _submitted(session: Session, sub: FeedSubmission, feed_id: str, now: datetime) -> None:
    submission_states.move(sub, "submitted")
    sub.feed_id, sub.submitted_at = feed_id, now
    _wait(sub, "", now)
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
    session.execute(sa.update(AmazonFeed).where(AmazonFeed.feed_id == sub.feed_id)
                    .values(processing_status=status))
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
    submission_states.move(sub, status.lower())
    sub.completed_at = now
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
    submission_states.move(sub, "done")
    sub.completed_at = now
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


# --- the register of Amazon's feeds -------------------------------------------------------------

AUDIT_EVERY = timedelta(minutes=10)
AUDIT_LOOK_BACK = timedelta(days=2)


def audit_feeds(session: Session, connector: Connector, seller_id: str, marketplace_id: str,
                now: datetime) -> int:
    """Every adjustment feed Amazon lists for this seller and marketplace is one Homing knows.
    A stranger is registered and carried to its report: it is shown in HQ as foreign unless
    an uncertain submission proves it its own. Returns how many strangers were found."""
    status = connector_status(session, f"amazon-feed-audit:{seller_id}:{marketplace_id}")
    last = _amazon_time((status.cursor or {}).get("checked_at"))
    if last is not None and now - last < AUDIT_EVERY:
        return 0
    since = last - LIST_MARGIN if last is not None else now - AUDIT_LOOK_BACK
    listed = connector.recent_feeds(marketplace_id, since)
    known = set(session.scalars(sa.select(AmazonFeed.feed_id).where(
        AmazonFeed.feed_id.in_([str(f["feedId"]) for f in listed]))))
    strangers = [f for f in listed if str(f["feedId"]) not in known]
    for info in strangers:
        _register(session, seller_id, marketplace_id, str(info["feedId"]), "pending",
                  info.get("processingStatus", ""), _amazon_time(info.get("createdTime")))
    session.flush()
    uncertain = session.scalar(sa.select(sa.func.count()).select_from(FeedSubmission).where(
        FeedSubmission.seller_id == seller_id, FeedSubmission.marketplace_id == marketplace_id,
        FeedSubmission.status == "creating"))
    if not uncertain:  # else the uncertain submission examines them against its messages
        for feed in _pending(session, seller_id, marketplace_id):
            _examine(session, connector, feed, None)
    status.cursor = {**(status.cursor or {}), "checked_at": now.isoformat()}
    return len(strangers)


# --- the push job ------------------------------------------------------------------------------

def push(session: Session, connector_for, now_func=utcnow) -> list[StepResult]:
    """One run of the refund push: per seller and marketplace, carry every unfinished feed
    along, then batch the queued refunds into new feeds, unless a feed of that pair is still
    uncertain or stuck before Amazon has it (its refunds' fate comes first)."""
    results = []
    for seller_id, marketplace_id in work_to_do(session):
        try:
            connector = connector_for(seller_id)
        except AccountUnavailable as exc:
            # Only this account stops: its refunds stay queued (nothing was sent), its feeds
            # wait where they are, and HQ says why (hub.amazon.accounts).
            results.append(StepResult(0, "account_unavailable", str(exc)))
            continue
        open_ids = _unfinished(session, seller_id, marketplace_id)
        for submission_id in open_ids:
            results.append(_guarded(session, connector, submission_id, now_func))
        _audited(session, connector, seller_id, marketplace_id, now_func())
        if session.scalar(sa.select(sa.func.count()).select_from(FeedSubmission).where(
                FeedSubmission.id.in_(open_ids),
                FeedSubmission.status.in_(("building", "uploaded", "creating")))):
            session.commit()
            continue
        while True:
            submission = claim_batch(session, seller_id, marketplace_id, now_func())
            session.commit()
            if submission is None:
                break
            result = _guarded(session, connector, submission.id, now_func)
            results.append(result)
            if result.status not in ("submitted", "done"):
                break  # throttled, refused, uncertain or not processed: the next run carries on
    return results


def _audited(session: Session, connector: Connector, seller_id: str, marketplace_id: str,
             now: datetime) -> None:
    """The feed audit, in its own commit; Amazon failing it holds nothing else up."""
    try:
        audit_feeds(session, connector, seller_id, marketplace_id, now)
        session.commit()
    except (AmazonError, Throttled) as exc:
        session.rollback()
        log.info("feed audit for %s/%s skipped: %s", seller_id, marketplace_id, exc)


def _unfinished(session: Session, seller_id: str, marketplace_id: str) -> list[int]:
    return list(session.scalars(sa.select(FeedSubmission.id).where(
        FeedSubmission.seller_id == seller_id, FeedSubmission.marketplace_id == marketplace_id,
        FeedSubmission.status.in_(UNFINISHED)).order_by(FeedSubmission.id)))


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
