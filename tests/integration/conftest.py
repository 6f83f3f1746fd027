"""Fixtures of the integration tests that step outside the savepoint harness: the SP-API
sandbox on its own port, and a PostgreSQL database of a test's own."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from hub.sandbox import SandboxServer


@pytest.fixture(scope="module")
def sandbox():
    server = SandboxServer().start()
    yield server
    server.stop()


@pytest.fixture
def emu(sandbox):
    """A fresh sandbox whose feeds are processed at once (the clock is tested on its own)."""
    sandbox.emulator.reset()
    sandbox.emulator.delays.update(queue=0, processing=0)
    return sandbox.emulator


@pytest.fixture
def scratch_database(pg_url):
    """A database of the test's own, for what the savepoint harness cannot show: other
    processes and committed data. Dropped afterwards (with any connection still open)."""
    from hub.database import fresh_database

    admin = pg_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    name = f"homing_test_{uuid.uuid4().hex[:8]}"
    yield fresh_database(f"{admin}/postgres", name)
    engine = sa.create_engine(f"{admin}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()
