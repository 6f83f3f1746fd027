"""The audit trail: one append-only, hash-chained event per mutation."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.audit.models import AuditEvent
from hub.models import utcnow

GENESIS = "0" * 64
_CHAIN_LOCK_KEY = 74_201_001  # arbitrary, fixed: serialises appends to the chain on PostgreSQL


@dataclass(frozen=True)
class Actor:
    kind: str  # user | api_key | device | system
    id: int | None = None
    label: str = ""
    store_id: int | None = None
    device_id: int | None = None


SYSTEM = Actor("system", None, "system")


def event_hash(prev_hash: str, occurred_at: datetime, actor: str, action: str, subject: str,
               before: dict, after: dict) -> str:
    content = json.dumps(
        [prev_hash, occurred_at.isoformat(), actor, action, subject, before, after],
        sort_keys=True, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(content.encode()).hexdigest()


def record(session: Session, actor: Actor, action: str, subject_type: str, subject_id: object,
           *, before: dict | None = None, after: dict | None = None,
           store_id: int | None = None) -> AuditEvent:
    """Append an event to the chain, in the caller's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK_KEY})
    prev = session.scalar(sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    prev_hash = prev or GENESIS
    occurred_at = utcnow()
    before, after = before or {}, after or {}
    actor_ref = f"{actor.kind}:{actor.id}"
    subject = f"{subject_type}:{subject_id}"
    event = AuditEvent(
        occurred_at=occurred_at, actor_type=actor.kind, actor_id=actor.id,
        actor_label=actor.label, store_id=store_id if store_id is not None else actor.store_id,
        device_id=actor.device_id, action=action, subject_type=subject_type,
        subject_id=str(subject_id), before=before, after=after, prev_hash=prev_hash,
        hash=event_hash(prev_hash, occurred_at, actor_ref, action, subject, before, after),
    )
    session.add(event)
    session.flush()
    return event


def verify_chain(session: Session) -> int | None:
    """Return the id of the first event whose hash does not hold, or None if intact."""
    prev_hash = GENESIS
    for event in session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)):
        expected = event_hash(prev_hash, event.occurred_at, f"{event.actor_type}:{event.actor_id}",
                              event.action, f"{event.subject_type}:{event.subject_id}",
                              event.before, event.after)
        if event.prev_hash != prev_hash or event.hash != expected:
            return event.id
        prev_hash = event.hash
    return None


def search(session: Session, *, action: str = "", subject: str = "", actor: str = "",
           store: str = "", since: datetime | None = None, until: datetime | None = None,
           before_id: int | None = None, limit: int = 50) -> list[AuditEvent]:
    """Newest first. ``action`` matches a prefix ("intake." finds every intake event),
    ``subject`` is "type" or "type:id", ``actor`` a part of the actor's name, ``store`` a
    store code."""
    from hub.stores.models import Store

    query = sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEvent.action.startswith(action, autoescape=True))
    if subject:
        kind, _, ident = subject.partition(":")
        query = query.where(AuditEvent.subject_type == kind)
        if ident:
            query = query.where(AuditEvent.subject_id == ident)
    if actor:
        query = query.where(AuditEvent.actor_label.ilike(f"%{actor}%"))
    if store:
        query = query.where(AuditEvent.store_id.in_(
            sa.select(Store.id).where(Store.code == store)))
    if since:
        query = query.where(AuditEvent.occurred_at >= since)
    if until:
        query = query.where(AuditEvent.occurred_at < until)
    if before_id:
        query = query.where(AuditEvent.id < before_id)
    return list(session.scalars(query))
