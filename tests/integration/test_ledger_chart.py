"""The chart of accounts is created on first use, also when two workers journal their first
entries at the same moment (seen in `homing bench pipeline`: one of them used to fail)."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from hub.ledger import rules
from hub.ledger.models import Account


def test_two_workers_creating_the_chart_at_once(scratch_database, tmp_path_factory):
    from flask_migrate import upgrade
    from sqlalchemy.orm import Session

    from hub.ledger.service import chart
    from tests.conftest import make_app

    app = make_app(scratch_database, tmp_path_factory)
    with app.app_context():
        upgrade(directory=str(app.extensions["migrate"].directory))
    engine = sa.create_engine(scratch_database)
    outcome = {}

    def second_worker():
        with app.app_context(), Session(engine) as session:
            try:  # blocks on the first worker's uncommitted rows, then finds them there
                outcome["codes"] = chart(session)
                session.commit()
            except Exception as exc:  # noqa: BLE001 - the failure is the assertion
                outcome["error"] = exc

    with app.app_context(), Session(engine) as first:
        expected = chart(first)  # inserted, not committed yet
        worker = threading.Thread(target=second_worker)
        worker.start()
        worker.join(timeout=1)
        assert worker.is_alive()  # waiting on the first worker's rows
        first.commit()
    worker.join(timeout=30)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["codes"] == expected
    with Session(engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Account)) == \
            len(rules.DEFAULT_CHART)
    engine.dispose()
