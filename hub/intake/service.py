"""Store intake: open an intake from a scanned voucher, record what the clerk finds on each
unit, price it live, and complete it in one transaction that consumes the voucher and writes
the refund intent and its side effects (outbox). The caller commits."""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from hub.audit.service import Actor, record
from hub.auth.models import User
from hub.counter import approvals, visits
from hub.credits import service as credits
from hub.credits.models import StoreCredit
from hub.intake import inspection
from hub.intake.inspection import UnitDecision
from hub.intake.models import Inspection, Intake, Photo, StockMovement
from hub.intake.states import move
from hub.items import service as item_checks
from hub.models import iso, utcnow
from hub.money import amount_text
from hub.orders.models import Order, OrderLine
from hub.outbox import service as outbox
from hub.policy.document import credit_offer
from hub.policy.models import ReturnReason
from hub.refunds import service as refunds
from hub.refunds.engine import (
    LineRefund,
    RefundBreakdown,
    RefundEngine,
    RefundRules,
    ReturnedUnit,
)
from hub.refunds.models import Refund
from hub.returns import actions as return_actions
from hub.returns import service as returns
from hub.returns.models import ReturnAuthorization, ReturnLine
from hub.scan import revisions as scan_revisions
from hub.stock import service as stock
from hub.stores.models import Store
from hub.validation import InvalidInput
from hub.vouchers.crypto import Keyring, VoucherError
from hub.vouchers.models import Voucher
from hub.webhooks import service as webhooks


