from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, jsonify

from hub.api import bp
from hub.extensions import db
from hub.jobs.queue import queue_health


@bp.get("/api/v1/health")
def health():
    """Liveness and readiness: can we reach the database and the job queue?"""
    checks = {"database": _database_health(), "queue": queue_health(current_app)}
    ok = all(check["status"] == "ok" for check in checks.values())
    body = {"status": "ok" if ok else "degraded", **checks}
    return jsonify(body), 200 if ok else 503


def _database_health() -> dict:
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        db.session.rollback()
        return {"status": "down", "error": type(exc).__name__}
    return {"status": "ok", "backend": db.engine.dialect.name}
