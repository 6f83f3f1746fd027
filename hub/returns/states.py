"""Explicit state machines of a return authorisation and of each returned unit."""

from __future__ import annotations

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


class TransitionError(ValueError):
    def __init__(self, what: str, current: str, target: str):
        super().__init__(f"a {what} that is {current} cannot become {target}")
        self.current, self.target = current, target


def check(table: dict[str, set[str]], what: str, current: str, target: str) -> None:
    if target not in table.get(current, set()):
        raise TransitionError(what, current, target)