class IntakeConflict(Exception):
    """The voucher is being (or was) handled elsewhere; nothing was changed here."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class ApprovalRequired(Exception):
    def __init__(self, reasons: list[str]):
        super().__init__("a supervisor must approve this intake: " + ", ".join(reasons))
        self.reasons = reasons


# --- opening ------------------------------------------------------------------------------------

def open_intake(session: Session, keyring: Keyring, text: str, store: Store, actor: Actor, *,
                device_id: int | None = None, api_key_id: int | None = None,
                now: datetime | None = None) -> tuple[Intake, bool]:
    """Open (or resume) the intake for a scanned token or typed short code at ``store``.
    Returns the intake and whether it was dropped at a store it was not routed to.
    Raises VoucherError (bad voucher) or IntakeConflict (handled at another counter)."""
    now = now or utcnow()
    voucher, rma = returns.find_voucher(session, keyring, text, now)
    existing = session.scalar(sa.select(Intake).where(Intake.rma_id == rma.id))
    if existing is not None and existing.status == "abandoned":
        return _reopen(session, existing, rma, store, actor, device_id, api_key_id, now)
    if existing is not None:
        if existing.store_id == store.id and existing.status in ("open", "awaiting_approval"):
            return existing, existing.offsite
        raise IntakeConflict("in_progress_elsewhere",
                             "This return is already being checked in at another counter.")
    offsite = _check_store(session, rma, store)
    intake = Intake(rma_id=rma.id, voucher_id=voucher.id, store_id=store.id,
                    clerk_id=actor.id if actor.kind == "user" else None, device_id=device_id,
                    api_key_id=api_key_id, status="open", offsite=offsite, started_at=now)
    session.add(intake)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # another counter opened it a moment ago
        raise IntakeConflict("in_progress_elsewhere",
                             "This return is already being checked in at another counter."
                             ) from None
    record(session, actor, "intake.opened", "intake", intake.id, store_id=store.id,
           after={"return": rma.number, "offsite": offsite})
    return intake, offsite


def _check_store(session: Session, rma: ReturnAuthorization, store: Store) -> bool:
    """Whether the drop-off is off-route; refuses it when the policy wants the routed store."""
    offsite = rma.chosen_store_id is not None and rma.chosen_store_id != store.id
    if offsite and not rma.policy_snapshot.get("intake", {}).get("accept_at_other_stores", True):
        chosen = session.get(Store, rma.chosen_store_id)
        raise VoucherError("wrong_store", f"This return must be handed in at {chosen.name}.")
    return offsite


def _reopen(session: Session, intake: Intake, rma: ReturnAuthorization, store: Store,
            actor: Actor, device_id: int | None, api_key_id: int | None,
            now: datetime) -> tuple[Intake, bool]:
    intake.offsite = _check_store(session, rma, store)
    move(intake, "open")
    intake.store_id, intake.started_at = store.id, now
    intake.clerk_id = actor.id if actor.kind == "user" else None
    intake.device_id, intake.api_key_id = device_id, api_key_id
    record(session, actor, "intake.reopened", "intake", intake.id, store_id=store.id,
           after={"return": rma.number, "offsite": intake.offsite})
    return intake, intake.offsite


def abandon(session: Session, intake: Intake, actor: Actor) -> None:
    """Give up before completing: the voucher stays valid and the decisions are cleared, so
    the next scan (here or at another store) starts afresh. Photos are kept for the record."""
    move(intake, "abandoned")
    approvals.close_request(session, intake.id, "withdrawn", None, utcnow())
    rma = session.get(ReturnAuthorization, intake.rma_id)
    for line in rma.lines:
        return_actions.clear_decision(line)
    session.execute(sa.delete(Inspection).where(Inspection.intake_id == intake.id))
    item_checks.forget(session, intake)
    scan_revisions.touch(session, intake_ids={intake.id})  # a bulk delete: no flush sees it
    record(session, actor, "intake.abandoned", "intake", intake.id, store_id=intake.store_id)


# --- recording units ----------------------------------------------------------------------------

def _unit(session: Session, intake: Intake, unit_id: int) -> tuple[ReturnLine, OrderLine]:
    line = session.get(ReturnLine, unit_id)
    if line is None or line.rma_id != intake.rma_id:
        raise InvalidInput([{"field": "unit", "code": "unknown_unit",
                             "message": "This unit is not part of the return."}])
    return line, session.get(OrderLine, line.order_line_id)


def _require_open(intake: Intake) -> None:
    if intake.status != "open":
        raise IntakeConflict("intake_closed", f"This intake is {intake.status.replace('_', ' ')}.")


def record_unit(session: Session, intake: Intake, unit_id: int, decision: UnitDecision,
                actor: Actor, now: datetime | None = None) -> ReturnLine:
    """Record (or change) what the clerk found on one unit. Nothing is final until completion."""
    now = now or utcnow()
    _require_open(intake)
    line, order_line = _unit(session, intake, unit_id)
    problems = inspection.check_decision(order_line.category, decision)
    if decision.decision == "accept":
        problems += item_checks.acceptance_problems(session, line.id)
    if problems:
        raise InvalidInput(problems)
    found = session.scalar(sa.select(Inspection).where(Inspection.return_line_id == line.id))
    if found is None:
        found = Inspection(intake_id=intake.id, return_line_id=line.id, grade="")
        session.add(found)
    found.grade = decision.grade or ""
    found.checklist = {"answers": dict(decision.checklist), "reception": decision.reception,
                       "reason_confirmed": decision.reason_confirmed}
    found.notes = decision.notes
    found.clerk_id = actor.id if actor.kind == "user" else None
    found.inspected_at = now
    return_actions.decide_unit(line, accepted=decision.decision == "accept",
                               grade=decision.grade, disposition=decision.disposition,
                               reason=decision.reject_reason,
                               decided_by_id=actor.id if actor.kind == "user" else None,
                               at=now)
    session.flush()
    record(session, actor, "intake.unit_recorded", "intake", intake.id, store_id=intake.store_id,
           after={"unit": line.id, "reception": decision.reception,
                  "decision": decision.decision, "grade": line.grade,
                  "disposition": line.disposition, "reason": line.decision_reason})
    return line


def decision_of(line: ReturnLine, found: Inspection | None) -> UnitDecision | None:
    if found is None or line.acceptance_status == "pending":
        return None
    facts = found.checklist or {}
    return UnitDecision(
        reception=facts.get("reception", "received"),
        decision="accept" if line.acceptance_status == "accepted" else "reject",
        grade=line.grade, disposition=line.disposition, reject_reason=line.decision_reason,
        reason_confirmed=facts.get("reason_confirmed", True),
        checklist=facts.get("answers", {}), notes=found.notes)


def decisions(session: Session, intake: Intake) -> dict[int, UnitDecision | None]:
    rma = session.get(ReturnAuthorization, intake.rma_id)
    found = {i.return_line_id: i for i in session.scalars(
        sa.select(Inspection).where(Inspection.intake_id == intake.id))}
    return {line.id: decision_of(line, found.get(line.id)) for line in rma.lines}


# --- pricing ------------------------------------------------------------------------------------

_FAULTS: dict = {"until": 0.0, "faults": {}}
FAULTS_TTL = 60.0  # seconds; the reason list changes rarely, and is read on every live refund


def _seller_fault(session: Session) -> dict[str, bool]:
    """Which reasons are the seller's fault, cached per process for a minute."""
    now = time.monotonic()
    if now >= _FAULTS["until"]:
        _FAULTS["faults"] = dict(session.execute(
            sa.select(ReturnReason.code, ReturnReason.seller_fault)).all())
        _FAULTS["until"] = now + FAULTS_TTL
    return _FAULTS["faults"]


