"""Connection pool behaviour that Flask-SQLAlchemy's settings do not cover."""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy import event


def ping_when_idle(engine: sa.Engine, idle_seconds: float) -> None:
    """Check a pooled connection before use only if it sat idle for ``idle_seconds``.

    ``pool_pre_ping`` checks on every checkout: one more round trip on every request, a
    quarter of the store counter's scan throughput. A connection in steady use is known to be
    alive; one that waited (overnight, across a database restart) is pinged, and replaced by a
    fresh one if the ping fails."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool discards this connection and checks out (or opens) another.
            raise sa.exc.DisconnectionError(str(exc)) from exc


def sqlite_folder_on_connect(engine: sa.Engine) -> None:
    """An SQLite file's folder (the instance folder) is made when the first connection needs
    it, so `homing db upgrade` works on a fresh host; creating the app still writes nothing."""
    if engine.dialect.name != "sqlite" or not engine.url.database \
            or engine.url.database == ":memory:":
        return
    from pathlib import Path

    folder = Path(engine.url.database).parent

    @event.listens_for(engine, "do_connect")
    def _make_folder(*_args) -> None:
        folder.mkdir(parents=True, exist_ok=True)


def fresh_database(admin_url: str, name: str) -> str:
    """Drop and create the PostgreSQL database ``name`` on the server of ``admin_url``; its
    URL. For the benchmarks, the fault campaign and the tests, which each work on a scratch
    database of their own (never the one Homing serves from)."""
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"
