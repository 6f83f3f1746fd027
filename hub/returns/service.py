"""Return authorisations: find the order, check eligibility, authorise units, route, price,
assess risk, issue the voucher; cancel; expire; verify and consume vouchers."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.audit.service import Actor, record
from hub.models import iso, utcnow
from hub.money import amount_text
from hub.orders.models import Order, OrderLine
from hub.orders.service import normalise_email, normalise_postal_code
from hub.outbox import service as outbox
from hub.policy import service as policy_service
from hub.policy.document import (
    AMAZON_CHANNELS,
    AMAZON_CREDIT_WHY,
    business_rules,
    credit_offer,
    voucher_ttl_days,
)
from hub.policy.models import ReturnReason
from hub.policy.risk import RiskContext, assess
from hub.refunds.engine import (
    PaidLine,
    PaidOrder,
    Promotion,
    RefundBreakdown,
    RefundEngine,
    RefundRules,
    ReturnedUnit,
)
from hub.refunds.service import REFUND_DUE_AFTER
from hub.returns import actions as return_actions
from hub.returns.eligibility import (
    LineEligibility,
    LineFacts,
    OrderFacts,
    check_request,
    line_eligibility,
)
from hub.returns.models import ReturnAuthorization, ReturnLine
from hub.stores import geo
from hub.stores import service as stores
from hub.stores.models import Store
from hub.validation import InvalidInput
from hub.vouchers import actions as voucher_actions
from hub.vouchers import crypto
from hub.vouchers import states as voucher_states
from hub.vouchers.crypto import Keyring, VoucherError
from hub.vouchers.models import Voucher
from hub.webhooks import service as webhooks

LIVE = ("awaiting", "received")
# Amazon expects a seller-fulfilled return refunded within two business days of receipt;
# the shopper's refund clock counts two calendar days from drop-off (the stricter reading).
SIZE_ORDER = ("small", "medium", "large", "bulky")


class ReturnConflict(Exception):
    """Another request took the same units first."""


# --- the shopper's way back ---------------------------------------------------------------------

def status_key(secret: str, number: str) -> str:
    """The secret part of a return's status link (in the shopper's e-mails): knowing a return
    number alone shows nothing, and the link is not the voucher itself."""
    return hmac.new(secret.encode(), f"status:{number}".encode(), hashlib.sha256).hexdigest()[:20]


def status_path(secret: str, number: str) -> str:
    return f"/return/r/{number}?k={status_key(secret, number)}"


def returns_of_order(session: Session, order: Order) -> list[ReturnAuthorization]:
    """The order's returns, newest first (the shopper who found the order again sees them)."""
    return list(session.scalars(sa.select(ReturnAuthorization)
                                .where(ReturnAuthorization.order_id == order.id)
                                .order_by(ReturnAuthorization.created_at.desc(),
                                          ReturnAuthorization.id.desc())))


# --- finding the order --------------------------------------------------------------------------

def find_order_for_shopper(session: Session, order_id: str, proof: str) -> Order | None:
    """The order whose id matches and whose postal code or e-mail equals ``proof``. The same
    answer (None) for a wrong id and a wrong proof, so neither can be probed."""
    order_id = order_id.strip()
    proof = proof.strip()
    if not order_id or not proof:
        return None
    for order in session.scalars(sa.select(Order).where(Order.external_id == order_id)):
        expected = (normalise_email(proof) if "@" in proof else normalise_postal_code(proof))
        stored = order.buyer_email if "@" in proof else order.ship_postal_code
        if stored and hmac.compare_digest(stored.encode(), expected.encode()):
            return order
    return None


def order_known(session: Session, order_id: str) -> bool:
    return session.scalar(sa.select(Order.id).where(Order.external_id == order_id.strip())
                          .limit(1)) is not None


def taken_units(session: Session, order: Order) -> dict[int, set[int]]:
    rows = session.execute(
        sa.select(ReturnLine.order_line_id, ReturnLine.unit_no)
        .join(OrderLine, OrderLine.id == ReturnLine.order_line_id)
        .where(OrderLine.order_id == order.id, ReturnLine.reception_status.in_(LIVE)))
    taken: dict[int, set[int]] = {}
    for line_id, unit in rows:
        taken.setdefault(line_id, set()).add(unit)
    return taken


