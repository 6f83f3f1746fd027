from __future__ import annotations

import re

import sqlalchemy as sa

from hub.auth.models import ApiKey
from hub.models import utcnow


def test_health_reports_database_and_queue(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"] == {"status": "ok", "backend": "postgresql"}
    assert body["queue"]["mode"] == "in-process"


def test_openapi_document_lists_every_v1_route(app, client):
    document = client.get("/api/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    documented = set(document["paths"])
    routed = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")}
    assert routed <= documented, routed - documented


def test_missing_key_is_a_problem_document(client):
    response = client.get("/api/v1/stores")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "unauthenticated"


def test_wrong_and_revoked_keys_are_refused(client, session, api_key):
    headers = api_key("hq_ops")
    assert client.get("/api/v1/stores", headers=headers).status_code == 200

    forged = headers["Authorization"][:-4] + "AAAA"
    response = client.get("/api/v1/stores", headers={"Authorization": forged})
    assert (response.status_code, response.get_json()["code"]) == (401, "invalid_key")

    session.execute(sa.update(ApiKey).values(revoked_at=utcnow()))
    session.commit()
    response = client.get("/api/v1/stores", headers=headers)
    assert (response.status_code, response.get_json()["code"]) == (401, "revoked_key")


def test_keys_are_stored_hashed(session, api_key):
    headers = api_key("admin")
    plaintext = headers["Authorization"].split()[1]
    stored = session.scalars(sa.select(ApiKey)).one()
    assert plaintext not in (stored.key_hash, stored.prefix)
    assert len(stored.key_hash) == 64


def test_unknown_api_route_is_a_problem_not_a_page(client):
    response = client.get("/api/v1/nope")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "not_found"


def test_a_connection_that_died_while_idle_is_replaced_unnoticed(scratch_database,
                                                                  tmp_path_factory):
    """No ping on every checkout (hub.database): a connection idle for longer than
    DB_PING_AFTER_IDLE is checked first, so a database restart overnight costs no request."""
    from hub.extensions import db
    from tests.conftest import make_app

    app = make_app(scratch_database, tmp_path_factory, DB_PING_AFTER_IDLE=0.0)
    client = app.test_client()
    assert client.get("/api/v1/health").get_json()["database"]["status"] == "ok"
    with app.app_context():
        assert db.engine.pool.checkedin() == 1  # the pooled connection the next request reuses
    admin = sa.create_engine(scratch_database, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        killed = conn.execute(sa.text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    admin.dispose()
    assert killed == 1
    assert client.get("/api/v1/health").get_json()["database"]["status"] == "ok"
