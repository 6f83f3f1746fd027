"""REST API v1. Bearer API keys, JSON in and out, RFC 9457 problem details on errors."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__)


def _exempt_from_csrf(state) -> None:
    # API callers authenticate with a bearer key, not a browser cookie: no CSRF exposure.
    from hub.extensions import csrf

    csrf.exempt(bp)


bp.record_once(_exempt_from_csrf)

from hub.api import (  # noqa: E402,F401  (routes register on bp)
    business,
    credits,
    health,
    intakes,
    openapi,
    orders,
    outbox,
    policy,
    refunds,
    returns,
    routing,
    stock,
    stores,
)
