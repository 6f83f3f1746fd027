"""RQ job functions. Each runs in the worker's app context and is its own unit of work.

The outbox relay hands due messages to RQ and is also their safety net (see
``hub.jobs.deadlines`` for who owns which state until when): every hand-over gets a job id
of its own, a message is marked ``enqueued`` only once RQ holds its job, and a message RQ
will never deliver (its job failed, its work-horse was killed, or the job vanished with
Redis) is put back in line."""

from __future__ import annotations

import logging
import re
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app
from redis.exceptions import RedisError

from hub.extensions import db
from hub.jobs.deadlines import ENQUEUED_SWEEP_AFTER
from hub.models import utcnow
from hub.outbox import service as outbox
from hub.outbox import states as outbox_states
from hub.outbox.models import OutboxMessage

log = logging.getLogger(__name__)

BATCH = 50  # messages per RQ job: a forked work-horse per message would cost more than most
QUEUE = "default"
DELIVER_FUNC = "hub.jobs.tasks.deliver_outbox_messages"
# RQ keeps a failed job this long; the relay reads (and removes) ours well before.
FAILED_JOB_TTL = 24 * 3600
FAILED_JOBS_PER_RUN = 100


def deliver_outbox_message(message_id: int) -> str:
    message = db.session.get(OutboxMessage, message_id, with_for_update=True)
    if message is None or message.status in ("delivered", "dead"):
        db.session.rollback()
        return "skipped"
    delivered = outbox.deliver(db.session, message)
    db.session.commit()
    return "delivered" if delivered else "failed"