def order_facts(session: Session, order: Order, blocked: bool = False) -> OrderFacts:
    taken = taken_units(session, order)
    return OrderFacts(
        channel=order.channel, marketplace_id=order.marketplace_id, status=order.status,
        delivered_at=order.delivered_at, blocked=blocked,
        lines=tuple(LineFacts(line.id, line.title or line.sku, line.category, line.quantity,
                              len(taken.get(line.id, ()))) for line in order.lines))


def eligibility(session: Session, order: Order, policy: Mapping, now: datetime,
                blocked: bool = False) -> dict[int, LineEligibility]:
    facts = order_facts(session, order, blocked)
    return {line.line_id: line_eligibility(facts, line, policy, now) for line in facts.lines}


# --- pricing ------------------------------------------------------------------------------------

def paid_order(order: Order) -> PaidOrder:
    def promos(items) -> tuple[Promotion, ...]:
        return tuple(Promotion(p["id"], p["amount_minor"], p.get("kind", "plain"),
                               p.get("condition") or {}) for p in items or [])

    return PaidOrder(order.currency, tuple(
        PaidLine(str(line.id), line.quantity, line.item_price, line.item_tax,
                 line.shipping_price, line.shipping_tax, line.category, promos(line.promotions))
        for line in order.lines), promos(order.promotions))


def returned_units(session: Session, order: Order, *, exclude_rma: int | None = None,
                   graded: bool = True) -> list[ReturnedUnit]:
    """Live units of the order (optionally not those of one RMA), as the engine sees them."""
    query = (sa.select(ReturnLine, ReturnReason.seller_fault)
             .join(OrderLine, OrderLine.id == ReturnLine.order_line_id)
             .join(ReturnReason, ReturnReason.code == ReturnLine.reason_code)
             .where(OrderLine.order_id == order.id, ReturnLine.reception_status.in_(LIVE)))
    if exclude_rma is not None:
        query = query.where(ReturnLine.rma_id != exclude_rma)
    return [ReturnedUnit(str(line.order_line_id), line.unit_no - 1,
                         (line.grade or "A") if graded else "A", fault)
            for line, fault in session.execute(query)]


# --- creating a return --------------------------------------------------------------------------

@dataclass(frozen=True)
class ReturnRequest:
    lines: dict[int, list[str]]  # order line id -> one reason code per unit
    email: str = ""
    locale: str = "en"
    latitude: float | None = None
    longitude: float | None = None
    postal_code: str = ""
    store_code: str | None = None
    source: str = "portal"
    idempotency_key: str | None = None
    # The counter may take units outside the policy with a reason; a supervisor approves.
    override_reason: str = ""
    override_lines: frozenset[int] = frozenset()
    outcome: str = "refund"  # or "credit"


# Refusals a clerk may override at the counter (the goods are there; the rules said no).
OVERRIDABLE = ("window_closed", "category_not_returnable")
OUTCOMES = ("refund", "credit")


