"""The feed submission's state machine: how a batch of refunds travels to Amazon.

A submission leaves "creating" (createFeed may have reached Amazon, its feed id unknown) only
on Amazon's evidence: the feed id in createFeed's answer, a listed feed whose processing report
carries exactly this submission's messages, or Amazon's list showing no feed created since the
call went out (read after the settle time). Elapsed time alone never decides.
"""

from __future__ import annotations

from hub.machine import TransitionError, check

SUBMISSION_TRANSITIONS = {
    # Refunds claimed; the document is being built and uploaded.
    "building": {"uploaded"},
    # The document is at Amazon; no feed asked for yet.
    "uploaded": {"creating", "building"},
    # createFeed sent: answered with a feed id, refused for certain, or unknown.
    "creating": {"submitted", "uploaded", "building"},
    # Amazon has the feed; its processing report decides each refund.
    "submitted": {"done", "fatal", "cancelled"},
    "done": set(),
    "fatal": set(),
    "cancelled": set(),
}


def move(submission, target: str) -> None:
    check(SUBMISSION_TRANSITIONS, "feed submission", submission.status, target)
    submission.status = target

# (table, column) -> the edges its status may take; the migrations' CHECKs allow exactly
# these states (tests/integration/test_migrations.py).
MACHINES = {("amazon_feed_submissions", "status"): SUBMISSION_TRANSITIONS}

__all__ = ["MACHINES", "SUBMISSION_TRANSITIONS", "TransitionError", "move"]
