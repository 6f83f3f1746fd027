"""The refund's state machine, from the intent written at the counter to the settlement line
that proves Amazon paid it out. A refund is sent to Amazon at most once per feed; a feed Amazon
never processed (FATAL, CANCELLED) puts its refunds back in the queue."""

from __future__ import annotations

from hub.machine import TransitionError, check

REFUND_TRANSITIONS = {
    # Written with the intake; the outbox hands it to the channel after commit.
    # An order Amazon sold itself (vendor) is Amazon's to refund: amazon_refunded at once.
    "pending": {"queued", "manual", "amazon_refunded"},
    # Waiting for the next batched feed of its seller and marketplace.
    "queued": {"submitting", "amazon_refunded"},
    # Claimed into a feed that is being uploaded and created.
    "submitting": {"submitted", "queued"},
    # Amazon has the feed; its processing report decides.
    "submitted": {"succeeded", "failed", "amazon_refunded", "queued"},
    "succeeded": {"settled"},
    # Amazon refused it (reason kept); HQ may correct and replay it.
    "failed": {"queued"},
    # Amazon refunded the shopper itself first (A-to-z, auto-refund): nothing to send.
    "amazon_refunded": set(),
    # Channels without an API (web), and orders Amazon sold that the policy, with a written
    # reason, takes back: finance pays it out by hand.
    "manual": set(),
    "settled": set(),
}
OPEN = ("pending", "queued", "submitting", "submitted")

# (table, column) -> the edges its status may take; the migrations' CHECKs allow exactly
# these states (tests/integration/test_migrations.py).
MACHINES = {("refunds", "status"): REFUND_TRANSITIONS}

__all__ = ["MACHINES", "OPEN", "REFUND_TRANSITIONS", "TransitionError", "check"]
