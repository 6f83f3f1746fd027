"""How Homing signs what it POSTs (the finance journal webhook and the outcome webhooks):
``X-Homing-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body>``. A receiver
recomputes the HMAC with its secret, compares in constant time and refuses an old ``t``."""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Homing-Signature"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, *, now: int, tolerance: int = 300) -> bool:
    """What a receiver does (our tests receive this way)."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (ValueError, KeyError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)
