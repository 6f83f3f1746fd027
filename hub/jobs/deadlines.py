"""Owners and deadlines: nothing waits forever.

Every non-terminal state of the machinery has one owner (the job that moves it on) and a
deadline. Where the owner can act on the deadline itself it does (the relay's sweep); past the
"overdue after" time the item is listed in HQ's "Overdue" queue with its history and goes out
once in the alert e-mail (``hub.notify.alerts``). Times count from when the item entered the
state (the column named); the owners run every few seconds, so an item past its deadline
means the owner is not running or cannot get through, never that it is merely busy.

Outbox messages (owner: the outbox relay, ``hub.jobs.tasks.relay_outbox``, RQ cron every
5 s; in the demo the in-process runner drains every 2 s):
  pending   since next_attempt_at   overdue after 5 min
  failed    since next_attempt_at   overdue after 5 min (retried after the back-off, 10 s to
            1 h; dead after 8 attempts: HQ's dead letters)
  enqueued  since enqueued_at       owner the RQ worker (deliver_outbox_messages). Its job
            failed in RQ (exception, work-horse killed, abandoned by a dead worker): back in
            line at the next relay; no queued or running job carries it after 10 min: back in
            line; overdue after 15 min
RQ jobs (owner: the RQ workers; RQ kills a job after its 180 s timeout and fails the jobs of
dead workers):
  queued    since the oldest job's enqueued_at, overdue after 10 min waiting
  failed    outbox deliveries: taken back by the relay (above); other jobs are listed at once
  periodic  (run_periodic, per job) since its last success: overdue after 3 periods, at least
            15 min
Push lock (owner: the push run holding it): a 60 s lease renewed every 20 s; a dead holder's
lease lapses within 60 s.
Refunds (owner: amazon-push-refunds, every 20 s; pending: the outbox's refund.submit):
  pending     since updated_at    overdue after 30 min
  queued      since updated_at    overdue after 2 h (createFeed: about one per 2 min, 1,000
              refunds per feed)
  submitting  since updated_at    overdue after 1 h
  submitted   since submitted_at  overdue after 4 h
Feed submissions (owner: amazon-push-refunds):
  building    since created_at      overdue after 30 min
  uploaded    since created_at      overdue after 1 h
  creating    since create_started_at  overdue after 30 min (shown with its waiting_reason)
  submitted   since submitted_at    overdue after 4 h, or when not polled for 15 min
  any other   since last_polled_at or created_at, overdue after 1 h
Amazon accounts (owner: amazon-check-accounts, every 5 min; hub.amazon.accounts):
  missing      credentials not readable     overdue at once (a person must set them)
  refused      LWA refused them             overdue at once (re-authorise the app)
  unreachable  since health_since           overdue after 30 min
  Only the account's own jobs stop; its refunds stay queued.

Approval requests (owner: the tier the policy names, hub.policy.approvals — a supervisor
of the store on any of its tablets, or HQ's approval queue):
  pending     since requested_at   overdue at due_at (approvals.wait_minutes per tier:
              supervisor 30 min, HQ 4 h, finance 8 h by default)
Counter visits (owner: close-counter-visits, every 5 min):
  open        since started_at     closed by the sweep once 1 h old and every return done;
              overdue after 2 h (a return of the visit still with the clerk)
VAT credit notes (owner: vat-credit-notes, every 30 s): issued 30 min, uploading 30 min,
unsure 1 h, submitted 4 h (hub.creditnotes.upload); accepted and superseded are terminal,
rejected waits for a person in HQ's credit notes.
Store credit (owner: credits-expire, hourly, ``hub.credits.journal``):
  active      until its expires_at (the policy's expiry_days); then expired by the job, what
              was left written back in the journal. Spent and expired are terminal.

Terminal: outbox delivered and dead (dead letters wait for a person in HQ), refunds
Returns credit notes (owner: vendor-credit-notes, every 15 s; draft: the outbox's
vendor.credit_note; unsure: a person in HQ, after a look in Vendor Central), since updated_at:
  draft 30 min, queued 1 h, submitting 30 min (the job itself calls one left for 10 min
  "unsure"), submitted 4 h, unsure 4 h
Terminal: credit notes accepted, rejected (waiting in HQ to be corrected), superseded;
outbox delivered and dead (dead letters wait for a person in HQ), refunds
succeeded, failed, amazon_refunded, manual, settled (failed ones wait in HQ's "refunds failed"),
feed submissions done, fatal, cancelled. Amazon's own refund deadline (two business days) is
HQ's "near deadline" queue and ``hub.refunds.sla``, not this table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.text import N_

# The relay's sweep takes back an enqueued message no live job carries after this long.
ENQUEUED_SWEEP_AFTER = timedelta(minutes=10)

OUTBOX_LIMITS = {"pending": timedelta(minutes=5), "failed": timedelta(minutes=5),
                 "enqueued": timedelta(minutes=15)}
RQ_WAITING_LIMIT = timedelta(minutes=10)
PERIODIC_MIN_LIMIT = timedelta(minutes=15)
REFUND_LIMITS = {"pending": timedelta(minutes=30), "queued": timedelta(hours=2),
                 "submitting": timedelta(hours=1), "submitted": timedelta(hours=4)}
FEED_LIMITS = {"building": timedelta(minutes=30), "uploaded": timedelta(hours=1),
               "creating": timedelta(minutes=30), "submitted": timedelta(hours=4)}
# Returns credit notes to Amazon (hub.vendor.jobs); "unsure" waits for a person in HQ.
VENDOR_NOTE_LIMITS = {"draft": timedelta(minutes=30), "queued": timedelta(hours=1),
                      "submitting": timedelta(minutes=30), "submitted": timedelta(hours=4),
                      "unsure": timedelta(hours=4)}
FEED_OTHER_LIMIT = timedelta(hours=1)
FEED_POLL_LIMIT = timedelta(minutes=15)
FEED_TERMINAL = ("done", "fatal", "cancelled")
VISIT_LIMIT = timedelta(hours=2)
ROUTINE_FUNCS = ("hub.jobs.tasks.relay_outbox", "hub.jobs.tasks.run_periodic")

CREDIT_NOTE_LIMITS = {"issued": timedelta(minutes=30), "uploading": timedelta(minutes=30),
                      "unsure": timedelta(hours=1), "submitted": timedelta(hours=4)}

OWNERS = {
    "credit_note": "vat-credit-notes",
    "outbox": "outbox relay",
    "refund.pending": "outbox (refund.submit)",
    "refund": "amazon-push-refunds",
    "feed_submission": "amazon-push-refunds",
    "vendor_credit_note.draft": "outbox (vendor.credit_note)",
    "vendor_credit_note": "vendor-credit-notes",
    "vendor_credit_note.unsure": "HQ: a check in Vendor Central",
    "amazon_account": "amazon-check-accounts",
}

PAST_DEADLINE = N_("In “%(state)s” for %(minutes)s min; the deadline is %(limit)s min.")
NOT_POLLED = N_("Amazon's feed was last asked about %(minutes)s min ago.")
RQ_WAITING = N_("The oldest job in RQ queue “%(queue)s” has waited %(minutes)s min.")
RQ_FAILED = N_("The job failed in RQ: %(error)s")
PERIODIC_LATE = N_("No successful run for %(minutes)s min (it runs every %(every)s s).")
APPROVAL_LATE = N_("Waiting %(minutes)s min for %(role)s to approve; due after %(limit)s min.")
REDIS_DOWN = N_("Redis does not answer (%(error)s): no job runs.")
# The push's codes for why a feed submission waits (FeedSubmission.waiting_reason).
WAITING_REASONS = {
    "another_uncertain": N_("Another feed of this seller and marketplace is still uncertain."),
    "unsure_answer": N_("Amazon's answer to createFeed was lost or unclear."),
    "candidate_processing": N_("A feed that may be this one is still being processed."),
    "listing_settling": N_("Waiting for Amazon's list of feeds to settle."),
    "finance_shows_refund": N_("Amazon's finances show a refund; waiting for its feed."),
}


@dataclass(frozen=True)
class Overdue:
    """One thing past its deadline, with its history (attempts, last error)."""

    kind: str  # outbox | refund | feed_submission | rq_queue | rq_job | periodic_job | redis
    # | amazon_account
    ref: str  # the id within its kind
    state: str
    since: datetime
    deadline: datetime
    owner: str
    reason: str  # an English template (N_) ...
    params: dict = field(default_factory=dict)  # ... and its parameters
    attempts: int | None = None
    last_error: str = ""
    waiting_reason: str = ""
    topic: str = ""

    @property
    def key(self) -> str:
        """Names the item in this state: the alert goes out once per key (while the item
        stays overdue; one that leaves the list and comes back is alerted again)."""
        return f"{self.kind}:{self.ref}:{self.state}"


def _minutes(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds() // 60))


def _past(kind, ref, state, since, limit, now, owner, **extra) -> Overdue | None:
    if since is None or since + limit > now:
        return None
    return Overdue(kind, str(ref), state, since, since + limit, owner, PAST_DEADLINE,
                   {"state": state, "minutes": _minutes(now - since),
                    "limit": _minutes(limit)}, **extra)


def overdue_outbox(session: Session, now: datetime, limit: int) -> list[Overdue]:
    from hub.outbox.models import OutboxMessage

    conditions = [sa.and_(OutboxMessage.status == "enqueued",
                          OutboxMessage.enqueued_at <= now - OUTBOX_LIMITS["enqueued"])]
    conditions += [sa.and_(OutboxMessage.status == status,
                           OutboxMessage.next_attempt_at <= now - OUTBOX_LIMITS[status])
                   for status in ("pending", "failed")]
    rows = session.scalars(sa.select(OutboxMessage).where(sa.or_(*conditions))
                           .order_by(OutboxMessage.id).limit(limit))
    items = []
    for m in rows:
        since = m.enqueued_at if m.status == "enqueued" else m.next_attempt_at
        item = _past("outbox", m.id, m.status, since, OUTBOX_LIMITS[m.status], now,
                     OWNERS["outbox"], attempts=m.attempts, last_error=m.last_error,
                     topic=m.topic)
        if item:
            items.append(item)
    return items


def overdue_refunds(session: Session, now: datetime, limit: int) -> list[Overdue]:
    from hub.refunds.models import Refund, RefundAttempt

    since_col = sa.case((Refund.status == "submitted",
                         sa.func.coalesce(Refund.submitted_at, Refund.updated_at)),
                        else_=Refund.updated_at)
    conditions = [sa.and_(Refund.status == status, since_col <= now - span)
                  for status, span in REFUND_LIMITS.items()]
    refunds = list(session.scalars(sa.select(Refund).where(sa.or_(*conditions))
                                   .order_by(Refund.id).limit(limit)))
    counts = dict(session.execute(
        sa.select(RefundAttempt.refund_id, sa.func.count()).where(
            RefundAttempt.refund_id.in_([r.id for r in refunds]))
        .group_by(RefundAttempt.refund_id)).all()) if refunds else {}
    items = []
    for r in refunds:
        since = (r.submitted_at or r.updated_at) if r.status == "submitted" else r.updated_at
        owner = OWNERS["refund.pending"] if r.status == "pending" else OWNERS["refund"]
        item = _past("refund", r.id, r.status, since, REFUND_LIMITS[r.status], now, owner,
                     attempts=counts.get(r.id, 0),
                     last_error=" ".join(filter(None, (r.failure_code, r.failure_message))))
        if item:
            items.append(item)
    return items




def overdue_approvals(session: Session, now: datetime, limit: int) -> list[Overdue]:
    from hub.counter.models import ApprovalRequest

    rows = session.scalars(sa.select(ApprovalRequest).where(
        ApprovalRequest.status == "pending", ApprovalRequest.due_at <= now)
        .order_by(ApprovalRequest.due_at).limit(limit))
    return [Overdue("approval_request", str(r.id), r.status, r.requested_at, r.due_at,
                    r.role, APPROVAL_LATE,
                    {"minutes": _minutes(now - r.requested_at), "role": r.role,
                     "limit": _minutes(r.due_at - r.requested_at)}) for r in rows]


def overdue_visits(session: Session, now: datetime, limit: int) -> list[Overdue]:
    from hub.counter.models import CounterVisit

    rows = session.scalars(sa.select(CounterVisit).where(
        CounterVisit.status == "open", CounterVisit.started_at <= now - VISIT_LIMIT)
        .order_by(CounterVisit.id).limit(limit))
    return [item for v in rows if (item := _past("counter_visit", v.id, v.status, v.started_at,
                                                 VISIT_LIMIT, now, "close-counter-visits"))]


def overdue_vendor_credit_notes(session: Session, now: datetime, limit: int
                                ) -> list[Overdue]:
    from hub.vendor.models import VendorCreditNote

    notes = session.scalars(sa.select(VendorCreditNote).where(sa.or_(*[
        sa.and_(VendorCreditNote.status == status, VendorCreditNote.updated_at <= now - span)
        for status, span in VENDOR_NOTE_LIMITS.items()])).order_by(VendorCreditNote.id)
        .limit(limit))
    items = []
    for note in notes:
        owner = OWNERS.get(f"vendor_credit_note.{note.status}", OWNERS["vendor_credit_note"])
        item = _past("vendor_credit_note", note.number, note.status, note.updated_at,
                     VENDOR_NOTE_LIMITS[note.status], now, owner, attempts=note.attempts,
                     last_error=" ".join(f"{e.get('code', '')} {e.get('message', '')}"
                                         for e in note.amazon_errors or []))
        if item:
            items.append(item)
    return items


def overdue_feed_submissions(session: Session, now: datetime, limit: int) -> list[Overdue]:
    """Read from the table as it is: status and its timestamps (and the waiting reason the
    push may record)."""
    from hub.amazon.models import FeedSubmission

    oldest = now - min((*FEED_LIMITS.values(), FEED_OTHER_LIMIT, FEED_POLL_LIMIT))
    rows = session.scalars(sa.select(FeedSubmission).where(
        FeedSubmission.status.not_in(FEED_TERMINAL), FeedSubmission.created_at <= oldest)
        .order_by(FeedSubmission.id).limit(limit))
    items = []
    for sub in rows:
        item = _feed_item(sub, now)
        if item:
            items.append(item)
    return items


def _feed_item(sub, now: datetime) -> Overdue | None:
    status = sub.status
    since = {"building": sub.created_at, "uploaded": sub.created_at,
             "creating": (getattr(sub, "create_started_at", None) or sub.last_polled_at
                          or sub.created_at),
             "submitted": sub.submitted_at or sub.created_at}.get(
        status, sub.last_polled_at or sub.created_at)
    # Columns the push may add (waiting_reason, attempts, last_error) are shown when present.
    summary = sub.processing_summary or {}
    extra = {"attempts": getattr(sub, "create_attempts", None),
             "last_error": str(getattr(sub, "last_error", "") or summary.get("document_error")
                               or ""),
             "waiting_reason": str(getattr(sub, "waiting_reason", "") or "")}
    item = _past("feed_submission", sub.id, status, since, FEED_LIMITS.get(
        status, FEED_OTHER_LIMIT), now, OWNERS["feed_submission"], **extra)
    if item or status != "submitted":
        return item
    polled = sub.last_polled_at or since
    if polled + FEED_POLL_LIMIT > now:
        return None
    return Overdue("feed_submission", str(sub.id), status, since, polled + FEED_POLL_LIMIT,
                   OWNERS["feed_submission"], NOT_POLLED,
                   {"minutes": _minutes(now - polled)}, **extra)


def overdue_periodic(session: Session, now: datetime) -> list[Overdue]:
    from hub.amazon.models import ConnectorStatus
    from hub.jobs.runner import PERIODIC

    every = {f"job:{name}": seconds for name, seconds, _func in PERIODIC}
    items = []
    for row in session.scalars(sa.select(ConnectorStatus).where(
            ConnectorStatus.name.in_(sorted(every)))):
        if row.paused or row.last_success_at is None:
            continue
        period = every[row.name]
        span = max(timedelta(seconds=3 * period), PERIODIC_MIN_LIMIT)
        if row.last_success_at + span > now:
            continue
        items.append(Overdue("periodic_job", row.name.removeprefix("job:"), "late",
                             row.last_success_at, row.last_success_at + span, "RQ cron",
                             PERIODIC_LATE, {"minutes": _minutes(now - row.last_success_at),
                                             "every": int(period)},
                             last_error=row.last_error or ""))
    return items


def overdue_rq(conn, now: datetime) -> list[Overdue]:
    """What Redis shows: a queue whose oldest job waits too long, a failed job nobody takes
    back (outbox deliveries are the relay's; other jobs are listed), Redis not answering."""
    from redis.exceptions import RedisError
    from rq import Queue
    from rq.job import Job
    from rq.registry import FailedJobRegistry

    from hub.jobs.queue import QUEUES
    from hub.jobs.tasks import DELIVER_FUNC, _aware, _failure

    items = []
    try:
        for name in QUEUES:
            queue = Queue(name, connection=conn)
            first = queue.get_job_ids(0, 1)
            job = Job.fetch_many(first, connection=conn)[0] if first else None
            since = _aware(job.enqueued_at) if job is not None else None
            if since is not None and since + RQ_WAITING_LIMIT <= now:
                items.append(Overdue("rq_queue", name, "waiting", since,
                                     since + RQ_WAITING_LIMIT, "RQ worker", RQ_WAITING,
                                     {"queue": name, "minutes": _minutes(now - since)},
                                     attempts=queue.count))
            failed = FailedJobRegistry(name, connection=conn).get_job_ids(0, 49)
            for job in Job.fetch_many(failed, connection=conn):
                # Deliveries are the relay's to take back; the relay and the periodic jobs run
                # again in seconds and show as late messages and jobs when they keep failing.
                if job is None or job.func_name in (DELIVER_FUNC, *ROUTINE_FUNCS):
                    continue
                since = _aware(job.ended_at or job.enqueued_at) or now
                error = _failure(job)
                items.append(Overdue("rq_job", job.id, "failed", since, since, "RQ worker",
                                     RQ_FAILED, {"error": error}, last_error=error))
    except RedisError as exc:
        items.append(Overdue("redis", "redis", "unreachable", now, now, "operations",
                             REDIS_DOWN, {"error": type(exc).__name__}))
    return items


def overdue_credit_notes(session: Session, now: datetime, limit: int) -> list[Overdue]:
    """VAT credit notes (owner: vat-credit-notes, every 30 s): issued since created_at,
    uploading and unsure since upload_started_at, submitted since submitted_at."""
    from hub.creditnotes.models import CreditNote

    rows = session.scalars(sa.select(CreditNote).where(
        CreditNote.status.in_(tuple(CREDIT_NOTE_LIMITS)),
        CreditNote.created_at <= now - min(CREDIT_NOTE_LIMITS.values()))
        .order_by(CreditNote.id).limit(limit))
    items = []
    for note in rows:
        since = {"issued": note.created_at, "submitted": note.submitted_at}.get(
            note.status, note.upload_started_at) or note.created_at
        item = _past("credit_note", note.number, note.status, since,
                     CREDIT_NOTE_LIMITS[note.status], now, OWNERS["credit_note"],
                     attempts=note.attempts, last_error=note.rejection_reason)
        if item:
            items.append(item)
    return items
def overdue_accounts(session: Session, now: datetime) -> list[Overdue]:
    """Amazon accounts whose credentials are missing or refused (at once), or whose sign-in
    has not answered for 30 min (owner: amazon-check-accounts, every 5 min)."""
    from hub.amazon.accounts import overdue_accounts as accounts_down

    return accounts_down(session, now)


def overdue(session: Session, now: datetime, *, redis=None, limit: int = 200) -> list[Overdue]:
    """Everything past its deadline, oldest deadline first."""
    from hub.jobs.runner import load_periodic_jobs

    load_periodic_jobs()  # the periodic jobs' names and periods
    items = [*overdue_outbox(session, now, limit), *overdue_refunds(session, now, limit),
             *overdue_feed_submissions(session, now, limit), *overdue_periodic(session, now),
             *overdue_approvals(session, now, limit), *overdue_visits(session, now, limit),
             *overdue_credit_notes(session, now, limit),
             *overdue_vendor_credit_notes(session, now, limit),
             *overdue_accounts(session, now)]
    if redis is not None:
        items += overdue_rq(redis, now)
    return sorted(items, key=lambda item: item.deadline)