def order_return_lines(session: Session, rma: ReturnAuthorization, order: Order
                       ) -> list[ReturnLine]:
    """Every returned unit of the order in one query; this return's own also fill
    ``rma.lines`` when it is not loaded yet (saving the lazy load)."""
    lines = list(session.scalars(
        sa.select(ReturnLine).join(OrderLine, OrderLine.id == ReturnLine.order_line_id)
        .where(OrderLine.order_id == order.id).order_by(ReturnLine.id)))
    if "lines" in sa.inspect(rma).unloaded:
        set_committed_value(rma, "lines", [line for line in lines if line.rma_id == rma.id])
    return lines


def live_refund(session: Session, intake: Intake,
                chosen: Mapping[int, UnitDecision | None] | None = None,
                order_lines: list[ReturnLine] | None = None) -> RefundBreakdown:
    """What the shopper gets for the units accepted so far, at their grades. Units of the same
    order accepted in earlier returns count as already returned. ``chosen`` and
    ``order_lines`` (the order's returned units): when the caller already has them."""
    rma = session.get(ReturnAuthorization, intake.rma_id)
    order = session.get(Order, rma.order_id)
    engine = RefundEngine(returns.paid_order(order), RefundRules.from_policy(rma.policy_snapshot))
    fault = _seller_fault(session)
    all_lines = order_lines if order_lines is not None else \
        order_return_lines(session, rma, order)
    by_line = chosen if chosen is not None else decisions(session, intake)
    returning = [
        ReturnedUnit(str(line.order_line_id), line.unit_no - 1, line.grade or "A",
                     bool(fault.get(line.reason_code)) and by_line[line.id].reason_confirmed)
        for line in rma.lines if line.acceptance_status == "accepted"]
    already = [ReturnedUnit(str(line.order_line_id), line.unit_no - 1, line.grade or "A",
                            bool(fault.get(line.reason_code)))
               for line in all_lines
               if line.rma_id != rma.id and line.acceptance_status == "accepted"]
    return engine.refund(returning, already_returned=already,
                         refunded_before=_refunds_made(session, order.id, intake.id))


def _refunds_made(session: Session, order_id: int, intake_id: int) -> list[RefundBreakdown]:
    """The refunds made for the order's earlier returns. The engine measures this refund
    against them, so a claw-back an earlier refund could not deduct (it never goes below
    zero) is deducted now rather than paid out later."""
    refunds = session.scalars(
        sa.select(Refund).where(Refund.order_id == order_id,
                                sa.or_(Refund.intake_id.is_(None), Refund.intake_id != intake_id))
        .options(selectinload(Refund.lines)))
    return [RefundBreakdown(r.currency, [
        LineRefund(str(ln.order_line_id), ln.quantity,
                   {c["type"]: c["amount_minor"] for c in ln.components}) for ln in r.lines],
        [], False) for r in refunds] + credits.settled_before(session, order_id, intake_id)


def pending_approval(session: Session, intake: Intake,
                     breakdown: RefundBreakdown | None = None,
                     chosen: Mapping[int, UnitDecision | None] | None = None) -> list[str]:
    rma = session.get(ReturnAuthorization, intake.rma_id)
    chosen = chosen if chosen is not None else decisions(session, intake)
    breakdown = breakdown or live_refund(session, intake, chosen)
    policy = rma.policy_snapshot
    risk = policy.get("risk", {})
    action = ("hq_review" if rma.needs_hq_review else
              "supervisor" if rma.risk_score >= risk.get("supervisor_score", 101) else "none")
    made = [d for d in chosen.values() if d is not None]
    reasons = inspection.approval_reasons(policy, rma.currency, breakdown.total, made, action)
    if any(flag.get("code") == "override" for flag in rma.risk_flags or []):
        reasons.append("override")  # taken at the counter outside the policy
    if reasons and approvals.needed_role(session, intake, breakdown.total, reasons) == "clerk":
        return []  # the policy's chain lets the clerk approve this alone
    return reasons


