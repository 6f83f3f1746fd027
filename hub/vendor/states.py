"""The state machines of the vendor feature, and the one function that moves each.

A VRET receipt is counted at the counter, then closed. A dispute line waits for a person to
send it to Vendor Central, then for Amazon's answer. A returns credit note goes to Amazon at
most once per number: a call whose outcome is unknown (``unsure``) waits for a person who
checked Vendor Central; a rejected note is corrected under a new number (``superseded``)."""

from __future__ import annotations

from hub.machine import TransitionError, check

RECEIPT_TRANSITIONS = {
    "receiving": {"received"},
    "received": set(),
}
DISPUTE_TRANSITIONS = {
    # Found by the matcher; HQ sends it with the evidence pack, or drops it.
    "open": {"disputed", "dismissed"},
    "disputed": {"won", "lost"},
    "won": set(),
    "lost": set(),
    "dismissed": set(),
}
CREDIT_NOTE_TRANSITIONS = {
    # Written by HQ; the outbox hands it to the vendor-credit-notes job after commit.
    "draft": {"queued"},
    "queued": {"submitting"},
    # Claimed and committed before Amazon hears of it.
    "submitting": {"submitted", "rejected", "unsure", "queued"},
    # Amazon has it (transaction id kept); getTransaction decides.
    "submitted": {"accepted", "rejected"},
    # No answer: Amazon may have it. A person checks Vendor Central, never a blind resend.
    "unsure": {"accepted", "queued"},
    "accepted": set(),
    # Amazon's reasons kept; HQ corrects it and sends it again under a new number.
    "rejected": {"superseded"},
    "superseded": set(),
}
# (table, column) -> the edges its status may take (the migration's CHECKs allow exactly these).
MACHINES = {("vendor_receipts", "status"): RECEIPT_TRANSITIONS,
            ("vendor_disputes", "status"): DISPUTE_TRANSITIONS,
            ("vendor_credit_notes", "status"): CREDIT_NOTE_TRANSITIONS}
CREDIT_NOTE_OPEN = ("draft", "queued", "submitting", "submitted", "unsure")


def move_receipt(receipt, target: str) -> None:
    check(RECEIPT_TRANSITIONS, "VRET receipt", receipt.status, target)
    receipt.status = target


def move_dispute(dispute, target: str) -> None:
    check(DISPUTE_TRANSITIONS, "dispute", dispute.status, target)
    dispute.status = target


def move_credit_note(note, target: str) -> None:
    check(CREDIT_NOTE_TRANSITIONS, "credit note", note.status, target)
    note.status = target


__all__ = ["CREDIT_NOTE_TRANSITIONS", "DISPUTE_TRANSITIONS", "RECEIPT_TRANSITIONS",
           "TransitionError", "move_credit_note", "move_dispute", "move_receipt"]
