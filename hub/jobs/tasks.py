"""RQ job functions. Each runs in the worker's app context and is its own unit of work."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from hub.extensions import db
from hub.models import utcnow
from hub.outbox import service as outbox
from hub.outbox.models import OutboxMessage

BATCH = 50  # messages per RQ job: a forked work-horse per message would cost more than most
STUCK_AFTER = timedelta(minutes=10)  # an enqueued message whose job vanished gets re-enqueued


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
    back-off, so one failure never holds up the others."""
    outcomes: dict[str, int] = {}
    for message_id in message_ids:
        outcome = deliver_outbox_message(message_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def relay_outbox(limit: int = 500) -> int:
    """Hand due outbox messages to RQ, BATCH per job. Runs periodically; also the safety net
    for anything a crashed process or a Redis outage left behind."""
    from hub.jobs.queue import enqueue

    now = utcnow()
    query = (sa.select(OutboxMessage)
             .where(OutboxMessage.topic.in_(sorted(outbox.HANDLERS)), sa.or_(
                 sa.and_(OutboxMessage.status.in_(("pending", "failed")),
                         OutboxMessage.next_attempt_at <= now),
                 sa.and_(OutboxMessage.status == "enqueued",
                         OutboxMessage.enqueued_at < now - STUCK_AFTER)))
             .order_by(OutboxMessage.id).limit(limit))
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    messages = list(db.session.scalars(query))
    for start in range(0, len(messages), BATCH):
        batch = messages[start:start + BATCH]
        enqueue(current_app, deliver_outbox_messages, [m.id for m in batch],
                job_id=f"outbox-{batch[0].id}-{batch[0].attempts}-{len(batch)}")
        for message in batch:
            message.status, message.enqueued_at = "enqueued", now
    db.session.commit()
    return len(messages)


def run_periodic(name: str) -> None:
    from hub.jobs.runner import PERIODIC, load_periodic_jobs, run_job

    load_periodic_jobs()
    for job_name, _every, func in PERIODIC:
        if job_name == name:
            run_job(current_app._get_current_object(), name, func)
            return
    raise LookupError(f"no periodic job named {name!r}")
