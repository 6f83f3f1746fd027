"""The intake's state machine. An intake is opened when a clerk scans a voucher and closed
exactly once as completed (voucher consumed, refund intent created). Abandoned means the clerk
gave up before completing; the voucher stays valid and a later scan reopens the intake."""

from __future__ import annotations

from hub.machine import TransitionError, check

INTAKE_TRANSITIONS = {
    "open": {"awaiting_approval", "completed", "abandoned"},
    # A supervisor approves (completed) or sends it back to the clerk (open).
    "awaiting_approval": {"completed", "open"},
    "completed": set(),
    "abandoned": {"open"},  # scanned again later: the same intake row is reused
}

# (table, column) -> the edges its status may take; the migrations' CHECKs allow exactly
# these states (tests/integration/test_migrations.py).
MACHINES = {("intakes", "status"): INTAKE_TRANSITIONS}

__all__ = ["MACHINES", "INTAKE_TRANSITIONS", "TransitionError", "check", "move"]


def move(intake, target: str) -> None:
    check(INTAKE_TRANSITIONS, "intake", intake.status, target)
    intake.status = target