def parse_request(payload: Mapping, order: Order) -> ReturnRequest:
    """Check an API/portal request completely; InvalidInput lists every problem."""
    errors: list[dict] = []
    lines: dict[int, list[str]] = {}
    raw_lines = payload.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        errors.append({"field": "lines", "message": "pick at least one item to return"})
        raw_lines = []
    by_external = {line.external_item_id: line.id for line in order.lines}
    for i, item in enumerate(raw_lines[:200]):
        where = f"lines[{i}]"
        if not isinstance(item, dict):
            errors.append({"field": where, "message": "must be an object"})
            continue
        line_id = item.get("line_id")
        if line_id is None and item.get("item_id") is not None:
            line_id = by_external.get(str(item["item_id"]))
        quantity = item.get("quantity", 1)
        if not isinstance(line_id, int) or isinstance(line_id, bool):
            errors.append({"field": f"{where}.line_id", "message": "unknown item"})
            continue
        if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= 999:
            errors.append({"field": f"{where}.quantity", "message": "must be 1 to 999"})
            continue
        reasons = item.get("reasons") or [item.get("reason")] * quantity
        if not isinstance(reasons, list) or len(reasons) != quantity or \
                not all(isinstance(r, str) and r for r in reasons):
            errors.append({"field": f"{where}.reason",
                           "message": "give a reason (one per unit with 'reasons')"})
            continue
        lines.setdefault(line_id, []).extend(reasons)
    lat, lon = payload.get("latitude"), payload.get("longitude")
    for name, value, limit in (("latitude", lat, 90), ("longitude", lon, 180)):
        if value is not None and (not isinstance(value, int | float | Decimal)
                                  or isinstance(value, bool) or not -limit <= value <= limit):
            errors.append({"field": name, "message": f"must be a number from -{limit} to {limit}"})
    lat = float(lat) if lat is not None else None
    lon = float(lon) if lon is not None else None
    outcome = payload.get("outcome") or "refund"
    if outcome not in OUTCOMES:
        errors.append({"field": "outcome", "message": "must be refund or credit"})
    if errors:
        raise InvalidInput(errors)
    return ReturnRequest(
        lines=lines, email=normalise_email(str(payload.get("email") or ""))[:254],
        locale=str(payload.get("locale") or "en")[:10],
        latitude=lat, longitude=lon, postal_code=str(payload.get("postal_code") or "")[:20],
        store_code=payload.get("store_code") or None,
        source=str(payload.get("source") or "api")[:20],
        idempotency_key=(str(payload["idempotency_key"])[:80]
                         if payload.get("idempotency_key") else None),
        outcome=outcome)


def _pick_units(order: Order, taken: dict[int, set[int]], lines: Mapping[int, list[str]]
                ) -> list[tuple[OrderLine, int, str]]:
    """(order line, unit number, reason) for each requested unit: the lowest free numbers.
    The request must have passed check_request (enough free units on each line)."""
    by_id = {line.id: line for line in order.lines}
    units: list[tuple[OrderLine, int, str]] = []
    for line_id, codes in lines.items():
        free = (n for n in range(1, by_id[line_id].quantity + 1)
                if n not in taken.get(line_id, set()))
        units += [(by_id[line_id], next(free), code) for code in codes]
    return units


def _expected_refund(session: Session, order: Order, policy: Mapping,
                     units: list[tuple[OrderLine, int, str]],
                     reasons: Mapping[str, ReturnReason]) -> tuple[RefundBreakdown, list[int]]:
    """The refund if every unit comes back as described (grade A): in total and per unit."""
    engine = RefundEngine(paid_order(order), RefundRules.from_policy(policy))
    returning = [ReturnedUnit(str(line.id), unit - 1, "A",
                              code in reasons and reasons[code].seller_fault)
                 for line, unit, code in units]
    already = returned_units(session, order, graded=False)
    breakdown = engine.refund(returning, already_returned=already)
    per_unit = [engine.refund([u], already_returned=already).total for u in returning]
    return breakdown, per_unit


def quote_return(session: Session, order: Order, lines: Mapping[int, list[str]],
                 now: datetime | None = None) -> tuple[RefundBreakdown | None, list[dict]]:
    """The expected refund for a selection before it is confirmed (nothing is written but
    the first-use policy and reason list). A reason not chosen yet counts as no fault."""
    now = now or utcnow()
    policy = policy_service.current_policy(session).document
    problems = check_request(order_facts(session, order), policy, now,
                             {k: len(v) for k, v in lines.items()})
    if problems or not lines:
        return None, problems
    units = _pick_units(order, taken_units(session, order), lines)
    breakdown, _ = _expected_refund(session, order, policy, units, shopper_reasons(session))
    return breakdown, []


def shopper_reasons(session: Session) -> dict[str, ReturnReason]:
    return {r.code: r for r in policy_service.leaf_reasons(session)}


def origin_for(req: ReturnRequest, order: Order) -> tuple[float, float] | None:
    if req.latitude is not None and req.longitude is not None:
        return req.latitude, req.longitude
    for postal in (req.postal_code, order.ship_postal_code):
        if postal:
            point = geo.resolve_postal_code(postal, order.ship_country or "US")
            if point:
                return point
    return None


