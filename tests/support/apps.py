"""Apps the tests build for processes of their own (a push killed mid-call, a worker)."""

from __future__ import annotations


def sandbox_app(database_url: str, endpoint: str, redis_url: str | None = None):
    """Homing on ``database_url`` talking to the SP-API sandbox at ``endpoint`` over HTTP."""
    from hub import create_app

    return create_app({"DATABASE_URL": database_url, "REDIS_URL": redis_url,
                       "RATELIMIT_ENABLED": False, "SECRET_KEY": "test-secret",
                       "MOUNT_SANDBOX": False, "AMAZON_MODE": "sandbox",
                       "AMAZON_ENDPOINT": endpoint})
