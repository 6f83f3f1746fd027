"""The counter's state machines.

An approval request is raised when an intake needs someone above the clerk: it waits for the
tier the policy names (a supervisor on any tablet of the store, or HQ's queue) until its
deadline, and ends approved, declined (back to the clerk) or withdrawn (the intake was
stopped or completed another way).

A counter visit is one shopper at the counter: it collects the returns handed in (vouchers
and walk-in orders) and closes once, with one receipt for all of them."""

from __future__ import annotations

from hub.machine import TransitionError, check

APPROVAL_TRANSITIONS = {
    "pending": {"approved", "declined", "withdrawn"},
    "approved": set(),
    "declined": set(),
    "withdrawn": set(),
}

VISIT_TRANSITIONS = {
    "open": {"closed", "cancelled"},
    "closed": set(),
    "cancelled": set(),
}


def move_approval(request, target: str) -> None:
    check(APPROVAL_TRANSITIONS, "approval request", request.status, target)
    request.status = target


def move_visit(visit, target: str) -> None:
    check(VISIT_TRANSITIONS, "counter visit", visit.status, target)
    visit.status = target


# (table, column) -> the edges its status may take (the migration's CHECKs allow exactly these).
MACHINES = {("approval_requests", "status"): APPROVAL_TRANSITIONS,
            ("counter_visits", "status"): VISIT_TRANSITIONS}

__all__ = ["MACHINES", "APPROVAL_TRANSITIONS", "VISIT_TRANSITIONS", "TransitionError",
           "move_approval", "move_visit"]