# --- completing ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Completion:
    intake: Intake
    refund: Refund | None
    breakdown: RefundBreakdown
    credit: StoreCredit | None = None


def complete(session: Session, intake: Intake, actor: Actor, *, supervisor: User | None = None,
             now: datetime | None = None) -> Completion:
    """Close the intake: every unit decided, approval when the policy asks for it, the voucher
    consumed (exactly one counter wins), the refund intent and its side effects written."""
    now = now or utcnow()
    _require_open(intake)
    rma = session.get(ReturnAuthorization, intake.rma_id)
    chosen = decisions(session, intake)
    undecided = [unit_id for unit_id, d in chosen.items() if d is None]
    if undecided:
        raise InvalidInput([{"field": f"units[{u}]", "code": "undecided",
                             "message": "Decide every unit before completing."}
                            for u in undecided])
    breakdown = live_refund(session, intake, chosen)
    reasons = pending_approval(session, intake, breakdown, chosen)
    if reasons:
        if supervisor is None:
            raise ApprovalRequired(reasons)
        try:
            approvals.check_approver(session, intake, supervisor, breakdown.total, reasons)
        except approvals.ApprovalRefused as exc:
            conflict = IntakeConflict("tier_too_low", f"Only {exc.needed} may approve this.")
            conflict.needed = exc.needed
            raise conflict from None
        approvals.close_request(session, intake.id, "approved", supervisor.id, now)
        intake.approved_by_id, intake.approved_at = supervisor.id, now
        intake.approval_reasons = reasons
    voucher = session.get(Voucher, intake.voucher_id)
    if not returns.consume_voucher(session, voucher, intake.store_id, now):
        raise IntakeConflict("already_used", "This voucher was used at another store meanwhile.")

    return_actions.drop_off(rma, {line.id for line in rma.lines
                                  if chosen[line.id].reception == "received"}, now)
    move(intake, "completed")
    intake.completed_at = now
    intake.receipt_number = _receipt_number(session, now)
    order = session.get(Order, rma.order_id)
    credit = _credit_instead(session, intake, rma, order, breakdown, now)
    refund = None if credit is not None else refunds.create_intent(
        session, rma_id=rma.id, rma_number=rma.number, intake_id=intake.id,
        store_id=intake.store_id, order=order, currency=rma.currency,
        breakdown=breakdown, now=now)
    if refund is None:  # settled here (credit, or every unit refused): the return ends
        return_actions.move(rma, "completed")
        rma.completed_at = now
    _stock_movements(session, intake, rma)
    _emit_effects(session, intake, rma, refund)
    record(session, actor, "intake.completed", "intake", intake.id, store_id=intake.store_id,
           after={"return": rma.number, "accepted": sum(1 for d in chosen.values()
                                                        if d.decision == "accept"),
                  "rejected": sum(1 for d in chosen.values() if d.decision == "reject"),
                  "refund": breakdown.total, "currency": rma.currency,
                  "approved_by": supervisor.id if reasons else None, "reasons": reasons})
    return Completion(intake, refund, breakdown, credit)


def _credit_instead(session: Session, intake: Intake, rma: ReturnAuthorization, order: Order,
                    breakdown: RefundBreakdown, now: datetime) -> StoreCredit | None:
    """The store credit a return that asked for it gets instead of its refund, on the terms
    of the policy it was authorised under (None: a refund, as usual)."""
    if rma.outcome != "credit" or breakdown.total <= 0:
        return None
    reasons = [line.reason_code for line in rma.lines if line.acceptance_status == "accepted"]
    offer = credit_offer(rma.policy_snapshot, order.channel, rma.currency, reasons)
    if offer is None:
        return None
    return credits.issue(session, rma=rma, intake_id=intake.id, channel=order.channel,
                         offer=offer, breakdown=breakdown, store_id=intake.store_id, now=now)


