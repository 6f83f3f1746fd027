"""Item verification at the counter: the clerk scans (or types) the barcode of each returned
unit; Homing compares its GTIN with the order line's, offers to swap when it is another line of
the same order, and records the serial number where the policy asks for it.

A mismatch cannot be accepted as that unit without a supervisor (``acceptance_problems`` is
asked by the intake service before it records an accepted unit). A serial number already
handed back in another return is a risk flag on this return. The caller commits."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.audit.service import Actor, record
from hub.auth.models import User
from hub.intake.models import Intake
from hub.items import gtin
from hub.items.catalog import CatalogUnsure, Lookup, gtin_from_identifiers
from hub.items.models import ItemCheck
from hub.models import utcnow
from hub.orders.models import Order, OrderLine
from hub.policy.risk import serial_already_returned
from hub.returns import actions as return_actions
from hub.returns.models import ReturnAuthorization, ReturnLine
from hub.text import N_
from hub.validation import InvalidInput

AMAZON_CHANNELS = ("amazon-mfn", "amazon-fba", "amazon-business")
SERIAL = re.compile(r"[A-Z0-9][A-Z0-9./\-]{0,63}")
BLOCKING = ("mismatch", "other_line")

PROBLEMS = {
    "item_mismatch": N_("The scanned item is not the item ordered. A supervisor must approve "
                        "accepting it as this unit."),
    "not_in_return": N_("That item is on this order but not in this return. Reject this unit "
                        "as a wrong item, or start a return for the other item."),
    "no_swap": N_("There is nothing to swap: scan the item first."),
    "serial_empty": N_("Type or scan the serial number."),
    "serial_invalid": N_("A serial number has up to 64 letters, digits, dots, dashes or "
                         "slashes."),
    "not_a_supervisor": N_("Only a supervisor of this store can approve."),
    "intake_closed": N_("This intake is closed."),
    "unknown_unit": N_("This unit is not part of the return."),
}


def _problem(field: str, code: str) -> InvalidInput:
    return InvalidInput([{"field": field, "code": code, "message": PROBLEMS[code],
                          "template": PROBLEMS[code], "params": {}}])


@dataclass(frozen=True)
class ScanOutcome:
    check: ItemCheck
    amazon_unsure: bool  # Amazon was asked for the GTIN and did not answer
    other_line: OrderLine | None


# --- what the order says the item is --------------------------------------------------------

def expected_gtin(session: Session, line: OrderLine, order: Order,
                  lookup: Lookup | None) -> tuple[str, bool]:
    """The order line's GTIN, asking Amazon's catalog once when the import had none.
    Returns (gtin or "", whether Amazon was asked and did not answer)."""
    if line.gtin or line.gtin_source == "none":
        return line.gtin, False
    if order.channel not in AMAZON_CHANNELS or not line.asin or lookup is None:
        return "", False
    try:
        identifiers = lookup(order.seller_id, order.marketplace_id, line.asin)
    except CatalogUnsure:
        return "", True  # don't know: nothing stored, the next scan asks again
    found = gtin_from_identifiers(identifiers)
    line.gtin, line.gtin_source = (found, "amazon") if found else ("", "none")
    return found, False


# --- scanning -------------------------------------------------------------------------------

def _unit(session: Session, intake: Intake, unit_id: int
          ) -> tuple[ReturnLine, OrderLine, Order]:
    if intake.status != "open":
        raise _problem("intake", "intake_closed")
    line = session.get(ReturnLine, unit_id)
    if line is None or line.rma_id != intake.rma_id:
        raise _problem("unit", "unknown_unit")
    order_line = session.get(OrderLine, line.order_line_id)
    return line, order_line, session.get(Order, order_line.order_id)


def _check(session: Session, intake: Intake, line: ReturnLine) -> ItemCheck:
    found = session.scalar(sa.select(ItemCheck).where(ItemCheck.return_line_id == line.id))
    if found is None:
        found = ItemCheck(intake_id=intake.id, return_line_id=line.id, expected_gtin="",
                          scanned_gtin="", source="typed", result="unverified",
                          serial_number="", serial_check="", serial_seen_in="")
        session.add(found)
    return found


def scan(session: Session, intake: Intake, unit_id: int, raw: object, barcode_format: str,
         actor: Actor, lookup: Lookup | None = None) -> ScanOutcome:
    """Compare the barcode the clerk scanned (or typed) with the unit's order line."""
    line, order_line, order = _unit(session, intake, unit_id)
    fmt = barcode_format if barcode_format in gtin.FORMATS else "typed"
    try:
        scanned = gtin.normalise(raw, fmt)
    except gtin.GtinError as exc:
        raise InvalidInput([{"field": "barcode", "code": exc.code, "message": str(exc),
                             "template": gtin.ERRORS[exc.code], "params": {}}]) from None
    expected, unsure = expected_gtin(session, order_line, order, lookup)
    other = None
    if not gtin.same_item(expected, scanned):
        other = next((ol for ol in order.lines if ol.id != order_line.id
                      and gtin.same_item(expected_gtin(session, ol, order, lookup)[0],
                                         scanned)), None)
    result = ("match" if gtin.same_item(expected, scanned) else "other_line" if other
              else "mismatch" if expected else "unverified")
    check = _check(session, intake, line)
    check.expected_gtin, check.scanned_gtin, check.source = expected, scanned, fmt
    check.result, check.other_order_line_id = result, other.id if other else None
    check.overridden_by_id = check.overridden_at = None
    check.clerk_id = actor.id if actor.kind == "user" else None
    check.checked_at = utcnow()
    if result in BLOCKING and line.acceptance_status == "accepted":
        return_actions.clear_decision(line)  # accepted as something it is not: decide again
    session.flush()
    record(session, actor, "intake.item_scanned", "intake", intake.id, store_id=intake.store_id,
           after={"unit": line.id, "result": result, "scanned": scanned,
                  "expected": expected, "source": fmt, "amazon_unsure": unsure})
    return ScanOutcome(check, unsure, other)


