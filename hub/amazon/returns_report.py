"""Pulling Amazon's MFN returns report and tying Amazon's RMAs to Homing's returns.

A report is requested, polled on later runs (the request id is kept in the connector's
cursor, so nothing is requested twice), downloaded (GZIP or not, any encoding) and parsed by
header name, case-insensitively, because Amazon's headers vary between files."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.amazon.connector import Connector, decode_text
from hub.amazon.service import connector_status, note_error, note_success
from hub.orders.models import Order
from hub.returns.models import ReturnAuthorization

REPORT_TYPE = "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE"
WINDOW = timedelta(days=30)  # Amazon allows at most 60 days per request
# Canonical field -> header spellings seen in real files.
HEADERS = {
    "order_id": ("order id",),
    "amazon_rma_id": ("amazon rma id",),
    "merchant_rma_id": ("merchant rma id", "seller rma id"),
    "status": ("return request status",),
    "requested_at": ("return request date",),
    "sku": ("merchant sku", "seller sku"),
    "quantity": ("return quantity",),
    "reason": ("return reason",),
    "a_to_z": ("a-to-z claim",),  # "A-to-Z Claim" and "A-to-z claim" both lower to this
    "resolution": ("resolution",),
    "refunded": ("refunded amount",),
}


# Amazon's return reason codes -> Homing's reasons (leaves of the reason tree). Unknown codes
# fall back to "ordered by mistake"; the store's inspection decides the refund either way.
AMAZON_REASONS = {
    "CR-UNWANTED_ITEM": "changed_mind.ordered_by_mistake",
    "CR-ORDERED_WRONG_ITEM": "changed_mind.ordered_by_mistake",
    "CR-UNAUTHORIZED_PURCHASE": "changed_mind.ordered_by_mistake",
    "CR-FOUND_BETTER_PRICE": "changed_mind.better_price",
    "CR-DEFECTIVE": "damaged.stopped_working",
    "CR-QUALITY_UNACCEPTABLE": "damaged.stopped_working",
    "CR-DAMAGED_BY_CARRIER": "damaged.arrived_broken",
    "CR-DAMAGED_BY_FC": "damaged.arrived_broken",
    "CR-MISSING_PARTS": "damaged.missing_parts",
    "CR-SWITCHEROO": "not_as_described.wrong_item",
    "CR-NOT_AS_DESCRIBED": "not_as_described.different_colour",
    "AMZ-PG-BAD-DESC": "not_as_described.different_colour",
    "CR-MISSED_ESTIMATED_DELIVERY": "late",
    "APPAREL_TOO_SMALL": "fit.too_small",
    "APPAREL_TOO_LARGE": "fit.too_large",
}
FALLBACK_REASON = "changed_mind.ordered_by_mistake"


@dataclass
class PullOutcome:
    status: str  # requested | waiting | done | no_data | failed
    rows: int = 0
    linked: int = 0
    created: int = 0
    unknown_orders: int = 0
    skipped: int = 0


def parse_rows(text: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(text), delimiter="\t")
    header = next(reader, None)
    if not header:
        return []
    index = {}
    lowered = [h.strip().lower() for h in header]
    for field, names in HEADERS.items():
        for name in names:
            if name in lowered:
                index[field] = lowered.index(name)
                break
    if "order_id" not in index or "amazon_rma_id" not in index:
        raise ValueError("not a returns report: no 'Order ID' or 'Amazon RMA ID' column")
    return [{field: (row[i].strip() if i < len(row) else "") for field, i in index.items()}
            for row in reader if any(cell.strip() for cell in row)]


def pull(session: Session, connector: Connector, marketplace_id: str,
         now: datetime) -> PullOutcome:
    name = f"amazon-returns:{connector.seller_id}:{marketplace_id}"
    status = connector_status(session, name)
    cursor = dict(status.cursor or {})
    if "report_id" not in cursor:
        start = datetime.fromisoformat(cursor["until"]) if "until" in cursor else now - WINDOW
        end = min(now, start + WINDOW)
        cursor.update(report_id=connector.create_report(marketplace_id, REPORT_TYPE, start, end),
                      until=end.isoformat())
        status.cursor = cursor
        return PullOutcome("requested")
    report = connector.get_report(marketplace_id, cursor["report_id"])
    state = report["processingStatus"]
    if state in ("IN_QUEUE", "IN_PROGRESS"):
        return PullOutcome("waiting")
    del cursor["report_id"]
    status.cursor = cursor
    if state == "CANCELLED":  # Amazon cancels a report that has no data
        note_success(session, name)
        return PullOutcome("no_data")
    if state == "FATAL":
        note_error(session, name, f"returns report {report['reportId']} ended FATAL")
        cursor["until"] = report.get("dataStartTime") or cursor["until"]  # ask again later
        status.cursor = cursor
        return PullOutcome("failed")
    rows = parse_rows(decode_text(connector.report_document(marketplace_id,
                                                            report["reportDocumentId"])))
    outcome = PullOutcome("done", rows=len(rows))
    for row in rows:
        result = _link(session, row)
        setattr(outcome, result, getattr(outcome, result) + 1)
    note_success(session, name)
    return outcome


def _link(session: Session, row: dict[str, str]) -> str:
    """Tie Amazon's RMA to a Homing return: link the order's unlinked return, or authorise
    the units Amazon authorised. Answers which of PullOutcome's counters it adds to."""
    order = session.scalar(sa.select(Order).where(Order.external_id == row["order_id"]))
    if order is None:
        return "unknown_orders"
    if session.scalar(sa.select(ReturnAuthorization.id).where(
            ReturnAuthorization.external_rma_id == row["amazon_rma_id"][:60])):
        return "skipped"  # linked on an earlier pull
    rma = session.scalar(sa.select(ReturnAuthorization).where(
        ReturnAuthorization.order_id == order.id,
        ReturnAuthorization.external_rma_id.is_(None)).order_by(ReturnAuthorization.id))
    if rma is not None:
        rma.external_rma_id = row["amazon_rma_id"][:60]
        return "linked"
    return "created" if _authorise(session, order, row) else "skipped"


def _authorise(session: Session, order: Order, row: dict[str, str]) -> bool:
    """A Homing return (source "amazon") for the units of Amazon's RMA, so the shopper can
    hand them in at a store. Nothing is written when the units cannot be authorised."""
    from flask import current_app

    from hub.audit.service import SYSTEM
    from hub.returns import service as returns
    from hub.vouchers.keys import keyring

    line = next((ln for ln in order.lines if ln.sku == row.get("sku")), None)
    if line is None:
        return False
    quantity = int(row["quantity"]) if row.get("quantity", "").isdigit() else 1
    reason = AMAZON_REASONS.get(row.get("reason", "").upper(), FALLBACK_REASON)
    try:
        with session.begin_nested():
            request = returns.parse_request({"lines": [{"line_id": line.id, "quantity": quantity,
                                                        "reason": reason}],
                                             "source": "amazon",
                                             "idempotency_key": "amazon:" + row["amazon_rma_id"]},
                                            order)
            rma = returns.create_return(session, order, request, actor=SYSTEM,
                                        keyring=keyring(),
                                        secret=current_app.config["SECRET_KEY"])
            rma.external_rma_id = row["amazon_rma_id"][:60]
    except (returns.InvalidInput, returns.ReturnConflict):
        return False
    return True