def route_for(session: Session, order: Order, line_ids, origin, now: datetime,
              limit: int = 5) -> list[dict]:
    if origin is None:
        return []
    chosen = [line for line in order.lines if line.id in line_ids]
    categories = {line.category for line in chosen}
    size = max((line.size_class for line in chosen),
               key=lambda s: SIZE_ORDER.index(s) if s in SIZE_ORDER else 0, default=None)
    # Route on the single category when there is one; mixed baskets go to general stores.
    category = categories.pop() if len(categories) == 1 else "general"
    ranked = stores.route(session, origin[0], origin[1], category=category, size_class=size,
                          at=now, limit=limit)
    return [stores.ranked_to_dict(r) for r in ranked]


def _new_number(session: Session) -> str:
    while True:
        number = "R" + "".join(secrets.choice(crypto.ALPHABET) for _ in range(8))
        if session.scalar(sa.select(ReturnAuthorization.id)
                          .where(ReturnAuthorization.number == number)) is None:
            return number


def _new_short_code(session: Session) -> str:
    while True:
        code = crypto.new_short_code()
        if session.scalar(sa.select(Voucher.id).where(Voucher.short_code == code)) is None:
            return code


def create_return(session: Session, order: Order, req: ReturnRequest, *, actor: Actor,
                  keyring: Keyring, secret: str, now: datetime | None = None,
                  link_base: str | None = None) -> ReturnAuthorization:
    """Authorise the requested units. Raises InvalidInput (nothing written) or ReturnConflict
    (someone else took the units in the meantime). The caller commits. ``link_base``: where
    the shopper's portal was reached, for the link in their e-mail when ``PUBLIC_URL`` is not
    configured."""
    now = now or utcnow()
    if req.idempotency_key:
        existing = session.scalar(sa.select(ReturnAuthorization).where(
            ReturnAuthorization.idempotency_key == req.idempotency_key))
        if existing is not None:
            return existing
    # Serialise authorisations per order: the unit numbers below are picked from what is free.
    session.execute(sa.select(Order.id).where(Order.id == order.id).with_for_update())
    policy_version = policy_service.current_policy(session)
    policy = policy_version.document
    reasons = shopper_reasons(session)
    unknown = sorted({code for codes in req.lines.values() for code in codes} - reasons.keys())
    if unknown:
        raise InvalidInput([{"field": "reason", "code": "unknown_reason",
                             "message": f"unknown return reason {code!r}"} for code in unknown])
    blocked = policy_service.blocked_kinds(
        session, secret, email=order.buyer_email, order=order.external_id,
        address=f"{order.ship_postal_code} {order.ship_country}".strip())
    facts = order_facts(session, order, blocked=bool(blocked))
    problems = check_request(facts, policy, now, {k: len(v) for k, v in req.lines.items()})
    overridden = [p for p in problems if p["code"] in OVERRIDABLE and req.override_reason
                  and int(p["field"][6:-1]) in req.override_lines]
    problems = [p for p in problems if p not in overridden]
    if problems:
        raise InvalidInput(problems)

    units = _pick_units(order, taken_units(session, order), req.lines)
    breakdown, per_unit = _expected_refund(session, order, policy, units, reasons)
    if req.outcome == "credit":
        _check_credit_offered(policy, order, [code for _line, _unit, code in units])

    origin = origin_for(req, order)
    routed = route_for(session, order, set(req.lines), origin, now)
    chosen = _chosen_store(session, routed, req.store_code)
    risk = assess(RiskContext(
        order.currency, breakdown.total,
        frozenset(line.category for line, _, _ in units), blocked,
        returns_in_window=_shopper_returns(session, order, now, policy, "serial"),
        returns_recently=_shopper_returns(session, order, now, policy, "velocity"),
        **_business_units(session, order, now, policy, len(units))), policy)

    expires_at = now + timedelta(days=voucher_ttl_days(policy, order.channel))
    rma = ReturnAuthorization(
        number=_new_number(session), order_id=order.id, status="issued", source=req.source,
        policy_version_id=policy_version.id, policy_snapshot=policy,
        shopper_email=req.email or order.buyer_email, shopper_locale=req.locale,
        origin_postal_code=req.postal_code,
        origin_latitude=origin[0] if origin else None,
        origin_longitude=origin[1] if origin else None,
        routed_stores=routed, chosen_store_id=chosen.id if chosen else None,
        currency=order.currency, expected_refund=breakdown.total,
        expected_breakdown=breakdown.as_dict(), risk_score=risk.score,
        risk_flags=risk.as_dict()["flags"] + ([{
            "code": "override", "points": 0, "text": req.override_reason[:300],
            "refusals": sorted({p["code"] for p in overridden})}] if overridden else []),
        needs_hq_review=risk.action == "hq_review", expires_at=expires_at,
        idempotency_key=req.idempotency_key, outcome=req.outcome)
    rma.lines = [ReturnLine(order_line_id=line.id, unit_no=unit, reason_code=code,
                            expected_amount=amount)
                 for (line, unit, code), amount in zip(units, per_unit, strict=True)]
    session.add(rma)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise ReturnConflict("these units were just authorised by another request") from exc
    code = _new_short_code(session)
    session.add(Voucher(rma_id=rma.id, short_code=code, kid=keyring.kid, expires_at=expires_at,
                        token=crypto.sign(keyring, rma.number, code, expires_at,
                                          chosen.code if chosen else None)))
    session.flush()
    # The counter's voucher check, worked out ahead of the shopper's visit (hub.scan.jobs).
    outbox.emit(session, "scan.prepare", {"rma": rma.number},
                dedupe_key=f"scan.prepare:{rma.number}")
    if rma.shopper_email and req.source != "counter":  # a walk-in hands it in right away
        # The shopper's copy of the voucher, with the way back to it (a closed tab loses
        # nothing): sent after commit, like every e-mail.
        outbox.emit(session, "shopper.notify",
                    {"rma": rma.number, "event": "voucher_issued", "base_url": link_base},
                    dedupe_key=f"return:{rma.number}:voucher")
    webhooks.publish(session, "return.issued", {
        "return": rma.number, "order_id": order.external_id, "channel": order.channel,
        "store": chosen.code if chosen else None, "units": len(units),
        "expected_refund": amount_text(rma.expected_refund, rma.currency),
        "currency": rma.currency, "expires_at": iso(expires_at)},
        key=f"return:{rma.number}:issued", store_id=chosen.id if chosen else None, now=now)
    record(session, actor, "return.issued", "return", rma.number,
           after={"order_id": order.id, "units": len(units), "expected_refund": rma.expected_refund,
                  "currency": rma.currency, "risk_score": risk.score})
    return rma


