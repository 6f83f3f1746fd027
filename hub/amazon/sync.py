"""Pulling Amazon's money side: financial events (early word of refunds, including those
Amazon made itself) and settlement reports (the book of record), and reconciling them."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from hub.amazon import reconcile
from hub.amazon.connector import Connector, decode_text
from hub.amazon.models import ReconciliationItem, SettlementLine
from hub.amazon.service import AMAZON_REFUND_EVENTS, connector_status, note_success
from hub.money import Money
from hub.orders.models import Order, OrderLine
from hub.refunds import actions
from hub.refunds.models import Refund, RefundLine

SETTLEMENT_REPORT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
FIRST_LOOK_BACK = timedelta(days=7)
# A refund Amazon accepted should appear in a settlement cut this long after.
SETTLE_GRACE = timedelta(days=3)


def _minor(value, currency: str) -> int:
    # Finances answers with JSON numbers; their text is the exact amount.
    return Money(Decimal(str(value)), currency).to_minor()


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def pull_financial_events(session: Session, connector: Connector, marketplace_id: str,
                          now: datetime) -> int:
    """Store refund-type financial events since the last pull. Returns lines stored."""
    status = connector_status(session, f"amazon-finances:{connector.seller_id}")
    cursor = dict(status.cursor or {})
    after = _time(cursor["posted_before"]) if "posted_before" in cursor else now - FIRST_LOOK_BACK
    before = now - timedelta(minutes=3)
    if before <= after:
        return 0
    stored, token = 0, None
    while True:
        payload = connector.financial_events(marketplace_id, after, before, token)
        events = payload.get("FinancialEvents", {})
        stored += _store_events(session, [(name, event) for name in AMAZON_REFUND_EVENTS
                                          for event in events.get(name, [])])
        token = payload.get("NextToken")
        if not token:
            break
    cursor["posted_before"] = before.strftime("%Y-%m-%dT%H:%M:%SZ")
    status.cursor = cursor
    note_success(session, f"amazon-finances:{connector.seller_id}")
    return stored


def _known_keys(session: Session, source: str, keys: list[str]) -> set[str]:
    """Which of these lines were stored by an earlier pull (pages and reports overlap)."""
    known: set[str] = set()
    for start in range(0, len(keys), 5000):  # a settlement can hold tens of thousands
        known.update(session.scalars(sa.select(SettlementLine.source_key).where(
            SettlementLine.source == source,
            SettlementLine.source_key.in_(keys[start:start + 5000]))))
    return known


def _event_key(item: dict, charge: dict) -> str:
    return f"{item.get('OrderAdjustmentItemId', '')}:{charge['ChargeType']}"


def _store_events(session: Session, events: list[tuple[str, dict]]) -> int:
    """One SettlementLine per charge of each refund-type event; returns how many were new."""
    charges = [(name, event, item, charge) for name, event in events
               for item in event.get("ShipmentItemAdjustmentList", [])
               for charge in item.get("ItemChargeAdjustmentList", [])]
    known = _known_keys(session, "financial_event",
                        [_event_key(item, charge) for _n, _e, item, charge in charges])
    stored = 0
    for name, event, item, charge in charges:
        key = _event_key(item, charge)
        if key in known:
            continue
        known.add(key)
        money = charge["ChargeAmount"]
        session.add(SettlementLine(
            source="financial_event", source_key=key,
            posted_at=_time(event["PostedDate"]) if event.get("PostedDate") else None,
            amazon_order_id=event.get("AmazonOrderId", ""),
            order_item_code=str(item.get("OrderItemId", "")),
            adjustment_item_id=str(item.get("OrderAdjustmentItemId", "")),
            transaction_type=name, amount_type="ItemCharge",
            amount_description=charge["ChargeType"], currency=money["CurrencyCode"],
            amount=_minor(money["CurrencyAmount"], money["CurrencyCode"])))
        stored += 1
    session.flush()
    return stored


def pull_settlements(session: Session, connector: Connector, marketplace_id: str,
                     now: datetime) -> list[str]:
    """Download settlement reports not seen yet, store their lines and reconcile them."""
    status = connector_status(session, f"amazon-settlements:{connector.seller_id}")
    cursor = dict(status.cursor or {})
    seen = set(cursor.get("seen", []))
    since = _time(cursor["since"]) if "since" in cursor else now - timedelta(days=90)
    done = []
    for report in sorted(connector.list_reports(marketplace_id, SETTLEMENT_REPORT, since),
                         key=lambda r: r["createdTime"]):
        if report["reportId"] in seen or report["processingStatus"] != "DONE":
            continue
        text = decode_text(connector.report_document(marketplace_id,
                                                     report["reportDocumentId"]))
        settlement = reconcile.parse_settlement(text)
        store_settlement(session, settlement)
        reconcile_settlement(session, settlement, connector.seller_id)
        seen.add(report["reportId"])
        done.append(settlement.settlement_id)
        cursor["seen"] = sorted(seen)[-500:]
        status.cursor = dict(cursor)
        session.commit()
    note_success(session, f"amazon-settlements:{connector.seller_id}")
    return done


def store_settlement(session: Session, settlement: reconcile.Settlement) -> None:
    keys = [f"{settlement.settlement_id}:{n}" for n in range(1, len(settlement.rows) + 1)]
    known = _known_keys(session, "settlement", keys)
    for key, row in zip(keys, settlement.rows, strict=True):
        if key in known:
            continue
        session.add(SettlementLine(
            source="settlement", source_key=key, settlement_id=settlement.settlement_id,
            posted_at=row.posted_at, amazon_order_id=row.order_id,
            order_item_code=row.order_item_code,
            adjustment_item_id=row.merchant_adjustment_item_id or row.adjustment_id,
            transaction_type=row.transaction_type, amount_type=row.amount_type,
            amount_description=row.amount_description[:120], currency=row.currency,
            amount=row.amount_minor))
    session.flush()


def _our_lines(session: Session, seller_id: str
               ) -> tuple[list[reconcile.OurLine], dict[str, datetime | None]]:
    rows = session.execute(
        sa.select(Refund.id, RefundLine.adjustment_item_id, Order.external_id,
                  OrderLine.external_item_id, RefundLine.amount, Refund.currency,
                  Refund.succeeded_at)
        .join(RefundLine, RefundLine.refund_id == Refund.id)
        .join(Order, Order.id == Refund.order_id)
        .join(OrderLine, OrderLine.id == RefundLine.order_line_id)
        .where(Refund.status == "succeeded", Refund.seller_id == seller_id)).all()
    return [reconcile.OurLine(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows], \
        {r[1]: r[6] for r in rows}


def reconcile_settlement(session: Session, settlement: reconcile.Settlement,
                         seller_id: str) -> list[reconcile.Match]:
    ours, succeeded_at = _our_lines(session, seller_id)
    end = reconcile.parse_time(settlement.end)
    due = {adj for adj, at in succeeded_at.items()
           if end is not None and at is not None and at + SETTLE_GRACE <= end}
    matches = reconcile.match(settlement.rows, ours, due)
    for m in matches:
        session.add(ReconciliationItem(
            settlement_id=settlement.settlement_id, refund_id=m.refund_id,
            adjustment_item_id=m.adjustment_item_id or m.amazon_adjustment_id,
            outcome=m.outcome, currency=m.currency, homing_amount=m.homing_minor,
            amazon_amount=m.amazon_minor))
    session.flush()
    matched = [{"adjustment": m.adjustment_item_id, "refund": m.refund_id}
               for m in matches if m.outcome == "matched"]
    if matched:  # one executemany: the settlement's lines point at the refunds they paid
        lines = SettlementLine.__table__
        session.connection().execute(
            lines.update().where(lines.c.settlement_id == settlement.settlement_id,
                                 lines.c.adjustment_item_id == sa.bindparam("adjustment"))
            .values(refund_id=sa.bindparam("refund")), matched)
    _settle_refunds(session, {m.refund_id for m in matches if m.outcome == "matched"})
    return matches


def _settle_refunds(session: Session, refund_ids: set[int | None]) -> None:
    """A refund is settled when every one of its lines matched a settlement."""
    ids = [i for i in refund_ids if i is not None]
    if not ids:
        return
    matched: dict[int, set[str]] = {}
    for refund_id, adjustment in session.execute(
            sa.select(ReconciliationItem.refund_id, ReconciliationItem.adjustment_item_id)
            .where(ReconciliationItem.refund_id.in_(ids),
                   ReconciliationItem.outcome == "matched")):
        matched.setdefault(refund_id, set()).add(adjustment)
    refunds = session.scalars(sa.select(Refund).where(Refund.id.in_(ids))
                              .options(selectinload(Refund.lines)))
    for refund in refunds:
        if refund.status == "succeeded" and \
                {ln.adjustment_item_id for ln in refund.lines} <= matched.get(refund.id, set()):
            actions.move(refund, "settled")


def mismatches(session: Session, limit: int = 200) -> list[ReconciliationItem]:
    return list(session.scalars(
        sa.select(ReconciliationItem).where(ReconciliationItem.outcome != "matched",
                                            ReconciliationItem.resolved_at.is_(None))
        .order_by(ReconciliationItem.id.desc()).limit(limit)))
