"""The transactional outbox: write side effects with the state change, deliver after commit.

``emit`` adds a message to the caller's transaction. Delivery happens later, in a job
(RQ in production, the in-process runner in the demo), through the handler registered for the
message's topic. A handler must be idempotent: delivery is at least once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.models import utcnow
from hub.outbox import states
from hub.outbox.models import OutboxMessage

Handler = Callable[[Session, OutboxMessage], None]
HANDLERS: dict[str, Handler] = {}

# Seconds to wait before attempt n+1; the last value repeats.
BACKOFF = (10, 60, 300, 900, 3600)


class Undelivered(Exception):
    """A handler's "no" that leaves a trace: ``keep`` runs after the handler's savepoint is
    rolled back, so what it adds (the endpoint's answer, say) is committed with the retry."""

    def __init__(self, message: str, keep: Callable[[Session], None] | None = None):
        super().__init__(message)
        self.keep = keep


def handler(topic: str) -> Callable[[Handler], Handler]:
    """Register the function that delivers messages of ``topic``."""

    def register(func: Handler) -> Handler:
        HANDLERS[topic] = func
        return func

    return register


def emit(session: Session, topic: str, payload: dict, *, dedupe_key: str,
         store_id: int | None = None) -> OutboxMessage:
    """Queue a side effect in the current transaction. The same dedupe key twice is one
    message: the second call returns the first."""
    existing = session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))
    if existing is not None:
        return existing
    message = OutboxMessage(topic=topic, payload=payload, dedupe_key=dedupe_key,
                            store_id=store_id)
    session.add(message)
    session.flush()
    return message


def due_messages(session: Session, now: datetime, limit: int = 100) -> list[OutboxMessage]:
    """Messages due for delivery. A topic nobody handles yet (its connector is not built or
    not configured) waits as pending instead of burning its retries."""
    query = (sa.select(OutboxMessage)
             .where(OutboxMessage.status.in_(states.DUE),
                    OutboxMessage.next_attempt_at <= now,
                    OutboxMessage.topic.in_(sorted(HANDLERS)))
             .order_by(OutboxMessage.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def deliver(session: Session, message: OutboxMessage, now: datetime | None = None) -> bool:
    """Run the handler for one message inside a savepoint; record the outcome. Returns whether
    it was delivered. The caller commits."""
    now = now or utcnow()
    func = HANDLERS.get(message.topic)
    message.attempts += 1
    try:
        if func is None:
            raise LookupError(f"no handler for topic {message.topic!r}")
        with session.begin_nested():
            func(session, message)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
        if isinstance(exc, Undelivered) and exc.keep is not None:
            exc.keep(session)
        _failed(message, now, f"{type(exc).__name__}: {exc}")
        return False
    states.move(message, "delivered")
    message.delivered_at = now
    message.last_error = ""
    return True


def _failed(message: OutboxMessage, now: datetime, error: str) -> None:
    """An attempt that did not deliver: retried after the back-off, dead after the last."""
    message.last_error = error[:1000]
    if message.attempts >= message.max_attempts:
        states.move(message, "dead")
        return
    states.move(message, "failed")
    delay = BACKOFF[min(message.attempts - 1, len(BACKOFF) - 1)]
    message.next_attempt_at = now + timedelta(seconds=delay)


def put_back(message: OutboxMessage, now: datetime, error: str, *, attempted: bool) -> None:
    """Take a message back from a job that will never finish it (the job failed in RQ, or it
    vanished with Redis). ``attempted``: it was being delivered when the job died, so that
    counts as an attempt (a message that kills its work-horse every time ends up dead instead
    of killing workers forever); one the job never reached is simply due again."""
    if attempted:
        message.attempts += 1
        _failed(message, now, error)
        return
    states.move(message, "pending")
    message.next_attempt_at, message.last_error = now, error[:1000]


def drain(session: Session, now: datetime | None = None, limit: int = 100) -> tuple[int, int]:
    """Deliver everything that is due (the in-process runner's unit of work)."""
    now = now or utcnow()
    delivered = failed = 0
    for message in due_messages(session, now, limit):
        if deliver(session, message, now):
            delivered += 1
        else:
            failed += 1
    return delivered, failed


def replay(session: Session, message_id: int) -> OutboxMessage:
    """Put a dead message back in line (HQ's "replay" button)."""
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise LookupError(f"no outbox message {message_id}")
    states.move(message, "pending")
    message.attempts, message.next_attempt_at = 0, utcnow()
    return message