def _check_credit_offered(policy: Mapping, order: Order, reasons: list[str]) -> None:
    if credit_offer(policy, order.channel, order.currency, reasons) is None:
        why = (AMAZON_CREDIT_WHY if order.channel in AMAZON_CHANNELS
               else "store credit is not offered for this channel")
        raise InvalidInput([{"field": "outcome", "code": "credit_not_offered",
                             "message": why}])


def _chosen_store(session: Session, routed: list[dict], code: str | None) -> Store | None:
    if code:
        store = stores.get_store(session, code)
        if store is None or not store.active:
            raise InvalidInput([{"field": "store_code", "code": "unknown_store",
                                 "message": f"there is no open store {code!r}"}])
        return store
    first = next((r for r in routed if r["accepts"]), None)
    return stores.get_store(session, first["code"]) if first else None


def _shopper_returns(session: Session, order: Order, now: datetime, policy: Mapping,
                     which: str) -> int:
    if not order.buyer_email:
        return 0
    rules = policy["risk"]
    since = now - (timedelta(days=rules["serial_returner"]["window_days"]) if which == "serial"
                   else timedelta(hours=rules["velocity"]["window_hours"]))
    return session.scalar(
        sa.select(sa.func.count(ReturnAuthorization.id))
        .join(Order, Order.id == ReturnAuthorization.order_id)
        .where(Order.buyer_email == order.buyer_email,
               ReturnAuthorization.created_at >= since,
               ReturnAuthorization.status.notin_(("cancelled", "expired")))) or 0


