"""The VAT credit note's state machine, from the number allocated with the refund's success to
Amazon's verdict on the uploaded PDF. A note is immutable once issued: a correction is a new
note under a new number that supersedes the rejected one."""

from __future__ import annotations

from hub.machine import TransitionError, check

CREDIT_NOTE_TRANSITIONS = {
    # Numbered and rendered in the refund's transaction; the upload job owns it.
    "issued": {"uploading"},
    # createFeedDocument, the upload and createFeed under way (the document id is kept).
    # Refused at createFeed on its merits (a 4xx naming what is wrong): rejected.
    "uploading": {"submitted", "issued", "unsure", "rejected"},
    # createFeed got no answer we can read: Amazon may or may not have the feed. Resolved
    # by listing the seller's UPLOAD_VAT_INVOICE feeds, never by uploading blindly again.
    "unsure": {"submitted", "issued"},
    # Amazon has the feed; its processing report decides.
    "submitted": {"accepted", "rejected", "issued"},
    "accepted": set(),
    # Amazon refused it (reason kept): HQ corrects it and resends it under a new number.
    "rejected": {"superseded"},
    "superseded": set(),
}
OPEN = ("issued", "uploading", "unsure", "submitted")


def move(note, target: str) -> None:
    check(CREDIT_NOTE_TRANSITIONS, "credit note", note.status, target)
    note.status = target


__all__ = ["CREDIT_NOTE_TRANSITIONS", "OPEN", "TransitionError", "move"]

# (table, column) -> the edges its status may take (the migration's CHECKs allow exactly these).
MACHINES = {("credit_notes", "status"): CREDIT_NOTE_TRANSITIONS}
