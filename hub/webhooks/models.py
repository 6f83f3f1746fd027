from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hub.models import Base, utcnow
from hub.outbox.models import WebhookEndpoint

__all__ = ["WebhookDelivery", "WebhookEndpoint"]


class WebhookDelivery(Base):
    """One attempt to deliver one event to one endpoint, with the endpoint's answer:
    append-only, what HQ lists under the endpoint."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (sa.Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_endpoints.id"))
    message_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outbox_messages.id"),
                                                   index=True)
    event_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    event_type: Mapped[str] = mapped_column(sa.String(40))
    attempt: Mapped[int]
    # delivered (2xx) | failed (another status) | unreachable (no answer: refused, timed out)
    # | refused (Homing would not call the URL)
    outcome: Mapped[str] = mapped_column(sa.String(12))
    status_code: Mapped[int | None]
    answer: Mapped[str] = mapped_column(sa.String(300), default="")
    duration_ms: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