def _business_units(session: Session, order: Order, now: datetime, policy: Mapping,
                    returning: int) -> dict:
    """A business buyer's units returned (with these) and bought in the business window,
    for the return-rate alert; nothing for other orders."""
    if order.channel != "amazon-business" or not order.buyer_email:
        return {}
    since = now - timedelta(days=int(business_rules(policy)["return_rate_window_days"]))
    buyer = (Order.buyer_email == order.buyer_email, Order.channel == "amazon-business")
    bought = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(OrderLine.quantity), 0))
        .join(Order, Order.id == OrderLine.order_id)
        .where(*buyer, sa.or_(Order.purchased_at >= since, Order.purchased_at.is_(None))))
    returned = session.scalar(
        sa.select(sa.func.count(ReturnLine.id))
        .join(ReturnAuthorization, ReturnAuthorization.id == ReturnLine.rma_id)
        .join(Order, Order.id == ReturnAuthorization.order_id)
        .where(*buyer, ReturnAuthorization.created_at >= since,
               ReturnAuthorization.status.notin_(("cancelled", "expired"))))
    return {"business_units_returned": int(returned or 0) + returning,
            "business_units_bought": int(bought or 0)}


# --- cancel and expire --------------------------------------------------------------------------

def _close(session: Session, rma: ReturnAuthorization, target: str, now: datetime) -> None:
    return_actions.move(rma, target)
    if target == "cancelled":
        rma.cancelled_at = now
    for line in rma.lines:
        if line.reception_status == "awaiting":
            return_actions.receive(line, target)
    voucher = session.scalar(sa.select(Voucher).where(Voucher.rma_id == rma.id))
    if voucher is not None and voucher.status == "active":
        voucher_states.move(voucher, target)


def cancel_return(session: Session, rma: ReturnAuthorization, *, actor: Actor,
                  now: datetime | None = None) -> None:
    now = now or utcnow()
    _close(session, rma, "cancelled", now)
    record(session, actor, "return.cancelled", "return", rma.number)


def expire_due(session: Session, now: datetime | None = None) -> int:
    """Expire issued returns whose voucher ran out; their units become returnable again."""
    now = now or utcnow()
    due = session.scalars(sa.select(ReturnAuthorization).where(
        ReturnAuthorization.status == "issued", ReturnAuthorization.expires_at <= now)
        .with_for_update(skip_locked=True)).all()
    for rma in due:
        _close(session, rma, "expired", now)
        record(session, Actor("system", None, "expiry"), "return.expired", "return", rma.number)
    return len(due)


# --- vouchers -----------------------------------------------------------------------------------

def voucher_code(keyring: Keyring, text: str, now: datetime) -> tuple[str, str | None]:
    """The short code a scanned token (signature and expiry checked) or a typed code stands
    for, and the token itself when one was scanned; VoucherError('malformed') if neither."""
    text = (text or "").strip()
    if text.upper().startswith(crypto.PREFIX + "."):
        return crypto.verify(keyring, text, now).code, text
    return crypto.normalise_short_code(text), None


def find_voucher(session: Session, keyring: Keyring, text: str, now: datetime | None = None
                 ) -> tuple[Voucher, ReturnAuthorization]:
    """Verify a scanned token or a typed short code without changing anything. One query
    brings the voucher, its return and the order (a scan at the counter should be quick)."""
    now = now or utcnow()
    text = (text or "").strip()
    code, token = voucher_code(keyring, text, now)
    found = session.execute(
        sa.select(Voucher, ReturnAuthorization, Order)
        .join(ReturnAuthorization, ReturnAuthorization.id == Voucher.rma_id)
        .join(Order, Order.id == ReturnAuthorization.order_id)
        .where(Voucher.short_code == code)).first()
    if found is None or (token is not None and found[0].token != token):
        raise VoucherError("unknown", "This voucher was not issued by this hub." if token
                           else "No voucher has this code.")
    voucher, rma, _order = found
    if voucher.status == "used":
        raise VoucherError("already_used", f"This voucher was already used on "
                                           f"{voucher.consumed_at:%Y-%m-%d}.")
    if voucher.status == "cancelled":
        raise VoucherError("cancelled", "This return was cancelled.")
    if voucher.status == "expired" or voucher.expires_at <= now:
        raise VoucherError("expired", f"The voucher expired on {voucher.expires_at:%Y-%m-%d}.")
    return voucher, rma


