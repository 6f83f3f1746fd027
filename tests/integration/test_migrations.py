"""The models and the migration history agree, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from hub.extensions import db
from tests.conftest import make_app


def _diff(app) -> list:
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def _upgrade(app) -> None:
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)


def test_sqlite_upgrade_from_empty_matches_models(tmp_path, tmp_path_factory):
    app = make_app(f"sqlite:///{tmp_path / 'm.sqlite'}", tmp_path_factory)
    _upgrade(app)
    assert _diff(app) == []
    with app.app_context():
        tables = sa.inspect(db.engine).get_table_names()
    assert {"stores", "return_lines", "outbox_messages", "audit_events"} <= set(tables)


def test_postgres_upgrade_from_empty_matches_models(app):
    # The session-wide app fixture ran every migration on an empty PostgreSQL database.
    assert _diff(app) == []


@pytest.mark.parametrize("backend", ["sqlite"])
def test_downgrade_to_base_and_up_again(backend, tmp_path, tmp_path_factory):
    app = make_app(f"sqlite:///{tmp_path / 'd.sqlite'}", tmp_path_factory)
    _upgrade(app)
    with app.app_context():
        downgrade(directory=app.extensions["migrate"].directory, revision="base")
        assert sa.inspect(db.engine).get_table_names() == ["alembic_version"]
    _upgrade(app)
    assert _diff(app) == []


def test_every_status_check_allows_exactly_its_machines_states(app):
    """The migrations' CHECK constraints and the machines in code agree (a machine that gains
    a state needs a revision, or the database refuses it)."""
    import re

    from hub.amazon.states import SUBMISSION_TRANSITIONS
    from hub.credits.states import CREDIT_TRANSITIONS
    from hub.intake.states import INTAKE_TRANSITIONS
    from hub.refunds.states import REFUND_TRANSITIONS
    from hub.returns.states import RMA_TRANSITIONS, UNIT_ACCEPTANCE, UNIT_RECEPTION
    from hub.vouchers.states import VOUCHER_TRANSITIONS

    machines = {("refunds", "status"): REFUND_TRANSITIONS,
                ("return_authorizations", "status"): RMA_TRANSITIONS,
                ("return_lines", "reception_status"): UNIT_RECEPTION,
                ("return_lines", "acceptance_status"): UNIT_ACCEPTANCE,
                ("vouchers", "status"): VOUCHER_TRANSITIONS,
                ("intakes", "status"): INTAKE_TRANSITIONS,
                ("amazon_feed_submissions", "status"): SUBMISSION_TRANSITIONS,
                ("store_credits", "status"): CREDIT_TRANSITIONS}
    with app.app_context():
        rows = db.session.execute(sa.text(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'c'")).all()
    checks = {(table, name): definition for table, name, definition in rows}
    for (table, column), machine in machines.items():
        definition = checks[(table, f"ck_{table}_{column}")]
        assert set(re.findall(r"'(\w+)'", definition)) == set(machine), (table, column)
