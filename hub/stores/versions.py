"""The stores' version: bumped in the same transaction as every store write.

ORM writes are seen by a flush hook; on PostgreSQL a statement trigger on ``stores`` (the
migration) also catches raw SQL and COPY. Readers get (version, stamp) from one row."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from hub.stores.models import Store, StoreVersion

ROW = 1


def track_store_writes() -> None:
    """Install the flush hook (idempotent; the app factory calls it)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


def bump(session: Session) -> None:
    """Mark every routing index built before this transaction stale (for writes that bypass
    the unit of work on a database without the trigger)."""
    connection = session.connection()
    stamp = uuid.uuid4().hex
    changed = connection.execute(
        sa.update(StoreVersion).where(StoreVersion.id == ROW)
        .values(version=StoreVersion.version + 1, stamp=stamp)).rowcount
    if not changed:
        connection.execute(sa.insert(StoreVersion).values(id=ROW, version=1, stamp=stamp))


def current(session: Session) -> str:
    """The stamp of the stores as this transaction sees them ('' before any change)."""
    return session.scalar(sa.select(StoreVersion.stamp).where(StoreVersion.id == ROW)) or ""


def _after_flush(session: Session, _context) -> None:
    if any(isinstance(obj, Store)
           for group in (session.new, session.dirty, session.deleted) for obj in group):
        bump(session)
