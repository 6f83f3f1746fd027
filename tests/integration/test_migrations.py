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
