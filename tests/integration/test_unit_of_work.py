"""One unit of work per request: a view that answers with success has its writes committed;
one that is refused (4xx), fails (5xx) or raises has none of them, with no commit of its own.
Views and API handlers hold no hand-written commit (read from the source)."""

from __future__ import annotations

import ast
import uuid

import pytest
import sqlalchemy as sa
from flask import Blueprint, abort

from hub.amazon.models import ConnectorStatus
from hub.extensions import db
from tests.conftest import make_app
from tests.unit.test_layers import ROOT

pytestmark = pytest.mark.postgres

# The API key's "last used" is kept even when the request it authenticates then fails.
ALLOWED_COMMITS = {"hub/api/common.py"}


@pytest.fixture(scope="module")
def uow_app(app, pg_url, tmp_path_factory):
    application = make_app(pg_url, tmp_path_factory)
    bp = Blueprint("uow_probe", __name__)

    def write(name: str) -> None:
        db.session.add(ConnectorStatus(name=name, cursor={}, throttled_total=0,
                                       last_error="", paused=False))
        db.session.flush()

    @bp.post("/_uow/<outcome>/<name>")
    def probe(outcome: str, name: str):
        write(name)
        if outcome == "refused":
            return {"refused": True}, 422
        if outcome == "aborted":
            abort(409)
        if outcome == "raises":
            raise RuntimeError("boom after writing")
        return {"ok": True}, 201

    application.register_blueprint(bp)
    application.config["WTF_CSRF_ENABLED"] = False
    return application


def _kept(app, name: str) -> bool:
    with app.app_context():
        found = db.session.get(ConnectorStatus, name) is not None
        db.session.execute(sa.delete(ConnectorStatus).where(ConnectorStatus.name == name))
        db.session.commit()
        return found


@pytest.mark.parametrize("outcome, status, kept", [
    ("ok", 201, True), ("refused", 422, False), ("aborted", 409, False), ("raises", 500, False)])
def test_a_request_commits_exactly_when_it_succeeds(uow_app, outcome, status, kept):
    name = f"uow-{outcome}-{uuid.uuid4().hex[:8]}"
    response = uow_app.test_client().post(f"/_uow/{outcome}/{name}")
    assert response.status_code == status
    assert _kept(uow_app, name) is kept


def _commits(path) -> list[int]:
    return [node.lineno for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "commit"]


def test_views_and_api_handlers_do_not_commit():
    files = sorted(ROOT.glob("portal/**/*.py")) + sorted(ROOT.glob("hub/api/**/*.py"))
    found = {str(p.relative_to(ROOT)): _commits(p) for p in files}
    assert {k: v for k, v in found.items() if v and k not in ALLOWED_COMMITS} == {}
    assert _commits(ROOT / "hub/api/common.py"), "drop it from ALLOWED_COMMITS"
