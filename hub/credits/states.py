"""The store credit's state machine: issued active at the return's completion, spent down by
redemptions (never below zero), and closed when spent or expired."""

from __future__ import annotations

from hub.machine import TransitionError, check

CREDIT_TRANSITIONS = {
    "active": {"spent", "expired"},
    # Spent to zero. A credit is never topped up again: a new return issues a new code.
    "spent": set(),
    # Past its expiry: what was left is written back (breakage) and nothing can be redeemed.
    "expired": set(),
}

__all__ = ["CREDIT_TRANSITIONS", "TransitionError", "check", "move"]


def move(credit, target: str) -> None:
    check(CREDIT_TRANSITIONS, "credit", credit.status, target)
    credit.status = target

# (table, column) -> the edges its status may take (the migration's CHECKs allow exactly these).
MACHINES = {("store_credits", "status"): CREDIT_TRANSITIONS}
