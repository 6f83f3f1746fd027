"""The routing index through the service: staleness from the stores' version row (no scan of
``stores``), and rebuilds that no request waits for."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from hub.extensions import db
from hub.stores import service, versions
from hub.stores.hours import WeeklyHours
from hub.stores.models import Store, StoreVersion

AT = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
HOURS = WeeklyHours.from_text("Mon-Sun 00:00-24:00").to_dict()


def _store(code: str, lat: float, lon: float) -> Store:
    return Store(code=code, name=code, country="US", latitude=lat, longitude=lon,
                 timezone="UTC", hours=HOURS, categories=["general"], size_classes=["small"],
                 daily_capacity=10, active=True)


def _statements(connection_or_engine):
    seen: list[str] = []

    def listen(_conn, _cursor, statement, *_args):
        seen.append(statement)
    event.listen(connection_or_engine, "before_cursor_execute", listen)
    return seen, lambda: event.remove(connection_or_engine, "before_cursor_execute", listen)


def test_a_store_write_bumps_the_version_in_the_same_transaction(session):
    before = versions.current(session)
    session.add(_store("V1", 10.0, 10.0))
    session.flush()
    after = versions.current(session)
    assert after != before
    session.scalar(sa.select(Store).where(Store.code == "V1")).active = False
    session.flush()
    assert versions.current(session) not in (before, after)


def test_raw_sql_writes_bump_the_version_too(session):
    before = versions.current(session)
    session.execute(sa.text(
        "INSERT INTO stores (code, name, address, city, region, postal_code, country, "
        "latitude, longitude, timezone, hours, categories, size_classes, daily_capacity, "
        "active, created_at, updated_at) VALUES ('RAW', 'Raw', '', '', '', '', 'US', 1, 1, "
        "'UTC', '{}', '[]', '[]', 1, true, now(), now())"))
    assert versions.current(session) != before  # the trigger, not the ORM hook


def test_a_current_index_costs_one_primary_key_read_and_a_change_is_seen(session):
    session.add_all([_store("N1", 0.0, 0.01), _store("N2", 0.0, 0.02)])
    session.flush()
    assert [r.code for r in service.route(session, 0.0, 0.0, at=AT)] == ["N1", "N2"]
    seen, stop = _statements(session.connection())
    try:
        service.store_index(session)
    finally:
        stop()
    assert len(seen) == 1 and "store_versions" in seen[0] and "stores " not in seen[0]
    session.scalar(sa.select(Store).where(Store.code == "N1")).active = False
    session.flush()
    assert [r.code for r in service.route(session, 0.0, 0.0, at=AT)] == ["N2"]


def test_a_stale_index_answers_while_its_successor_is_built_in_the_background(app):
    """Committed rows through the app's engine (as in production), cleaned up after."""
    with app.app_context():
        engine = db.engine
        try:
            with Session(engine) as setup:
                setup.add_all([_store("BG1", 0.0, 0.01), _store("BG2", 0.0, 0.02)])
                setup.commit()
            with Session(engine) as request:
                service.wait_for_index(request)  # whatever an earlier test left cached
                assert [r.code for r in service.route(request, 0.0, 0.0, at=AT)][:2] \
                    == ["BG1", "BG2"]
            with Session(engine) as edit:
                edit.scalar(sa.select(Store).where(Store.code == "BG1")).active = False
                edit.commit()
            built = []
            original = service.build_index

            def slow_build(session_):
                time.sleep(0.5)  # a big chain's rebuild takes seconds
                built.append(True)
                return original(session_)
            service.build_index = slow_build
            try:
                with Session(engine) as request:
                    started = time.perf_counter()
                    stale = [r.code for r in service.route(request, 0.0, 0.0, at=AT)]
                    waited = time.perf_counter() - started
                assert stale[:1] == ["BG1"] and waited < 0.4  # answered at once, from the old
                with Session(engine) as request:
                    service.wait_for_index(request)
                    fresh = [r.code for r in service.route(request, 0.0, 0.0, at=AT)]
            finally:
                service.build_index = original
            assert built == [True] and fresh[:1] == ["BG2"]
        finally:
            with Session(engine) as cleanup:
                cleanup.execute(sa.delete(Store).where(Store.code.in_(["BG1", "BG2"])))
                cleanup.commit()


@pytest.mark.parametrize("model", [StoreVersion])
def test_the_version_row_is_seeded_by_the_migration(session, model):
    assert session.scalar(sa.select(sa.func.count()).select_from(model)) == 1
