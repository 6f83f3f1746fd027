"""Configuration: class defaults, then ``HOMING_*`` environment variables, then a mapping.

Every setting can be given as an environment variable with the ``HOMING_`` prefix
(``HOMING_DATABASE_URL``, ``HOMING_REDIS_URL``, ``HOMING_SECRET_KEY``, ...). Values are parsed as
JSON when they look like JSON (Flask's ``from_prefixed_env``), so ``HOMING_VOUCHER_TTL_DAYS=21``
is an int.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEV_SECRET = "dev-only-not-secret"  # noqa: S105 - refused by the start-up check
MIN_SECRET_LENGTH = 32
# Run without the start-up check: the demo (`homing demo`) and the benchmarks' own servers.
UNCHECKED_ENVIRONMENTS = ("demo", "bench")


class Defaults:
    # None means "SQLite file under the instance folder" (resolved in the factory).
    DATABASE_URL: str | None = None
    # None means "no Redis": jobs run in-process (the demo shape).
    REDIS_URL: str | None = None
    SECRET_KEY = DEV_SECRET  # refused when serving for real (check_settings)
    # "production" (docker-compose.yml); "demo" and "bench" skip the start-up check.
    ENV_NAME = "development"

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
    # Walk-in look-ups that find nothing (unknown order or wrong proof), per tablet.
    RATELIMIT_WALK_IN_MISSES = "5 per 10 minutes;20 per day"

    # Behind a reverse proxy: how many proxies' X-Forwarded-For/-Proto/-Host to believe (0:
    # none; the client address is the socket's). Needed for per-address rate limits, Secure
    # cookies and HSTS when TLS ends at the proxy.
    PROXY_COUNT = 0
    HSTS_SECONDS = 365 * 24 * 3600  # sent only on https requests; 0 turns it off
    PREFERRED_URL_SCHEME = "http"  # "https" in production: links in e-mails and enrolments

    # Routing
    ROUTING_DEFAULT_LIMIT = 5
    GEOCODER = None  # e.g. "nominatim"; None = offline postal-code table only

    # Jobs
    JOBS_INLINE = None  # None = inline when REDIS_URL is unset

    # Amazon: "sandbox" (built-in emulator, mounted at /sandbox/spapi) or "live".
    AMAZON_MODE = "sandbox"
    MOUNT_SANDBOX = True  # turn off in production: the sandbox's /_emu/ API is unauthenticated
    ALLOW_SANDBOX = False  # serve with the sandbox mounted anyway (a closed test server)
    AMAZON_ENDPOINT: str | None = None  # the demo points it at its own /sandbox/spapi
    AMAZON_LWA_URL: str | None = None  # None: Amazon's, or the endpoint in sandbox mode
    AMAZON_CREDENTIALS_FILE: str | None = None  # JSON; else python-amazon-sp-api's env vars
    AMAZON_RATE_MULTIPLIER = 1.0  # our token buckets' speed (benchmarks with a fast sandbox)
    AMAZON_HTTP_TIMEOUT = 30.0  # seconds per SP-API call; past it the answer counts as unknown
    # After a createFeed whose answer we never got, Amazon's feed list is believed to show
    # every feed made since the call only this long after it (always > the HTTP timeout).
    AMAZON_FEED_SETTLE_SECONDS = 180.0
    AMAZON_PUSH_LEASE_SECONDS = 60.0  # the push's Redis lease, renewed while it works
    # [["SELLER_ID", "MARKETPLACE_ID"], ...]: accounts asked for orders shoppers type that
    # Homing has not seen (besides the accounts of the orders it has).
    AMAZON_ACCOUNTS: list = []
    # Vendor Central (1P): the vendor code that remits credit notes, and their marketplace.
    VENDOR_CODE = "HOMINGVENDOR"
    VENDOR_MARKETPLACE_ID = "ATVPDKIKX0DER"

    # Retention (hub.privacy_jobs, hourly): days after which unit photos, and the personal
    # data of finished returns and their orders, are removed. None or 0: kept.
    RETENTION_PHOTO_DAYS: int | None = 365
    RETENTION_SHOPPER_DAYS: int | None = 730

    # Finance
    FINANCE_WEBHOOK_URL: str | None = None
    FINANCE_WEBHOOK_SECRET: str | None = None
    # Outcome webhooks (HQ > Webhooks). Private addresses and plain http are refused unless
    # this is true (tests, a closed network): an endpoint URL must not reach inside.
    WEBHOOK_ALLOW_PRIVATE = False
    WEBHOOK_TIMEOUT = 5.0  # seconds per delivery; past it the attempt is retried
    LEDGER_ACCOUNTS: dict = {}  # role -> {"code", "name"} overriding the default chart
    LEDGER_COST_PERCENT = 50  # a returned unit's cost as a share of its price

    # Shopper e-mail: SMTP when a host is set, else .eml files under instance/mail
    MAIL_SMTP_HOST: str | None = None
    MAIL_SMTP_PORT = 587
    MAIL_SMTP_STARTTLS = True
    MAIL_FROM = "returns@homing.invalid"
    HQ_ALERT_EMAIL: str | None = None  # where refund-deadline alerts go
    ALERT_EMAIL: str | None = None  # "past its deadline" alerts; unset: HQ_ALERT_EMAIL
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


# --- the settings check (`homing check`, and at start-up when serving for real) ------------

@dataclass(frozen=True)
class Unsafe:
    """A setting Homing refuses to serve with: what is wrong and how to fix it."""

    setting: str
    problem: str
    fix: str


AMAZON_CREDENTIAL_FIELDS = ("refresh_token", "lwa_app_id", "lwa_client_secret")
AMAZON_CREDENTIAL_ENV = ("SP_API_REFRESH_TOKEN", "LWA_APP_ID", "LWA_CLIENT_SECRET")


def check_settings(config: Mapping, environ: Mapping[str, str] | None = None) -> list[Unsafe]:
    """Every reason not to serve with these settings (empty: safe to serve)."""
    environ = os.environ if environ is None else environ
    return [*_secret(config), *_sandbox(config), *_amazon(config, environ),
            *_voucher_keys(config)]


def _secret(config: Mapping) -> list[Unsafe]:
    secret = str(config.get("SECRET_KEY") or "")
    if secret == DEV_SECRET or len(secret) < MIN_SECRET_LENGTH:
        what = "is the development value" if secret == DEV_SECRET else (
            f"has {len(secret)} characters (at least {MIN_SECRET_LENGTH} are needed)")
        return [Unsafe("HOMING_SECRET_KEY",
                       f"{what}: anyone could forge sessions, CSRF tokens and vouchers",
                       "export HOMING_SECRET_KEY=$(openssl rand -hex 32)")]
    return []


def _sandbox(config: Mapping) -> list[Unsafe]:
    if not config.get("MOUNT_SANDBOX"):
        return []
    if config.get("AMAZON_MODE") == "live":
        return [Unsafe("HOMING_MOUNT_SANDBOX",
                       "the SP-API sandbox is mounted at /sandbox/spapi next to the live "
                       "connector; its /_emu/ API answers and resets without authentication",
                       "HOMING_MOUNT_SANDBOX=false")]
    if not config.get("ALLOW_SANDBOX"):
        return [Unsafe("HOMING_MOUNT_SANDBOX",
                       "the SP-API sandbox is mounted at /sandbox/spapi (the default); its "
                       "/_emu/ API answers and resets without authentication",
                       "HOMING_MOUNT_SANDBOX=false (or HOMING_ALLOW_SANDBOX=true on a test "
                       "server nobody else can reach)")]
    return []


def _amazon(config: Mapping, environ: Mapping[str, str]) -> list[Unsafe]:
    mode = config.get("AMAZON_MODE")
    if mode == "sandbox":
        if config.get("AMAZON_ENDPOINT"):
            return []
        return [Unsafe("HOMING_AMAZON_MODE",
                       "is 'sandbox' but HOMING_AMAZON_ENDPOINT is not set: every Amazon job "
                       "and order look-up would fail",
                       "HOMING_AMAZON_MODE=live with credentials (see HOMING_AMAZON_"
                       "CREDENTIALS_FILE), or HOMING_AMAZON_ENDPOINT=<the sandbox's URL>")]
    if mode != "live":
        return [Unsafe("HOMING_AMAZON_MODE", f"is {mode!r}, which is neither 'live' nor "
                       "'sandbox'", "HOMING_AMAZON_MODE=live")]
    path = config.get("AMAZON_CREDENTIALS_FILE")
    if not path:
        missing = [name for name in AMAZON_CREDENTIAL_ENV if not environ.get(name)]
        if not missing:
            return []
        return [Unsafe("HOMING_AMAZON_CREDENTIALS_FILE",
                       "the live connector has no credentials: the file is not set and "
                       f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not in "
                       "the environment",
                       "HOMING_AMAZON_CREDENTIALS_FILE=/path/to/amazon.json with "
                       f"{', '.join(AMAZON_CREDENTIAL_FIELDS)} (or set "
                       f"{', '.join(AMAZON_CREDENTIAL_ENV)})")]
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        return [Unsafe("HOMING_AMAZON_CREDENTIALS_FILE", f"{path} cannot be read as JSON "
                       f"({type(exc).__name__}: {exc})",
                       f"make {path} a readable JSON object with "
                       f"{', '.join(AMAZON_CREDENTIAL_FIELDS)}")]
    missing = [f for f in AMAZON_CREDENTIAL_FIELDS
               if not isinstance(data, dict) or not data.get(f)]
    if missing:
        return [Unsafe("HOMING_AMAZON_CREDENTIALS_FILE", f"{path} lacks {', '.join(missing)}",
                       f"add {', '.join(missing)} to {path} (from Seller Central's app "
                       "registration)")]
    return []


def _voucher_keys(config: Mapping) -> list[Unsafe]:
    from hub.vouchers.crypto import private_key_from_text, public_key_from_text

    found = []
    signing = config.get("VOUCHER_SIGNING_KEY")
    try:
        if signing:
            private_key_from_text(str(signing))
    except (ValueError, TypeError) as exc:
        found.append(Unsafe("HOMING_VOUCHER_SIGNING_KEY", f"cannot be read ({exc})",
                            "set it to what `homing vouchers new-key` prints on its last line"))
    retired = config.get("VOUCHER_RETIRED_KEYS") or []
    try:
        if not isinstance(retired, list | tuple):
            raise ValueError("not a JSON list")
        for key in retired:
            public_key_from_text(str(key))
    except (ValueError, TypeError) as exc:
        found.append(Unsafe("HOMING_VOUCHER_RETIRED_KEYS", f"cannot be read ({exc})",
                            'a JSON list of public keys: ["<key>", ...]'))
    return found


def settings_report(problems: list[Unsafe]) -> str:
    lines = [f"Homing refuses to serve with {len(problems)} unsafe setting"
             f"{'s' if len(problems) != 1 else ''}:"]
    for item in problems:
        lines += [f"  {item.setting}: {item.problem}", f"    fix: {item.fix}"]
    lines.append("(`homing check` prints this list; the demo is `homing demo`.)")
    return "\n".join(lines)
