"""Answer a scan lookup with one query.

The voucher check and the intake page are the store counter's hot path: the same voucher is
looked up by the scan, by a second tablet, by a reload. An answer is worked out as before and
its JSON kept with the order's ``scan_revision`` (and the store's ``updated_at``) read
*before* working it out; lookups return it while both still match. A write in between bumps
the revision in its own transaction (``hub.scan.revisions``), so a stale answer is never
served: at worst an answer is worked out once more than needed. The voucher check is worked
out when the return is issued (``hub.scan.jobs``), so the shopper's first scan is one query.

One input is not tracked by revision: which reasons are the seller's fault (it prices the
intake page's live refund). A change to it drops every answer, but another process may use
its copy, cached for up to a minute (``hub.intake.service``), for a page it keeps in that
minute; the clerk's next decision on that intake is a write and corrects it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.intake import service as intakes
from hub.intake.models import Intake
from hub.models import insert_on_conflict, utcnow
from hub.orders.models import Order
from hub.returns import service as returns
from hub.returns.models import ReturnAuthorization
from hub.scan.models import ScanAnswer
from hub.stores.models import Store
from hub.vouchers.crypto import Keyring
from hub.vouchers.models import Voucher


@dataclass(frozen=True)
class Cached:
    body: str
    store_id: int | None
    token: str | None
    valid_until: datetime | None


@dataclass(frozen=True)
class Stamp:
    """What an answer is computed against, read before computing it."""

    order_id: int
    revision: int
    store_id: int | None
    store_stamp: datetime | None


def voucher_key(code: str) -> str:
    return f"voucher:{code}"


def intake_key(intake_id: int) -> str:
    return f"intake:{intake_id}"


# Built once: on the hot path, building the statement costs as much as running it.
_CACHED = (
    sa.select(ScanAnswer.body, ScanAnswer.store_id, ScanAnswer.token, ScanAnswer.valid_until)
    .join(Order, Order.id == ScanAnswer.order_id)
    .outerjoin(Store, Store.id == ScanAnswer.store_id)
    .where(ScanAnswer.key == sa.bindparam("key"), ScanAnswer.revision == Order.scan_revision,
           sa.or_(ScanAnswer.store_id.is_(None), ScanAnswer.store_stamp == Store.updated_at)))


def cached(session: Session, key: str) -> Cached | None:
    """The kept answer for ``key`` if nothing behind it changed since, else None."""
    row = session.execute(_CACHED, {"key": key}).first()
    return Cached(*row) if row else None


def voucher_stamp(session: Session, code: str) -> Stamp | None:
    row = session.execute(
        sa.select(Order.id, Order.scan_revision, Store.id, Store.updated_at)
        .select_from(Voucher)
        .join(ReturnAuthorization, ReturnAuthorization.id == Voucher.rma_id)
        .join(Order, Order.id == ReturnAuthorization.order_id)
        .outerjoin(Store, Store.id == ReturnAuthorization.chosen_store_id)
        .where(Voucher.short_code == code)).first()
    return Stamp(*row) if row else None


def intake_stamp(session: Session, intake_id: int) -> Stamp | None:
    row = session.execute(
        sa.select(Order.id, Order.scan_revision, Store.id, Store.updated_at)
        .select_from(Intake)
        .join(ReturnAuthorization, ReturnAuthorization.id == Intake.rma_id)
        .join(Order, Order.id == ReturnAuthorization.order_id)
        .join(Store, Store.id == Intake.store_id)
        .where(Intake.id == intake_id)).first()
    return Stamp(*row) if row else None


def remember(session: Session, key: str, stamp: Stamp, body: str, *,
             token: str | None = None, valid_until: datetime | None = None) -> None:
    """Keep (or replace) the answer for ``key``, computed against ``stamp``."""
    values = {"order_id": stamp.order_id, "revision": stamp.revision,
              "store_id": stamp.store_id, "store_stamp": stamp.store_stamp,
              "token": token, "valid_until": valid_until, "body": body}
    session.execute(insert_on_conflict(session, ScanAnswer).values(key=key, **values)
                    .on_conflict_do_update(index_elements=[ScanAnswer.key], set_=values))


def verify_voucher(session: Session, keyring: Keyring, text: str,
                   render: Callable[[dict], str], *, keep: bool = True,
                   now: datetime | None = None) -> str:
    """The voucher check's JSON: kept if fresh, else computed (VoucherError as
    ``find_voucher`` raises it) and kept. Only a valid voucher's answer is kept: a refusal is
    always worked out in full, with its exact reason. ``keep=False``: no kept answer is
    read or written."""
    now = now or utcnow()
    code, token = returns.voucher_code(keyring, text, now)
    key = voucher_key(code)
    hit = cached(session, key) if keep else None
    if hit and hit.valid_until > now and (token is None or hit.token == token):
        return hit.body
    stamp = voucher_stamp(session, code) if keep else None
    voucher, rma = returns.find_voucher(session, keyring, text, now)
    body = render({"valid": True, "return": returns.return_to_dict(session, rma, voucher)})
    if stamp is not None:
        remember(session, key, stamp, body, token=voucher.token, valid_until=voucher.expires_at)
    return body


def intake_page(session: Session, intake_id: int, may_see: Callable[[int], bool],
                render: Callable[[dict], str], *, keep: bool = True) -> str | None:
    """The intake's JSON, or None when there is no such intake for this caller (``may_see``
    is asked with the intake's store). Kept only until the intake is completed: from then on
    its refund moves on through jobs, and ``hub.scan.revisions`` does not watch refunds."""
    key = intake_key(intake_id)
    hit = cached(session, key) if keep else None
    if hit:
        return hit.body if may_see(hit.store_id) else None
    stamp = intake_stamp(session, intake_id) if keep else None
    intake = session.get(Intake, intake_id)
    if intake is None or not may_see(intake.store_id):
        return None
    body = render(intakes.intake_to_dict(session, intake))
    if stamp is not None and intake.status != "completed":  # no refund behind it yet
        remember(session, key, stamp, body)
    return body
