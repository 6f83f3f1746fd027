"""Shared fixtures: a real PostgreSQL database (migrated once per run, each test isolated in a
transaction with savepoints), a real Redis, the app, clients and API keys.

Without PostgreSQL or Redis these tests skip with the reason; with CI=true a missing service
is a failure, never a skip.
"""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest
import redis
import sqlalchemy as sa
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from hub import create_app
from hub.extensions import db

# Property tests judge what is generated, not how fast: on a loaded 2-core machine (CI, or the
# whole suite beside a benchmark) generation can be slow without anything being wrong.
hypothesis_settings.register_profile(
    "homing", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("homing")

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_ADMIN_URL = os.environ.get("HOMING_TEST_PG_ADMIN_URL",
                              "postgresql://postgres@127.0.0.1:5432/postgres")
# One Redis database per xdist worker, so one worker's FLUSHDB never hits another's locks.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0)
REDIS_URL = os.environ.get("HOMING_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{15 - _WORKER}")


def _unavailable(what: str, exc: Exception):
    message = f"{what} is not reachable ({type(exc).__name__}: {exc})"
    if IN_CI:
        pytest.fail(f"{message}; CI must test against the real service", pytrace=False)
    pytest.skip(f"{message}; start it to run these tests")


@pytest.fixture(scope="session")
def pg_url():
    """A fresh database for this test run, dropped at the end."""
    name = f"homing_test_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        _unavailable("PostgreSQL", exc)
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_app(database_url: str, tmp_path_factory, **extra):
    instance = tmp_path_factory.mktemp("instance")
    return create_app({
        "TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
        "REDIS_URL": None, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
        "PHOTO_DIR": str(instance / "photos"), "WTF_CSRF_ENABLED": False, **extra,
    })


@pytest.fixture(scope="session")
def app(pg_url, tmp_path_factory):
    """The app on a migrated PostgreSQL database (migrations are part of what is tested)."""
    from flask_migrate import upgrade

    application = make_app(pg_url, tmp_path_factory)

    @application.before_request
    def _forget_the_previous_user():
        # The tests hold one app context open, so `g` outlives a request here (in production
        # each request has its own); without this, Flask-Login would reuse the user of the
        # previous request, even one made by another test client.
        from flask import g

        g.pop("_login_user", None)

    with application.app_context():
        upgrade(directory=str(application.extensions["migrate"].directory))
        db.engine.dispose()
    return application


@pytest.fixture
def session(app):
    """db.session inside one outer transaction that is rolled back after the test. The code
    under test may commit and roll back freely: those become savepoint operations."""
    with app.app_context():
        engines = db.engines
        connection = engines[None].connect()
        outer = connection.begin()
        saved, engines[None] = engines[None], connection
        db.session.remove()
        db.session.configure(join_transaction_mode="create_savepoint")
        try:
            yield db.session
        finally:
            db.session.remove()
            engines[None] = saved
            outer.rollback()
            connection.close()


@pytest.fixture
def client(app, session):
    from hub.extensions import limiter

    limiter.reset()  # each test starts with fresh rate-limit budgets
    return app.test_client()


@pytest.fixture
def runner(app, session):
    return app.test_cli_runner()


@pytest.fixture
def api_key(session):
    """Make an API key: ``api_key("admin")`` or ``api_key("clerk", store_code="S1")``."""
    from hub.auth.service import create_api_key

    def make(role: str = "admin", store_code: str | None = None) -> dict[str, str]:
        _key, plaintext = create_api_key(session, role=role, store_code=store_code)
        session.commit()
        return {"Authorization": f"Bearer {plaintext}"}

    return make


@pytest.fixture(scope="session")
def redis_url():
    try:
        conn = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        conn.ping()
    except redis.RedisError as exc:
        _unavailable("Redis", exc)
    return REDIS_URL


@pytest.fixture
def redis_conn(redis_url):
    conn = redis.Redis.from_url(redis_url)
    conn.flushdb()
    yield conn
    conn.flushdb()


def count(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))
