from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column

from hub.models import Base, Timestamped, utcnow

ROLES = ("clerk", "supervisor", "hq_ops", "finance", "admin")
STORE_ROLES = ("clerk", "supervisor")  # these are scoped to one store


class User(UserMixin, Timestamped, Base):
    """A person: store staff (PIN on an enrolled tablet) or HQ staff (password)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    role: Mapped[str] = mapped_column(sa.String(20))
    store_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stores.id"), index=True)
    # A store-local staff number clerks type before their PIN on a shared tablet.
    staff_number: Mapped[str | None] = mapped_column(sa.String(12))
    password_hash: Mapped[str | None] = mapped_column(sa.String(256))
    pin_hash: Mapped[str | None] = mapped_column(sa.String(256))
    failed_attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    locale: Mapped[str] = mapped_column(sa.String(10), default="en")
    active: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (sa.UniqueConstraint("store_id", "staff_number"),)

    @property
    def is_active(self) -> bool:  # Flask-Login: deactivated users cannot sign in
        return self.active


class Device(Base):
    """A store tablet enrolled to one store by an admin. Its secret is kept hashed."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    token_prefix: Mapped[str] = mapped_column(sa.String(12), unique=True)
    token_hash: Mapped[str] = mapped_column(sa.String(128))
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    enrolled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    last_seen_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class ApiKey(Base):
    """An integrator's key. Shown once at creation; only a hash is kept. The prefix (public)
    finds the row, the hash proves the rest."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    prefix: Mapped[str] = mapped_column(sa.String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(sa.String(128))
    role: Mapped[str] = mapped_column(sa.String(20))
    store_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stores.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