def _receipt_number(session: Session, now: datetime) -> str:
    while True:
        number = f"RC-{now:%y%m%d}-{secrets.token_hex(3).upper()}"
        if not session.scalar(sa.select(Intake.id).where(Intake.receipt_number == number)):
            return number


# Dispositions that put the unit on this store's shelf (the others send it elsewhere).
ON_THIS_SHELF = ("restock", "open_box")


def _stock_movements(session: Session, intake: Intake, rma: ReturnAuthorization) -> None:
    skus = {ol.id: ol.sku for ol in session.get(Order, rma.order_id).lines}
    store = session.get(Store, intake.store_id)
    for line in rma.lines:
        if line.acceptance_status == "accepted":
            disposition = line.disposition or "restock"
            session.add(StockMovement(return_line_id=line.id, store_id=intake.store_id,
                                      sku=skus[line.order_line_id], disposition=disposition))
            if disposition in ON_THIS_SHELF:
                stock.adjust(session, store, skus[line.order_line_id], 1, reason="restock",
                             reference=f"{rma.number} unit {line.unit_no}",
                             key=f"restock:{line.id}")
    session.flush()


def _emit_effects(session: Session, intake: Intake, rma: ReturnAuthorization,
                  refund: Refund | None) -> None:
    """The side effects of a completed intake, delivered after commit by the outbox."""
    key = f"intake:{intake.id}"
    outbox.emit(session, "stock.movement", {"intake_id": intake.id},
                dedupe_key=f"{key}:stock", store_id=intake.store_id)
    # A return handed in during a counter visit is in the visit's one e-mail.
    if rma.shopper_email and not visits.in_a_visit(session, intake.id):
        outbox.emit(session, "shopper.notify", {"rma": rma.number, "event": "dropped_off",
                                                "receipt": intake.receipt_number},
                    dedupe_key=f"{key}:notify", store_id=intake.store_id)
    _publish_completed(session, intake, rma, refund)


def _publish_completed(session: Session, intake: Intake, rma: ReturnAuthorization,
                       refund: Refund | None) -> None:
    skus = {ol.id: ol.sku for ol in session.get(Order, rma.order_id).lines}
    units = [{"unit_id": line.id, "sku": skus[line.order_line_id],
              "decision": "accept" if line.acceptance_status == "accepted" else "reject",
              "disposition": line.disposition}
             for line in rma.lines if line.reception_status == "received"]
    webhooks.publish(session, "intake.completed", {
        "intake_id": intake.id, "return": rma.number,
        "store": session.get(Store, intake.store_id).code,
        "receipt_number": intake.receipt_number,
        "refund": amount_text(refund.amount if refund else 0, rma.currency),
        "currency": rma.currency, "completed_at": iso(intake.completed_at), "units": units},
        key=f"intake:{intake.id}:completed", store_id=intake.store_id)


# --- approval queue -----------------------------------------------------------------------------

def request_approval(session: Session, intake: Intake, actor: Actor) -> list[str]:
    """Send the intake to the supervisor's queue (when no supervisor is at the counter)."""
    _require_open(intake)
    reasons = pending_approval(session, intake)
    if not reasons:
        raise IntakeConflict("no_approval_needed", "This intake needs no approval.")
    move(intake, "awaiting_approval")
    intake.approval_reasons = reasons
    request = approvals.open_request(session, intake, reasons, live_refund(session, intake).total,
                                     actor.id if actor.kind == "user" else None, utcnow())
    record(session, actor, "intake.approval_requested", "intake", intake.id,
           store_id=intake.store_id, after={"reasons": reasons, "tier": request.role,
                                            "due_at": request.due_at.isoformat()})
    return reasons


def decide_approval(session: Session, intake: Intake, supervisor: User, approve: bool,
                    now: datetime | None = None) -> Completion | None:
    """A supervisor approves (and so completes) or sends the intake back to the clerk."""
    if intake.status != "awaiting_approval":
        raise IntakeConflict("not_awaiting_approval", "This intake is not waiting for approval.")
    actor = Actor("user", supervisor.id, supervisor.name, store_id=supervisor.store_id)
    move(intake, "open")
    if not approve:
        if approvals.acting_role(supervisor, intake) is None:
            raise IntakeConflict("tier_too_low", "Only an approver of this store or HQ may "
                                                 "send this back.")
        approvals.close_request(session, intake.id, "declined", supervisor.id, now or utcnow())
        record(session, actor, "intake.approval_declined", "intake", intake.id,
               store_id=intake.store_id)
        return None
    return complete(session, intake, actor, supervisor=supervisor, now=now)


