"""Explicit state machines of a return authorisation and of each returned unit."""

from __future__ import annotations

from hub.machine import TransitionError, check

RMA_TRANSITIONS = {
    "issued": {"dropped_off", "cancelled", "expired"},
    "dropped_off": {"completed"},
    "completed": set(),
    "cancelled": set(),
    "expired": set(),
}
UNIT_RECEPTION = {
    "awaiting": {"received", "cancelled", "expired"},
    "received": set(),
    "cancelled": set(),
    "expired": set(),
}
# What the store decided on a unit; it may change its mind (or give up) until the intake
# completes, after which nothing writes the line's acceptance again.
UNIT_ACCEPTANCE = {
    "pending": {"accepted", "rejected", "pending"},
    "accepted": {"accepted", "rejected", "pending"},
    "rejected": {"accepted", "rejected", "pending"},
}

# (table, column) -> the edges its status may take; the migrations' CHECKs allow exactly
# these states (tests/integration/test_migrations.py).
MACHINES = {("return_authorizations", "status"): RMA_TRANSITIONS,
            ("return_lines", "reception_status"): UNIT_RECEPTION,
            ("return_lines", "acceptance_status"): UNIT_ACCEPTANCE}

__all__ = ["MACHINES", "RMA_TRANSITIONS", "UNIT_ACCEPTANCE", "UNIT_RECEPTION", "TransitionError",
           "check"]
