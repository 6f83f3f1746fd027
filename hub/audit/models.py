from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hub.models import Base, JsonDoc, utcnow


class AuditEvent(Base):
    """Append-only record of every mutation: who, what, where, before -> after.

    Tamper-evident: each event stores the hash of its predecessor and its own hash over
    (previous hash + its content), so editing or deleting a row breaks the chain."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_type: Mapped[str] = mapped_column(sa.String(12))  # user | api_key | device | system
    actor_id: Mapped[int | None]
    actor_label: Mapped[str] = mapped_column(sa.String(120), default="")
    store_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stores.id"), index=True)
    device_id: Mapped[int | None] = mapped_column(sa.ForeignKey("devices.id"))
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    subject_type: Mapped[str] = mapped_column(sa.String(40))
    subject_id: Mapped[str] = mapped_column(sa.String(60))
    before: Mapped[dict] = mapped_column(JsonDoc, default=dict)
    after: Mapped[dict] = mapped_column(JsonDoc, default=dict)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)

    __table_args__ = (sa.Index("ix_audit_subject", "subject_type", "subject_id"),)