def deliver_outbox_messages(message_ids: list[int]) -> dict[str, int]:
    """One RQ job delivers a batch; each message still has its own transaction, attempts and
    back-off, so one failure never holds up the others. Messages are taken in the order
    given: when the job dies, the first one still ``enqueued`` is the one it was on."""
    outcomes: dict[str, int] = {}
    for message_id in message_ids:
        outcome = deliver_outbox_message(message_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def relay_outbox(limit: int = 500) -> int:
    """Take back what RQ will not deliver, then hand due outbox messages to RQ, BATCH per job.
    Runs every few seconds. Returns how many messages were handed over."""
    from hub.jobs.queue import redis_connection

    conn = redis_connection(current_app)
    recover_failed_jobs(conn)
    sweep_stale(conn)
    return hand_over(limit)


def hand_over(limit: int = 500) -> int:
    from hub.jobs.queue import enqueue

    query = (sa.select(OutboxMessage)
             .where(OutboxMessage.topic.in_(sorted(outbox.HANDLERS)),
                    OutboxMessage.status.in_(outbox_states.DUE),
                    OutboxMessage.next_attempt_at <= utcnow())
             .order_by(OutboxMessage.id).limit(limit))
    messages = list(db.session.scalars(_skip_locked(query)))
    handed = 0
    try:
        for start in range(0, len(messages), BATCH):
            batch = messages[start:start + BATCH]
            # Stamped before the job exists, so "enqueued_at <= the job's enqueued_at" tells
            # which hand-over a failed job was (recover_failed_jobs).
            marked_at = utcnow()
            job = enqueue(current_app, deliver_outbox_messages, [m.id for m in batch],
                          job_id=f"outbox-{batch[0].id}-{uuid.uuid4().hex[:12]}", queue=QUEUE,
                          failure_ttl=FAILED_JOB_TTL)
            if job is None:
                continue  # RQ did not take it: the messages stay due
            for message in batch:
                outbox_states.move(message, "enqueued")
                message.enqueued_at = marked_at
            handed += len(batch)
    except RedisError:
        db.session.commit()  # the batches RQ accepted are enqueued; the rest stay due
        raise
    db.session.commit()
    return handed


def recover_failed_jobs(conn, now: datetime | None = None) -> int:
    """Messages of delivery jobs RQ gave up on (an exception, a killed work-horse, a job
    abandoned by a dead worker) go back in line: the one the job was on counts an attempt,
    the ones it never reached are due at once. The failed job is then removed."""
    from rq.job import Job
    from rq.registry import FailedJobRegistry, StartedJobRegistry

    now = now or utcnow()
    # A running job whose worker died (SIGKILL, the host lost) stops heart-beating; RQ marks
    # it failed only when someone cleans the started registry (its workers do so every ten
    # minutes). Cleaning it here brings the job's messages back about 90 s after the death.
    StartedJobRegistry(QUEUE, connection=conn).cleanup()
    registry = FailedJobRegistry(QUEUE, connection=conn)
    recovered = 0
    ids = registry.get_job_ids(0, FAILED_JOBS_PER_RUN - 1)
    for job in Job.fetch_many(ids, connection=conn):
        message_ids = _message_ids(job)
        if message_ids is None:
            continue
        recovered += _take_back(job, message_ids, now)
        db.session.commit()
        registry.remove(job, delete_job=True)
    return recovered


def _message_ids(job) -> list[int] | None:
    """The message ids a delivery job carries; None for any other job (or one whose data
    cannot be read: it must not stop the relay, and the deadline sweep covers its messages)."""
    if job is None:
        return None
    try:
        if job.func_name != DELIVER_FUNC:
            return None
        return [int(i) for i in job.args[0]]
    except Exception:  # noqa: BLE001 - unreadable job data
        log.exception("outbox: cannot read RQ job %s", job.id)
        return None


def _take_back(job, message_ids: list[int], now: datetime) -> int:
    rows = {m.id: m for m in db.session.scalars(_skip_locked(sa.select(OutboxMessage).where(
        OutboxMessage.id.in_(message_ids), OutboxMessage.status == "enqueued")))}
    on = next((i for i in message_ids if i in rows), None)
    handed_at = _aware(job.enqueued_at) or now
    reason = f"RQ job {job.id} failed: {_failure(job)}"
    taken = 0
    for message_id in message_ids:
        message = rows.get(message_id)
        # Handed over again since (a newer job carries it): not this job's to give back.
        if message is None or message.enqueued_at is None or message.enqueued_at > handed_at:
            continue
        outbox.put_back(message, now, reason, attempted=message_id == on)
        taken += 1
    if taken:
        log.warning("outbox: %s messages of failed job %s back in line", taken, job.id)
    return taken


def sweep_stale(conn, now: datetime | None = None, limit: int = 500) -> int:
    """Messages ``enqueued`` longer than ENQUEUED_SWEEP_AFTER that no queued or running job
    carries (the job vanished: Redis lost its data, or it was deleted) are put back. One still
    carried by a live job (a long backlog) is left to it."""
    now = now or utcnow()
    query = (sa.select(OutboxMessage)
             .where(OutboxMessage.status == "enqueued",
                    OutboxMessage.enqueued_at < now - ENQUEUED_SWEEP_AFTER)
             .order_by(OutboxMessage.id).limit(limit))
    stale = list(db.session.scalars(_skip_locked(query)))
    if not stale:
        db.session.rollback()
        return 0
    carried = _carried_by_live_jobs(conn)
    swept = 0
    for message in stale:
        if message.id in carried:
            continue
        outbox.put_back(message, now, f"handed to RQ at {message.enqueued_at:%Y-%m-%d %H:%M:%S} "
                        "UTC; no job carries it any more", attempted=True)
        swept += 1
    db.session.commit()
    if swept:
        log.warning("outbox: %s stale enqueued messages back in line", swept)
    return swept


def _carried_by_live_jobs(conn) -> set[int]:
    """Message ids of the delivery jobs waiting in the queue or running now."""
    from rq import Queue
    from rq.job import Job
    from rq.registry import StartedJobRegistry

    job_ids = (Queue(QUEUE, connection=conn).get_job_ids()
               + StartedJobRegistry(QUEUE, connection=conn).get_job_ids())
    carried: set[int] = set()
    for job in Job.fetch_many(job_ids, connection=conn):
        carried.update(_message_ids(job) or ())
    return carried


_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*: ")


def _failure(job) -> str:
    """The exception line of a failed job's traceback (or RQ's own note, such as a killed
    work-horse's)."""
    result = job.latest_result()
    lines = (getattr(result, "exc_string", None) or "").strip().splitlines()
    if not lines:
        return "no reason recorded"
    raised = [line for line in lines if _EXCEPTION_LINE.match(line)]
    return (raised[-1] if raised else lines[-1])[:300]


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _skip_locked(query):
    """Rows another relay or delivery holds are theirs this round (PostgreSQL; SQLite has one
    writer anyway)."""
    if db.engine.dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def run_periodic(name: str) -> None:
    from hub.jobs.runner import PERIODIC, load_periodic_jobs, run_job

    load_periodic_jobs()
    for job_name, _every, func in PERIODIC:
        if job_name == name:
            run_job(current_app._get_current_object(), name, func)
            return
    raise LookupError(f"no periodic job named {name!r}")
