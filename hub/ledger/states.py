"""The journal entry's state machine. An entry is written balanced and final; its status says
only where it stands with the finance system: ``recorded`` (no finance webhook configured, so
nothing to send), ``pending`` (to be posted), ``failed`` (the last attempt failed; the outbox
retries) and ``posted`` (the finance system took it). A correction is a new entry, never an
edit, so nothing leaves ``posted`` or ``recorded``."""

from __future__ import annotations

from hub.machine import TransitionError, check

ENTRY_TRANSITIONS = {
    "pending": {"posted", "failed"},
    "failed": {"posted", "failed"},
    "posted": set(),
    "recorded": set(),
}


def move(entry, target: str) -> None:
    check(ENTRY_TRANSITIONS, "journal entry", entry.status, target)
    entry.status = target

# (table, column) -> the edges its status may take; the migrations' CHECKs allow exactly
# these states (tests/integration/test_migrations.py).
MACHINES = {("journal_entries", "status"): ENTRY_TRANSITIONS}

__all__ = ["MACHINES", "ENTRY_TRANSITIONS", "TransitionError", "move"]
