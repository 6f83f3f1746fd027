from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hub.models import Base, JsonDoc, utcnow


class OutboxMessage(Base):
    """A side effect that leaves the process (Amazon, finance, e-mail, webhook), written in the
    same transaction as the state change that causes it and delivered after commit."""

    __tablename__ = "outbox_messages"
    __table_args__ = (sa.Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(sa.String(60))  # e.g. amazon.refund, finance.journal
    payload: Mapped[dict] = mapped_column(JsonDoc)
    # Writing the same effect twice is a no-op: the key is unique.
    dedupe_key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    status: Mapped[str] = mapped_column(sa.String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=8)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(sa.String(1000), default="")
    store_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stores.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    enqueued_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]


class IdempotencyRecord(Base):
    """The stored answer to a mutating request that carried an Idempotency-Key, so a retry,
    a double tap or an offline replay gets the same answer instead of a second effect."""

    __tablename__ = "idempotency_records"
    __table_args__ = (sa.UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(sa.String(80))  # e.g. "apikey:12" or "device:3"
    key: Mapped[str] = mapped_column(sa.String(80))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    status_code: Mapped[int]
    body: Mapped[dict] = mapped_column(JsonDoc)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class WebhookEndpoint(Base):
    """An integrator's (or finance system's) URL that receives signed event notifications."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    url: Mapped[str] = mapped_column(sa.String(500))
    # HMAC needs the secret itself; it is encrypted with the app's key at rest.
    secret_encrypted: Mapped[str] = mapped_column(sa.Text)
    events: Mapped[list] = mapped_column(JsonDoc, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
