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
from hub.amazon.service import note_error, note_success
from hub.amazon.sync import _status
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


@dataclass
class PullOutcome:
    status: str  # requested | waiting | done | no_data | failed
    rows: int = 0
    linked: int = 0
    unknown_orders: int = 0


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
    status = _status(session, name)
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
        linked = _link(session, row)
        outcome.linked += linked is True
        outcome.unknown_orders += linked is None
    note_success(session, name)
    return outcome


def _link(session: Session, row: dict[str, str]) -> bool | None:
    """Record Amazon's RMA id on the Homing return for that order. None: order unknown."""
    order_id = session.scalar(sa.select(Order.id).where(Order.external_id == row["order_id"]))
    if order_id is None:
        return None
    if session.scalar(sa.select(ReturnAuthorization.id).where(
            ReturnAuthorization.external_rma_id == row["amazon_rma_id"])):
        return False  # already linked on an earlier pull
    rma = session.scalar(sa.select(ReturnAuthorization).where(
        ReturnAuthorization.order_id == order_id,
        ReturnAuthorization.external_rma_id.is_(None)).order_by(ReturnAuthorization.id))
    if rma is None:
        return False
    rma.external_rma_id = row["amazon_rma_id"][:60]
    return True
