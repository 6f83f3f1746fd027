"""The voucher's state machine: single use. Consumed once at a counter (a conditional update,
so of two racing stores exactly one wins), cancelled by HQ, or expired by the periodic job."""

from __future__ import annotations

from hub.machine import TransitionError, check

VOUCHER_TRANSITIONS = {
    "active": {"used", "cancelled", "expired"},
    "used": set(),
    "cancelled": set(),
    "expired": set(),
}


def move(voucher, target: str) -> None:
    check(VOUCHER_TRANSITIONS, "voucher", voucher.status, target)
    voucher.status = target

# (table, column) -> the edges its status may take; the migrations' CHECKs allow exactly
# these states (tests/integration/test_migrations.py).
MACHINES = {("vouchers", "status"): VOUCHER_TRANSITIONS}

__all__ = ["MACHINES", "VOUCHER_TRANSITIONS", "TransitionError", "move"]
