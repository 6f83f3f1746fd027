"""Data-subject requests for shoppers: everything Homing keeps about an e-mail address
(export), and removing it (erase). Orders, returns and refunds stay, for the books and for
Amazon; the person's contact details and position go. Pure service code over a session; the
caller commits (one unit of work) and records nothing personal in the audit log."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.audit.service import Actor, record
from hub.orders.models import Order
from hub.returns.models import ReturnAuthorization


def _email(value: str) -> str:
    return value.strip().lower()


def _matching(session: Session, email: str) -> tuple[list[Order], list[ReturnAuthorization]]:
    email = _email(email)
    if not email:
        return [], []
    rmas = list(session.scalars(sa.select(ReturnAuthorization)
                                .where(ReturnAuthorization.shopper_email == email)
                                .order_by(ReturnAuthorization.id)))
    order_ids = {r.order_id for r in rmas}
    orders = list(session.scalars(sa.select(Order).where(
        sa.or_(Order.buyer_email == email, Order.id.in_(order_ids) if order_ids else sa.false()))
        .order_by(Order.id)))
    return orders, rmas


def export_shopper(session: Session, email: str) -> dict:
    """What Homing keeps about this shopper, as JSON-ready data."""
    orders, rmas = _matching(session, email)
    return {
        "email": _email(email),
        "orders": [{"channel": o.channel, "order_id": o.external_id, "name": o.buyer_name,
                    "email": o.buyer_email, "postal_code": o.ship_postal_code,
                    "country": o.ship_country,
                    "purchased_at": o.purchased_at.isoformat() if o.purchased_at else None}
                   for o in orders],
        "returns": [{"number": r.number, "status": r.status, "email": r.shopper_email,
                     "locale": r.shopper_locale, "postal_code": r.origin_postal_code,
                     "latitude": r.origin_latitude, "longitude": r.origin_longitude,
                     "created_at": r.created_at.isoformat() if r.created_at else None}
                    for r in rmas],
    }


def erase_shopper(session: Session, email: str, actor: Actor) -> dict:
    """Remove the shopper's contact details and position from their orders and returns.
    The audit event names the counts and a hash of the address, never the address."""
    orders, rmas = _matching(session, email)
    for order in orders:
        order.buyer_email, order.buyer_name, order.ship_postal_code = "", "", ""
    for rma in rmas:
        rma.shopper_email, rma.origin_postal_code = "", ""
        rma.origin_latitude = rma.origin_longitude = None
    counts = {"orders": len(orders), "returns": len(rmas)}
    digest = hashlib.sha256(_email(email).encode()).hexdigest()[:16]
    record(session, actor, "shopper.erased", "shopper", digest, after=counts)
    return counts


# --- retention: photos and shoppers' personal data are kept for a configured time ----------

FINAL_RETURN_STATES = ("completed", "cancelled", "expired")


def retention_sweep(session: Session, now, *, photo_days: int | None,
                    shopper_days: int | None, actor: Actor) -> tuple[dict, list[str]]:
    """Remove photos taken more than ``photo_days`` ago and the personal data of returns
    (and their orders) finished more than ``shopper_days`` ago. Returns the counts and the
    photo files no row uses any more: the caller deletes those after its commit (a crash in
    between leaves a file, never a row pointing at no file). None or 0: keep forever."""
    from datetime import timedelta

    from hub.intake.models import Photo

    counts = {"photos": 0, "returns": 0, "orders": 0}
    files: list[str] = []
    if photo_days:
        old = list(session.scalars(sa.select(Photo).where(
            Photo.taken_at < now - timedelta(days=photo_days))))
        paths = {p.path for p in old}
        for photo in old:
            session.delete(photo)
        session.flush()
        still_used = set(session.scalars(sa.select(Photo.path).where(Photo.path.in_(paths))))
        files = sorted(paths - still_used)  # content-addressed: one file, maybe many rows
        counts["photos"] = len(old)
    if shopper_days:
        cutoff = now - timedelta(days=shopper_days)
        rmas = list(session.scalars(sa.select(ReturnAuthorization).where(
            ReturnAuthorization.status.in_(FINAL_RETURN_STATES),
            ReturnAuthorization.updated_at < cutoff,
            sa.or_(ReturnAuthorization.shopper_email != "",
                   ReturnAuthorization.origin_postal_code != "",
                   ReturnAuthorization.origin_latitude.is_not(None)))))
        for rma in rmas:
            rma.shopper_email, rma.origin_postal_code = "", ""
            rma.origin_latitude = rma.origin_longitude = None
        open_orders = sa.select(ReturnAuthorization.order_id).where(
            ReturnAuthorization.status.not_in(FINAL_RETURN_STATES))
        orders = list(session.scalars(sa.select(Order).where(
            sa.func.coalesce(Order.delivered_at, Order.purchased_at, Order.created_at) < cutoff,
            Order.id.not_in(open_orders),
            sa.or_(Order.buyer_email != "", Order.buyer_name != "",
                   Order.ship_postal_code != ""))))
        for order in orders:
            order.buyer_email, order.buyer_name, order.ship_postal_code = "", "", ""
        counts.update(returns=len(rmas), orders=len(orders))
    if any(counts.values()):
        record(session, actor, "retention.swept", "retention", now.date().isoformat(),
               after={**counts, "photo_days": photo_days, "shopper_days": shopper_days})
    return counts, files
