"""The outbox message's state machine. A message is due while ``pending`` or ``failed``; the
relay hands it to RQ (``enqueued``); a delivery ends ``delivered``, or ``failed`` (retried after
the back-off) until the last attempt makes it ``dead``. A job that will never finish its
messages puts them back (``pending``); HQ's replay puts a dead one back in line."""

from __future__ import annotations

from hub.machine import TransitionError, check

OUTBOX_TRANSITIONS = {
    # The in-process runner delivers straight from pending (no RQ in between).
    "pending": {"enqueued", "delivered", "failed", "dead"},
    "enqueued": {"delivered", "failed", "dead", "pending"},
    "failed": {"enqueued", "delivered", "failed", "dead", "pending"},
    "delivered": set(),
    "dead": {"pending"},  # replayed by HQ
}
DUE = ("pending", "failed")


def move(message, target: str) -> None:
    check(OUTBOX_TRANSITIONS, "outbox message", message.status, target)
    message.status = target

# (table, column) -> the edges its status may take; the migrations' CHECKs allow exactly
# these states (tests/integration/test_migrations.py).
MACHINES = {("outbox_messages", "status"): OUTBOX_TRANSITIONS}

__all__ = ["MACHINES", "DUE", "OUTBOX_TRANSITIONS", "TransitionError", "move"]