def approve_mismatch(session: Session, intake: Intake, unit_id: int, supervisor: User,
                     actor: Actor) -> ItemCheck:
    """A supervisor lets the clerk accept a unit whose barcode is not the one ordered."""
    line, _ol, _order = _unit(session, intake, unit_id)
    if supervisor.role != "supervisor" or supervisor.store_id != intake.store_id:
        raise _problem("supervisor", "not_a_supervisor")
    check = session.scalar(sa.select(ItemCheck).where(ItemCheck.return_line_id == line.id))
    if check is None or check.result not in BLOCKING:
        raise _problem("barcode", "no_swap")
    check.overridden_by_id, check.overridden_at = supervisor.id, utcnow()
    record(session, actor, "intake.item_mismatch_approved", "intake", intake.id,
           store_id=intake.store_id, after={"unit": line.id, "supervisor": supervisor.id,
                                            "scanned": check.scanned_gtin})
    return check


def swap(session: Session, intake: Intake, unit_id: int, actor: Actor) -> int:
    """The scanned item is another unit of this return: record the scan on that unit (a
    match) and leave this one to be scanned. Returns the unit the item belongs to."""
    line, _ol, _order = _unit(session, intake, unit_id)
    check = session.scalar(sa.select(ItemCheck).where(ItemCheck.return_line_id == line.id))
    if check is None or check.result != "other_line":
        raise _problem("barcode", "no_swap")
    rma = session.get(ReturnAuthorization, intake.rma_id)
    checked = set(session.scalars(sa.select(ItemCheck.return_line_id).where(
        ItemCheck.intake_id == intake.id, ItemCheck.result == "match")))
    target = next((rl for rl in rma.lines if rl.order_line_id == check.other_order_line_id
                   and rl.id not in checked), None)
    if target is None:
        raise _problem("barcode", "not_in_return")
    moved = _check(session, intake, target)
    moved.expected_gtin = moved.scanned_gtin = check.scanned_gtin
    moved.source, moved.result, moved.other_order_line_id = check.source, "match", None
    moved.clerk_id, moved.checked_at = check.clerk_id, utcnow()
    check.scanned_gtin, check.result, check.other_order_line_id = "", "unverified", None
    session.flush()
    record(session, actor, "intake.item_swapped", "intake", intake.id, store_id=intake.store_id,
           after={"from_unit": line.id, "to_unit": target.id, "scanned": moved.scanned_gtin})
    return target.id


