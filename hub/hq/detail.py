"""One return from voucher to settlement, for HQ's drill-down: the order, the units with
their grades and decisions, photos, the refund with every attempt, the journal entries, the
settlement lines and the audit events, merged into one timeline."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.amazon.models import SettlementLine
from hub.audit.models import AuditEvent
from hub.creditnotes.models import CreditNote
from hub.hq.access import Scope
from hub.intake.models import Inspection, Intake, Photo, StockMovement
from hub.ledger.models import Account, JournalEntry
from hub.ledger.service import refund_journal_total
from hub.orders.models import Order, OrderLine
from hub.refunds.models import Refund
from hub.returns.models import ReturnAuthorization, ReturnLine
from hub.stores.models import Store
from hub.vouchers.crypto import VoucherError, normalise_short_code
from hub.vouchers.models import Voucher


class NotFound(LookupError):
    pass


@dataclass(frozen=True)
class Moment:
    at: datetime
    what: str  # an audit action ("intake.completed") or a pipeline step ("refund.submitted")
    who: str
    detail: dict  # what it changed to (the audit event's "after")
    before: dict = field(default_factory=dict)


@dataclass
class ReturnDetail:
    rma: ReturnAuthorization
    order: Order
    order_lines: dict[int, OrderLine]
    routed_store: Store | None
    voucher: Voucher | None
    intake: Intake | None
    store: Store | None
    inspections: dict[int, Inspection]
    photos: list[Photo]
    movements: dict[int, StockMovement]
    refund: Refund | None
    journal: list[JournalEntry]
    settlement_lines: list[SettlementLine]
    timeline: list[Moment] = field(default_factory=list)
    accounts: dict[str, str] = field(default_factory=dict)  # code -> name
    journal_total: int | None = None  # what the refund's entries say left (clearing account)

    @property
    def timezone(self) -> str:
        store = self.store or self.routed_store
        return store.timezone if store else "UTC"


@dataclass(frozen=True)
class Found:
    """A return that matches what HQ typed, with what tells it apart from the others."""
    number: str
    status: str
    order_id: str
    created_at: datetime
    expected_refund: int
    currency: str
    store_code: str
    matched_by: str  # return | voucher | order | receipt | intake | amazon_rma


_ORDER_ID = re.compile(r"\d{3}-?\d{7}-?\d{7}")
_RECEIPT = re.compile(r"RC-?(\d{6})-?([0-9A-F]{6})")


def search_keys(query: str) -> dict[str, str]:
    """Every code a shopper or clerk may read out, as HQ may type it (any case, with or
    without dashes and spaces) -> the form stored. Pure, so each shape is unit-tested."""
    typed = query.strip()
    text = typed.upper()
    compact = re.sub(r"[\s-]", "", text)
    keys: dict[str, str] = {}
    if not compact:
        return keys
    keys["return"] = compact
    with contextlib.suppress(VoucherError):  # not a voucher code: the other keys may match
        keys["voucher"] = normalise_short_code(compact)
    if _ORDER_ID.fullmatch(text) or _ORDER_ID.fullmatch(compact):
        keys["order"] = f"{compact[:3]}-{compact[3:10]}-{compact[10:]}"
    elif typed:
        keys["order"] = typed  # another channel's order id, as it is
    if receipt := _RECEIPT.fullmatch(compact) or _RECEIPT.fullmatch(text):
        keys["receipt"] = f"RC-{receipt.group(1)}-{receipt.group(2)}"
    if compact.lstrip("#").isdigit() and len(compact.lstrip("#")) <= 12:
        keys["intake"] = compact.lstrip("#")  # the number in the tablet's intake address
    keys["amazon_rma"] = typed  # Amazon's RMA ids are case-sensitive
    return keys


def find_returns(session: Session, scope: Scope, query: str, limit: int = 50) -> list[Found]:
    """The returns matching what HQ typed: a return number, a voucher code, an order id (all
    of that order's returns, newest first), a receipt number, an intake number or Amazon's
    RMA id. Store staff find only returns routed to or dropped at their store."""
    scope.require("returns.view")
    keys = search_keys(query)
    if not keys:
        return []
    rma = ReturnAuthorization
    matches = {
        "return": rma.number == keys["return"],
        "amazon_rma": rma.external_rma_id == keys["amazon_rma"],
        "order": rma.order_id.in_(sa.select(Order.id).where(Order.external_id == keys["order"]))
        if "order" in keys else None,
        "voucher": rma.id.in_(sa.select(Voucher.rma_id)
                              .where(Voucher.short_code == keys["voucher"]))
        if "voucher" in keys else None,
        "receipt": rma.id.in_(sa.select(Intake.rma_id)
                              .where(Intake.receipt_number == keys["receipt"]))
        if "receipt" in keys else None,
        "intake": rma.id.in_(sa.select(Intake.rma_id).where(Intake.id == int(keys["intake"])))
        if "intake" in keys else None,
    }
    matched_by = sa.case(*[(cond, name) for name, cond in matches.items() if cond is not None],
                         else_="")
    dropped = (sa.select(Intake.store_id).where(Intake.rma_id == rma.id)
               .limit(1).scalar_subquery())
    query_ = (sa.select(rma, Order.external_id, matched_by, dropped)
              .join(Order, Order.id == rma.order_id)
              .where(sa.or_(*[c for c in matches.values() if c is not None]))
              .order_by(rma.id.desc()).limit(limit * 2))
    rows = [row for row in session.execute(query_).all()
            if scope.chain_wide or scope.store_id in (row[0].chosen_store_id, row[3])]
    store_ids = {dropped_at or r.chosen_store_id for r, _o, _h, dropped_at in rows}
    codes = dict(session.execute(sa.select(Store.id, Store.code)
                                 .where(Store.id.in_(store_ids - {None}))).all())
    found = [Found(r.number, r.status, order_id, r.created_at, r.expected_refund, r.currency,
                   codes.get(dropped_at or r.chosen_store_id, ""), how)
             for r, order_id, how, dropped_at in rows]
    return found[:limit]


def find_return(session: Session, scope: Scope, query: str) -> str | None:
    """The one return HQ means, or None when none or several match."""
    found = find_returns(session, scope, query, limit=2)
    return found[0].number if len(found) == 1 else None


def return_detail(session: Session, scope: Scope, number: str) -> ReturnDetail:
    scope.require("returns.view")
    rma = session.scalar(sa.select(ReturnAuthorization).where(ReturnAuthorization.number == number))
    if rma is None:
        raise NotFound(number)
    intake = session.scalar(sa.select(Intake).where(Intake.rma_id == rma.id))
    # Store staff see returns routed to or dropped at their store; for anyone else the
    # return does not exist (no hint that it does).
    if not scope.chain_wide and scope.store_id not in (rma.chosen_store_id,
                                                         intake.store_id if intake else None):
        raise NotFound(number)
    order = session.get(Order, rma.order_id)
    refund = session.scalar(sa.select(Refund).where(Refund.rma_id == rma.id)
                            .order_by(Refund.id.desc()))
    line_ids = [line.id for line in rma.lines]
    movements = {m.return_line_id: m for m in session.scalars(
        sa.select(StockMovement).where(StockMovement.return_line_id.in_(line_ids)))}
    detail = ReturnDetail(
        rma=rma, order=order,
        order_lines={ol.id: ol for ol in session.scalars(
            sa.select(OrderLine).where(OrderLine.order_id == order.id))},
        routed_store=session.get(Store, rma.chosen_store_id) if rma.chosen_store_id else None,
        voucher=session.scalar(sa.select(Voucher).where(Voucher.rma_id == rma.id)),
        intake=intake, store=session.get(Store, intake.store_id) if intake else None,
        inspections={i.return_line_id: i for i in session.scalars(
            sa.select(Inspection).where(Inspection.return_line_id.in_(line_ids)))},
        photos=list(session.scalars(sa.select(Photo).where(Photo.intake_id == intake.id)
                                    .order_by(Photo.id))) if intake else [],
        movements=movements, refund=refund,
        journal=_journal(session, refund, movements),
        settlement_lines=list(session.scalars(
            sa.select(SettlementLine).where(SettlementLine.refund_id == refund.id)
            .order_by(SettlementLine.id))) if refund else [],
    )
    detail.timeline = _timeline(session, detail)
    detail.accounts = dict(session.execute(sa.select(Account.code, Account.name)).all())
    if refund is not None:
        detail.journal_total = refund_journal_total(session, refund)
    return detail


def _journal(session: Session, refund: Refund | None, movements: dict) -> list[JournalEntry]:
    sources = []
    if refund is not None:
        sources.append(sa.and_(JournalEntry.source_type.in_(("refund", "refund_reversal")),
                               JournalEntry.source_id == refund.id))
    if movements:
        sources.append(sa.and_(JournalEntry.source_type == "disposition",
                               JournalEntry.source_id.in_([m.id for m in movements.values()])))
    if not sources:
        return []
    return list(session.scalars(sa.select(JournalEntry).where(sa.or_(*sources))
                                .order_by(JournalEntry.id)))


def _timeline(session: Session, d: ReturnDetail) -> list[Moment]:
    subjects = [sa.and_(AuditEvent.subject_type == "return", AuditEvent.subject_id == d.rma.number)]
    if d.intake is not None:
        subjects.append(sa.and_(AuditEvent.subject_type == "intake",
                                AuditEvent.subject_id == str(d.intake.id)))
    if d.refund is not None:
        subjects.append(sa.and_(AuditEvent.subject_type == "refund",
                                AuditEvent.subject_id == str(d.refund.id)))
        notes = [str(i) for i in session.scalars(sa.select(CreditNote.id).where(
            CreditNote.refund_id == d.refund.id))]
        if notes:  # the refund's VAT credit notes: issued, uploaded, Amazon's verdict
            subjects.append(sa.and_(AuditEvent.subject_type == "credit_note",
                                    AuditEvent.subject_id.in_(notes)))
    moments = [Moment(e.occurred_at, e.action, e.actor_label, e.after or {}, e.before or {})
               for e in session.scalars(sa.select(AuditEvent).where(sa.or_(*subjects)))]
    currency = d.rma.currency
    if d.refund is not None:
        moments += [Moment(a.attempted_at, f"refund.{a.outcome}", "Amazon",
                           {"feed_id": a.feed_id, **(a.detail or {})})
                    for a in d.refund.attempts]
    moments += [Moment(e.created_at, journal_step(e), "ledger",
                       {"status": e.status, "amount": _entry_total(e), "currency": e.currency})
                for e in d.journal]
    moments += [Moment(s.posted_at, "amazon.settled", "Amazon",
                       {"settlement_id": s.settlement_id, "amount_type": s.amount_type,
                        "amount": s.amount, "currency": s.currency or currency})
                for s in d.settlement_lines if s.posted_at]
    return sorted(moments, key=lambda m: m.at)


def journal_step(entry: JournalEntry) -> str:
    key = entry.idempotency_key
    if entry.source_type == "refund" and ":reversal:" in key:
        return "journal.reversal"
    if entry.source_type == "refund" and ":repost:" in key:
        return "journal.repost"
    return f"journal.{entry.source_type}"


def _entry_total(entry: JournalEntry) -> int:
    return sum(line.debit for line in entry.lines)


def subject_returns(session: Session, events: list[AuditEvent]) -> dict[tuple[str, str], str]:
    """The return behind each intake and refund an audit page names, for links."""
    ids: dict[str, set[int]] = {"intake": set(), "refund": set()}
    for e in events:
        if e.subject_type in ids and e.subject_id.isdigit():
            ids[e.subject_type].add(int(e.subject_id))
    found: dict[tuple[str, str], str] = {}
    for kind, model in (("intake", Intake), ("refund", Refund)):
        if ids[kind]:
            found.update(((kind, str(i)), number) for i, number in session.execute(
                sa.select(model.id, ReturnAuthorization.number)
                .join(ReturnAuthorization, ReturnAuthorization.id == model.rma_id)
                .where(model.id.in_(ids[kind]))))
    return found


def unit_names(d: ReturnDetail) -> dict[int, str]:
    names = {}
    for line in d.rma.lines:
        ol = d.order_lines[line.order_line_id]
        names[line.id] = f"{ol.title or ol.sku} #{line.unit_no}"
    return names


def unit_rows(d: ReturnDetail) -> list[tuple[ReturnLine, OrderLine, Inspection | None]]:
    return [(line, d.order_lines[line.order_line_id], d.inspections.get(line.id))
            for line in d.rma.lines]
