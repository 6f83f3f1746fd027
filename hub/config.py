"""Configuration: class defaults, then ``HOMING_*`` environment variables, then a mapping.

Every setting can be given as an environment variable with the ``HOMING_`` prefix
(``HOMING_DATABASE_URL``, ``HOMING_REDIS_URL``, ``HOMING_SECRET_KEY``, ...). Values are parsed as
JSON when they look like JSON (Flask's ``from_prefixed_env``), so ``HOMING_VOUCHER_TTL_DAYS=21``
is an int.
"""

from __future__ import annotations

import os
from pathlib import Path


class Defaults:
    # None means "SQLite file under the instance folder" (resolved in the factory).
    DATABASE_URL: str | None = None
    # None means "no Redis": jobs run in-process (the demo shape).
    REDIS_URL: str | None = None
    SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - overridden in production (checked in prod)
    ENV_NAME = "development"
    TENANT = "homing-demo"

    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # Seconds a pooled connection may sit idle before it is checked on its next use (instead
    # of checking on every use, which costs a round trip per request; hub.database).
    DB_PING_AFTER_IDLE = 10.0
    # Keep the answers of the store counter's lookups and serve a repeat with one query
    # (hub.scan). False: every lookup is worked out in full (for comparison, or to rule it out).
    SCAN_ANSWERS = True
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024  # photos are resized server-side; 12 MB is plenty

    # Sessions and CSRF. A POST queued offline may be replayed hours later, so the CSRF token
    # must live as long as the session, not the default hour.
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_CHECK_DEFAULT = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 8 * 3600

    # i18n
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = ["en", "de", "fr", "es", "ja", "zh_Hans"]

    # Rate limits (Flask-Limiter). Storage follows REDIS_URL; memory in the demo.
    RATELIMIT_DEFAULT = "600 per minute"
    RATELIMIT_CODE_LOOKUP = "10 per minute;60 per hour"
    # A store counter scans all day; still far too slow to guess a 10-character code.
    RATELIMIT_CODE_LOOKUP_STORE = "120 per minute;2000 per hour"
    RATELIMIT_HEADERS_ENABLED = True

    # Routing
    ROUTING_DEFAULT_LIMIT = 5
    GEOCODER = None  # e.g. "nominatim"; None = offline postal-code table only

    # Jobs
    JOBS_INLINE = None  # None = inline when REDIS_URL is unset

    # Amazon: "sandbox" (built-in emulator, mounted at /sandbox/spapi) or "live".
    AMAZON_MODE = "sandbox"
    MOUNT_SANDBOX = True  # turn off in production: the sandbox's /_emu/ API is unauthenticated
    AMAZON_ENDPOINT: str | None = None  # the demo points it at its own /sandbox/spapi
    AMAZON_LWA_URL: str | None = None  # None: Amazon's, or the endpoint in sandbox mode
    AMAZON_CREDENTIALS_FILE: str | None = None  # JSON; else python-amazon-sp-api's env vars
    AMAZON_RATE_MULTIPLIER = 1.0  # our token buckets' speed (benchmarks with a fast sandbox)
    AMAZON_HTTP_TIMEOUT = 30.0  # seconds per SP-API call; past it the answer counts as unknown
    # After a createFeed whose answer we never got, Amazon's feed list is believed to show
    # every feed made since the call only this long after it (always > the HTTP timeout).
    AMAZON_FEED_SETTLE_SECONDS = 180.0
    # [["SELLER_ID", "MARKETPLACE_ID"], ...]: accounts asked for orders shoppers type that
    # Homing has not seen (besides the accounts of the orders it has).
    AMAZON_ACCOUNTS: list = []

    # Finance
    FINANCE_WEBHOOK_URL: str | None = None
    FINANCE_WEBHOOK_SECRET: str | None = None
    LEDGER_ACCOUNTS: dict = {}  # role -> {"code", "name"} overriding the default chart
    LEDGER_COST_PERCENT = 50  # a returned unit's cost as a share of its price

    # Shopper e-mail: SMTP when a host is set, else .eml files under instance/mail
    MAIL_SMTP_HOST: str | None = None
    MAIL_SMTP_PORT = 587
    MAIL_SMTP_STARTTLS = True
    MAIL_FROM = "returns@homing.invalid"
    HQ_ALERT_EMAIL: str | None = None  # where refund-deadline alerts go
    # The HQ dashboard's calendar: "today" and "last 7 days" are whole days in this zone.
    HQ_TIMEZONE = "UTC"


def database_uri(url: str | None, instance_path: str) -> str:
    """Turn the configured URL into an SQLAlchemy URI (psycopg 3 for PostgreSQL)."""
    if not url:
        return "sqlite:///" + str(Path(instance_path) / "homing.sqlite")
    for plain in ("postgres://", "postgresql://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain):]
    return url


def instance_path_from_env() -> str | None:
    value = os.environ.get("HOMING_INSTANCE_PATH")
    return str(Path(value).resolve()) if value else None