# --- photos ---------------------------------------------------------------------------------------

def add_photo(session: Session, intake: Intake, unit_id: int | None, stored: Mapping,
              actor: Actor) -> Photo:
    """Attach a photo already cleaned and written by ``hub.intake.photos``."""
    if intake.status in ("completed", "abandoned"):
        raise IntakeConflict("intake_closed", f"This intake is {intake.status}.")
    if unit_id is not None:
        _unit(session, intake, unit_id)
    photo = Photo(intake_id=intake.id, return_line_id=unit_id, **stored)
    session.add(photo)
    session.flush()
    record(session, actor, "intake.photo_added", "intake", intake.id, store_id=intake.store_id,
           after={"photo": photo.id, "unit": unit_id, "sha256": photo.sha256})
    return photo


# --- today at a store -----------------------------------------------------------------------------

def local_day_bounds(store: Store, now: datetime) -> tuple[datetime, datetime]:
    local = now.astimezone(ZoneInfo(store.timezone))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start.astimezone(now.tzinfo), (start + timedelta(days=1)).astimezone(now.tzinfo)


def today(session: Session, store: Store, now: datetime | None = None) -> dict:
    """Today's intakes at a store and what waits for a supervisor: what the counter can act
    on. Failed deliveries (shopper e-mails, Amazon, finance) are HQ's to fix and wait in HQ's
    outbox queue; the counter is not shown them."""
    now = now or utcnow()
    start, end = local_day_bounds(store, now)
    intakes = session.scalars(
        sa.select(Intake).where(Intake.store_id == store.id,
                                Intake.started_at >= start, Intake.started_at < end)
        .order_by(Intake.started_at.desc())).all()
    waiting = session.scalars(sa.select(Intake).where(
        Intake.store_id == store.id, Intake.status == "awaiting_approval")).all()
    return {"intakes": intakes, "waiting": waiting}


# --- views ----------------------------------------------------------------------------------------

def intake_to_dict(session: Session, intake: Intake) -> dict:
    rma, order, store = session.execute(
        sa.select(ReturnAuthorization, Order, Store).select_from(Intake)
        .join(ReturnAuthorization, ReturnAuthorization.id == Intake.rma_id)
        .join(Order, Order.id == ReturnAuthorization.order_id)
        .join(Store, Store.id == Intake.store_id).where(Intake.id == intake.id)).one()
    returned = order_return_lines(session, rma, order)  # also fills rma.lines
    order_lines = {line.id: line for line in order.lines}
    chosen = decisions(session, intake)
    breakdown = live_refund(session, intake, chosen, returned)
    photos = session.scalars(sa.select(Photo).where(Photo.intake_id == intake.id)
                             .order_by(Photo.id)).all()
    # A refund exists only once the intake is completed: no query before that.
    refund = (session.scalar(sa.select(Refund).where(Refund.intake_id == intake.id))
              if intake.status == "completed" else None)
    credit = (session.scalar(sa.select(StoreCredit).where(StoreCredit.intake_id == intake.id))
              if intake.status == "completed" and rma.outcome == "credit" else None)
    units = []
    for line in rma.lines:
        ol = order_lines[line.order_line_id]
        d = chosen[line.id]
        units.append({
            "unit_id": line.id, "sku": ol.sku, "title": ol.title, "category": ol.category,
            "image_url": ol.image_url, "unit": line.unit_no, "reason": line.reason_code,
            "expected_amount": amount_text(line.expected_amount, rma.currency),
            "checklist": [{"key": k, "label": label, "major": major}
                          for k, label, major in inspection.checklist_for(ol.category)],
            "decision": None if d is None else {
                "reception": d.reception, "decision": d.decision, "grade": d.grade,
                "disposition": d.disposition, "reject_reason": d.reject_reason or None,
                "reason_confirmed": d.reason_confirmed, "checklist": dict(d.checklist),
                "notes": d.notes},
            "photos": [p.id for p in photos if p.return_line_id == line.id]})
    return {
        "id": intake.id, "status": intake.status, "store": store.code, "return": rma.number,
        "order_id": order.external_id, "channel": order.channel, "offsite": intake.offsite,
        "started_at": intake.started_at.isoformat(),
        "completed_at": intake.completed_at.isoformat() if intake.completed_at else None,
        "receipt_number": intake.receipt_number, "currency": rma.currency,
        "expected_refund": amount_text(rma.expected_refund, rma.currency),
        "refund_now": breakdown.as_dict(),
        "approval_needed": (pending_approval(session, intake, breakdown, chosen)
                            if intake.status == "open" else intake.approval_reasons),
        "approved_by": intake.approved_by_id, "units": units, "outcome": rma.outcome,
        "credit": credits.credit_to_dict(credit) if credit else None,
        "refund": {"id": refund.id, "status": refund.status,
                   "amount": amount_text(refund.amount, refund.currency),
                   "due_at": refund.due_at.isoformat() if refund.due_at else None}
        if refund else None,
    }


