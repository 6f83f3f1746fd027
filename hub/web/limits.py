"""Whose budget a rate-limited request spends.

Anonymous callers (the shopper's order look-up) are counted per client address. A signed-in
caller is counted as itself: an API key per key, a store tablet per enrolled device, so the
counters of a chain behind one NAT address do not share one budget, and one key or tablet
that misbehaves is stopped without stopping the others."""

from __future__ import annotations

from flask import request
from flask_limiter.util import get_remote_address


def caller_key() -> str:
    # Set by hub.api.common.require. Not g: g lives as long as the app context, which can
    # span many requests (the CLI, tests).
    principal = request.environ.get("homing.principal")
    if principal is not None:
        return f"{principal.kind}:{principal.id}"
    from hub.web.session import current_device

    device = current_device()
    if device is not None:
        return f"device:{device.id}"
    return f"address:{get_remote_address()}"
