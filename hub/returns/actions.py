"""The one owner of a return's states: the return authorisation and, per unit, its reception
(was it handed in?) and its acceptance (what the store decided). Other features ask here
instead of writing the return's tables; each change is checked against ``states``."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from hub.returns import states
from hub.returns.models import ReturnAuthorization, ReturnLine


def move(rma: ReturnAuthorization, target: str) -> None:
    states.check(states.RMA_TRANSITIONS, "return", rma.status, target)
    rma.status = target


def drop_off(rma: ReturnAuthorization, handed_in: Collection[int], now: datetime) -> None:
    """The shopper handed the return in at a store: the units in ``handed_in`` (return line
    ids) were received; the others were not handed in and are freed for a later return."""
    move(rma, "dropped_off")
    rma.dropped_off_at = now
    for line in rma.lines:
        receive(line, "received" if line.id in handed_in else "cancelled")


def receive(line: ReturnLine, target: str) -> None:
    states.check(states.UNIT_RECEPTION, "unit", line.reception_status, target)
    line.reception_status = target


def decide_unit(line: ReturnLine, *, accepted: bool, grade: str | None,
                disposition: str | None, reason: str, decided_by_id: int | None,
                at: datetime) -> None:
    """What the store decided on one unit; it may change its mind until the intake closes."""
    target = "accepted" if accepted else "rejected"
    states.check(states.UNIT_ACCEPTANCE, "unit", line.acceptance_status, target)
    line.acceptance_status = target
    line.grade = grade if accepted else None
    line.disposition = disposition if accepted else None
    line.decision_reason = "" if accepted else reason
    line.decided_by_id, line.decided_at = decided_by_id, at


def clear_decision(line: ReturnLine) -> None:
    """The intake was given up: the unit is undecided again."""
    states.check(states.UNIT_ACCEPTANCE, "unit", line.acceptance_status, "pending")
    line.acceptance_status, line.grade, line.disposition = "pending", None, None
    line.decision_reason, line.decided_by_id, line.decided_at = "", None, None