# --- offline tablets ------------------------------------------------------------------------------

def expected_at_store(session: Session, store: Store, *, limit: int,
                      now: datetime | None = None) -> dict:
    """Open returns routed to ``store`` with their units: what a tablet caches for outages."""
    now = now or utcnow()
    rows = session.execute(
        sa.select(Voucher, ReturnAuthorization)
        .join(ReturnAuthorization, ReturnAuthorization.id == Voucher.rma_id)
        .options(selectinload(ReturnAuthorization.lines))  # not one query per return
        .where(ReturnAuthorization.chosen_store_id == store.id, Voucher.status == "active",
               Voucher.expires_at > now)
        .order_by(Voucher.expires_at).limit(limit)).all()
    order_ids = {rma.order_id for _, rma in rows}
    lines = {line.id: line for line in session.scalars(
        sa.select(OrderLine).where(OrderLine.order_id.in_(order_ids)))} if order_ids else {}
    vouchers = []
    for voucher, rma in rows:
        vouchers.append({
            "code": voucher.short_code, "rma": rma.number, "currency": rma.currency,
            "expires_at": voucher.expires_at.isoformat(),
            "units": [{"unit_id": ln.id, "title": lines[ln.order_line_id].title,
                       "sku": lines[ln.order_line_id].sku,
                       "category": lines[ln.order_line_id].category, "reason": ln.reason_code,
                       "expected_amount": amount_text(ln.expected_amount, rma.currency)}
                      for ln in rma.lines if ln.reception_status == "awaiting"]})
    return {"store": store.code, "generated_at": now.isoformat(), "vouchers": vouchers,
            "grades": list(inspection.GRADE_LABELS), "dispositions": list(inspection.DISPOSITIONS),
            "reject_reasons": list(inspection.REJECT_REASONS)}


def replay_offline(session: Session, keyring: Keyring, voucher_text: str, store: Store,
                   actor: Actor, units: Mapping[int, Mapping], *, device_id: int | None = None,
                   now: datetime | None = None) -> dict:
    """An intake recorded on a tablet during an outage, replayed in one transaction. When the
    policy wants a supervisor (a PIN cannot be checked offline) it goes to their queue."""
    intake, _offsite = open_intake(session, keyring, voucher_text, store, actor,
                                   device_id=device_id, now=now)
    intake.offline = True
    rma = session.get(ReturnAuthorization, intake.rma_id)
    missing = [line.id for line in rma.lines if line.id not in units]
    if missing:
        raise InvalidInput([{"field": f"units[{u}]", "code": "undecided",
                             "message": "Every unit must be decided."} for u in missing])
    for unit_id, raw in units.items():
        if not isinstance(raw, Mapping):
            raise InvalidInput([{"field": f"units[{unit_id}]", "code": "invalid_decision",
                                 "message": "Each unit's decision must be an object."}])
        decision, problems = inspection.decision_from(raw)
        if problems:
            raise InvalidInput(problems)
        record_unit(session, intake, unit_id, decision, actor, now)
    try:
        done = complete(session, intake, actor, now=now)
    except ApprovalRequired:
        reasons = request_approval(session, intake, actor)
        return {"status": "awaiting_approval", "intake_id": intake.id, "return": rma.number,
                "reasons": reasons}
    return {"status": "completed", "intake_id": intake.id, "return": rma.number,
            "receipt_number": intake.receipt_number,
            "refund": amount_text(done.breakdown.total, rma.currency)}
