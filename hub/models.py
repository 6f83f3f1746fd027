"""Declarative base and the column types every feature shares.

Feature models live in their feature package (``hub/stores/models.py`` ...); this module holds
only what they have in common, so that importing it never imports a feature.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, registry
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend.

    SQLite stores no offset and hands back naive values; PostgreSQL uses timestamptz. Either
    way the application only ever sees aware UTC datetimes, and refuses naive ones on the way in
    (a naive datetime is a bug: whose local time would it be?).
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# JSON documents: JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
JsonDoc = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def insert_on_conflict(session: Session, model) -> postgresql.Insert | sqlite.Insert:
    """An INSERT for ``model`` that can say what to do on conflict (both databases we run on
    support ``ON CONFLICT``; SQLAlchemy spells it per dialect)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def status_check(column: str, machine: dict[str, set[str]]) -> sa.CheckConstraint:
    """The database holds a status column to its machine's states (named ck_<table>_<column>)."""
    return sa.CheckConstraint(sa.column(column).in_(sorted(machine)), name=column)


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    """A stored time as the API shows it (ISO 8601, UTC offset), or None."""
    return moment.isoformat() if moment else None


class Base(DeclarativeBase):
    # Every ``Mapped[datetime]`` column is a UtcDateTime. Given as a registry (not a class
    # attribute) because Flask-SQLAlchemy subclasses the base.
    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UtcDateTime()},
    )


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def money_column(*, nullable: bool = False, default: int | None = 0) -> Mapped[int]:
    """An amount in the currency's minor unit (cents, yen, fils). Currency lives beside it."""
    return mapped_column(sa.BigInteger, nullable=nullable, default=default)
