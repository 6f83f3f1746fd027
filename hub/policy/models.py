from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hub.models import Base, JsonDoc, utcnow


class PolicyVersion(Base):
    """An immutable version of the return policy. Editing creates a new version; a return
    keeps the version it was authorised under."""

    __tablename__ = "policy_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    document: Mapped[dict] = mapped_column(JsonDoc)
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


class ReturnReason(Base):
    """The managed, hierarchical list of return reasons (not free text)."""

    __tablename__ = "return_reasons"

    code: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    parent_code: Mapped[str | None] = mapped_column(sa.ForeignKey("return_reasons.code"))
    label: Mapped[str] = mapped_column(sa.String(200))
    seller_fault: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)


class BlocklistEntry(Base):
    """A shopper e-mail, address or order that must not get a voucher (or needs review).

    Values are stored as a keyed hash of the normalised value, so the list can be checked
    without keeping the personal data itself."""

    __tablename__ = "blocklist_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))  # email | address | order | phone
    value_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    hint: Mapped[str] = mapped_column(sa.String(40), default="")  # e.g. "j***@example.com"
    reason: Mapped[str] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    removed_at: Mapped[datetime | None]
    removed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    removal_reason: Mapped[str] = mapped_column(sa.String(500), default="")
