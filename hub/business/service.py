"""Amazon Business: the buyer's PO number, company and VAT id, read once per business order
through a Restricted Data Token for those fields only, and kept for the voucher, the
receipt and the credit note."""

from __future__ import annotations

import logging

import httpx
from sqlalchemy.orm import Session

from hub.amazon.connector import AmazonError, Throttled
from hub.business.buyer import buyer_fields
from hub.business.models import BusinessBuyer
from hub.models import utcnow
from hub.orders.models import Order

log = logging.getLogger(__name__)


class BuyerUnavailable(Exception):
    """Amazon could not be asked right now; the order's documents go out without the buyer's
    details until a later read succeeds (never a guess)."""


def buyer_of(session: Session, order: Order) -> BusinessBuyer | None:
    return session.get(BusinessBuyer, order.id) if order.is_business else None


def read_buyer(session: Session, connector, order: Order) -> BusinessBuyer | None:
    """Ask Amazon once for a business order's buyer (yes: stored; no: Amazon has no such
    order, nothing stored; don't know: BuyerUnavailable). Not for other orders."""
    if not order.is_business:
        return None
    known = session.get(BusinessBuyer, order.id)
    if known is not None:
        return known
    try:
        payload = connector.business_buyer(order.marketplace_id, order.external_id)
    except (AmazonError, Throttled, httpx.HTTPError, OSError) as exc:
        log.warning("business buyer read failed: %s", type(exc).__name__)  # no PII
        raise BuyerUnavailable(type(exc).__name__) from exc
    if payload is None:
        return None
    fields = buyer_fields(payload)
    buyer = BusinessBuyer(order_id=order.id, po_number=fields.po_number,
                          company=fields.company, vat_id=fields.vat_id, read_at=utcnow())
    session.add(buyer)
    session.flush()
    return buyer


def read_buyer_from_app(app, session: Session, order: Order) -> BusinessBuyer | None:
    """The portal's and the counter's entry point: a stored buyer, or one read from Amazon
    when a connection is configured; None when it cannot be read now."""
    from hub.amazon import jobs

    if not order.is_business:
        return None
    known = session.get(BusinessBuyer, order.id)
    if known is not None or not jobs.configured(app):
        return known
    try:
        return read_buyer(session, jobs.connector_for(app)(order.seller_id), order)
    except BuyerUnavailable:
        return None