# --- serial numbers -------------------------------------------------------------------------

def normalise_serial(raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise _problem("serial", "serial_empty")
    text = raw.strip().upper()
    if len(text) > 64 or not SERIAL.fullmatch(text):
        raise _problem("serial", "serial_invalid")
    return text


def record_serial(session: Session, intake: Intake, unit_id: int, raw: object,
                  actor: Actor) -> ItemCheck:
    """Record the unit's serial number, check it against the order when the order knows its
    serials, and flag the return when another return already brought the same serial back."""
    line, order_line, _order = _unit(session, intake, unit_id)
    serial = normalise_serial(raw)
    known = {str(s).strip().upper() for s in order_line.serial_numbers or []}
    check = _check(session, intake, line)
    check.serial_number = serial
    check.serial_check = ("match" if serial in known else "mismatch") if known else "unknown"
    check.serial_seen_in = _returned_before(session, serial, intake) or ""
    session.flush()
    if check.serial_seen_in:
        _flag_risk(session, intake, check.serial_seen_in)
    record(session, actor, "intake.serial_recorded", "intake", intake.id,
           store_id=intake.store_id, after={"unit": line.id, "check": check.serial_check,
                                            "seen_in": check.serial_seen_in})
    return check


def _returned_before(session: Session, serial: str, intake: Intake) -> str | None:
    """The number of another return whose completed intake recorded the same serial."""
    return session.scalar(
        sa.select(ReturnAuthorization.number)
        .join(Intake, Intake.rma_id == ReturnAuthorization.id)
        .join(ItemCheck, ItemCheck.intake_id == Intake.id)
        .where(ItemCheck.serial_number == serial, Intake.id != intake.id,
               Intake.status == "completed").limit(1))


def _flag_risk(session: Session, intake: Intake, seen_in: str) -> None:
    rma = session.get(ReturnAuthorization, intake.rma_id)
    score, flags, action = serial_already_returned(rma.risk_score, list(rma.risk_flags or []),
                                                   seen_in, rma.policy_snapshot)
    rma.risk_score, rma.risk_flags = score, flags
    rma.needs_hq_review = rma.needs_hq_review or action == "hq_review"


# --- what the intake asks before accepting ------------------------------------------------------

def acceptance_problems(session: Session, return_line_id: int) -> list[dict]:
    """Why this unit cannot be accepted as it is: its barcode is another item and no
    supervisor approved."""
    check = session.scalar(sa.select(ItemCheck).where(
        ItemCheck.return_line_id == return_line_id))
    if check is not None and check.result in BLOCKING and check.overridden_by_id is None:
        return [{"field": "barcode", "code": "item_mismatch",
                 "message": PROBLEMS["item_mismatch"], "template": PROBLEMS["item_mismatch"],
                 "params": {}}]
    return []


def checks_for(session: Session, intake: Intake) -> dict[int, ItemCheck]:
    return {c.return_line_id: c for c in session.scalars(
        sa.select(ItemCheck).where(ItemCheck.intake_id == intake.id))}


def forget(session: Session, intake: Intake) -> None:
    """The intake was given up: the next scan of the voucher checks the items afresh."""
    session.execute(sa.delete(ItemCheck).where(ItemCheck.intake_id == intake.id))