def consume_voucher(session: Session, voucher: Voucher, store_id: int,
                    now: datetime | None = None) -> bool:
    """Mark the voucher used at a store. Exactly one of two racing stores gets True: the
    update only matches while the voucher is still active."""
    return voucher_actions.consume(session, voucher, store_id, now or utcnow())


# --- views of a return --------------------------------------------------------------------------

def timeline(rma: ReturnAuthorization, lines: list[ReturnLine] | None = None) -> list[dict]:
    """Where the return is, as the shopper's status page shows it (``lines``: the return's
    units when the caller has them already)."""
    lines = rma.lines if lines is None else lines
    steps = [{"step": "issued", "at": rma.created_at, "done": True}]
    if rma.status == "cancelled":
        steps.append({"step": "cancelled", "at": rma.cancelled_at, "done": True})
        return steps
    if rma.status == "expired":
        steps.append({"step": "expired", "at": rma.expires_at, "done": True})
        return steps
    steps.append({"step": "dropped_off", "at": rma.dropped_off_at,
                  "done": rma.dropped_off_at is not None})
    decided = [ln for ln in lines if ln.acceptance_status in ("accepted", "rejected")]
    steps.append({"step": "inspected", "at": max((ln.decided_at for ln in decided
                                                  if ln.decided_at), default=None),
                  "done": bool(decided) and len(decided) == len(lines)})
    steps.append({"step": "refunded", "at": rma.completed_at,
                  "done": rma.completed_at is not None})
    return steps


def return_to_dict(session: Session, rma: ReturnAuthorization,
                   voucher: Voucher | None = None) -> dict:
    if voucher is None:
        voucher = session.scalar(sa.select(Voucher).where(Voucher.rma_id == rma.id))
    order = session.get(Order, rma.order_id)
    rows = session.execute(sa.select(ReturnLine, OrderLine.sku, OrderLine.title)
                           .join(OrderLine, OrderLine.id == ReturnLine.order_line_id)
                           .where(ReturnLine.rma_id == rma.id).order_by(ReturnLine.id)).all()
    lines = [line for line, _sku, _title in rows]
    store = session.get(Store, rma.chosen_store_id) if rma.chosen_store_id else None
    return {
        "number": rma.number, "status": rma.status, "order_id": order.external_id,
        "channel": order.channel, "currency": rma.currency, "outcome": rma.outcome,
        "created_at": rma.created_at.isoformat(), "expires_at": rma.expires_at.isoformat(),
        "expected_refund": rma.expected_breakdown.get("total"),
        "refund_due_at": (rma.dropped_off_at + REFUND_DUE_AFTER).isoformat()
        if rma.dropped_off_at else None,
        "expected_breakdown": rma.expected_breakdown,
        "units": [{"line_id": ln.order_line_id, "sku": sku, "title": title,
                   "unit": ln.unit_no, "reason": ln.reason_code,
                   "reception": ln.reception_status, "acceptance": ln.acceptance_status}
                  for ln, sku, title in rows],
        "store": stores.store_to_dict(store) if store else None,
        "routed_stores": rma.routed_stores,
        "risk": {"score": rma.risk_score, "flags": rma.risk_flags,
                 "needs_hq_review": rma.needs_hq_review},
        "voucher": {"short_code": crypto.format_short_code(voucher.short_code),
                    "token": voucher.token, "status": voucher.status,
                    "expires_at": voucher.expires_at.isoformat()} if voucher else None,
        "timeline": [{**s, "at": s["at"].isoformat() if s["at"] else None}
                     for s in timeline(rma, lines)],
    }
