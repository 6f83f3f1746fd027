"""Walk-in returns: a shopper without a voucher. The clerk finds the order by its id and the
shopper's postal code or e-mail (the same proof the shopper portal asks, with the same
answer for a wrong proof and an unknown order), sees the returnable units with their
windows, takes the reasons, and issues the return and opens its intake in one step. Units
outside the policy may be taken with an override reason; the intake then needs a supervisor.
The caller commits."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from hub.audit.service import Actor, record
from hub.intake import service as intakes
from hub.intake.models import Intake
from hub.models import utcnow
from hub.orders.models import Order, OrderLine
from hub.policy import service as policy_service
from hub.returns import service as returns
from hub.returns.eligibility import LineEligibility
from hub.stores.models import Store
from hub.validation import InvalidInput
from hub.vouchers.crypto import Keyring
from hub.vouchers.models import Voucher

FromAmazon = Callable[[str, bool], "Order | None"]


def find_order(session: Session, order_id: str, proof: str,
               from_amazon: FromAmazon | None = None) -> Order | None:
    """The order, or None for an unknown order and a wrong proof alike. An order Homing has
    not seen is read from Amazon (``from_amazon``, when connected) as the shopper portal
    does; it may raise ``hub.amazon.orders.LookupUnavailable``."""
    order_id, proof = (order_id or "").strip()[:40], (proof or "").strip()[:254]
    if not order_id or not proof:
        return None
    order = returns.find_order_for_shopper(session, order_id, proof)
    if (order is None and from_amazon is not None
            and not returns.order_known(session, order_id)
            and from_amazon(order_id, "@" in proof) is not None):
        order = returns.find_order_for_shopper(session, order_id, proof)
    return order


@dataclass(frozen=True)
class OfferLine:
    line: OrderLine
    verdict: LineEligibility
    overridable: bool  # outside the policy, but a clerk may take it with a reason
    units_left: int


def offer(session: Session, order: Order, now: datetime | None = None) -> list[OfferLine]:
    """Each line of the order: how many units can come back, until when, and if not, why."""
    now = now or utcnow()
    policy = policy_service.current_policy(session).document
    verdicts = returns.eligibility(session, order, policy, now)
    taken = returns.taken_units(session, order)
    return [OfferLine(line, verdicts[line.id], verdicts[line.id].reason in returns.OVERRIDABLE,
                      line.quantity - len(taken.get(line.id, ())))
            for line in order.lines]


def issue(session: Session, order: Order, chosen: Mapping[int, list[str]], store: Store,
          actor: Actor, keyring: Keyring, secret: str, *, override_reason: str = "",
          override_lines: frozenset[int] = frozenset(), device_id: int | None = None,
          idempotency_key: str | None = None, now: datetime | None = None) -> Intake:
    """Authorise the chosen units for this store and open their intake at once."""
    now = now or utcnow()
    if not chosen:
        raise InvalidInput([{"field": "lines", "code": "nothing_chosen",
                             "message": "Choose at least one unit."}])
    request = returns.ReturnRequest(
        lines=dict(chosen), email=order.buyer_email, store_code=store.code, source="counter",
        idempotency_key=idempotency_key, override_reason=override_reason.strip()[:300],
        override_lines=override_lines)
    rma = returns.create_return(session, order, request, actor=actor, keyring=keyring,
                                secret=secret, now=now)
    voucher = session.query(Voucher).filter(Voucher.rma_id == rma.id).one()
    intake, _offsite = intakes.open_intake(session, keyring, voucher.short_code, store, actor,
                                           device_id=device_id, now=now)
    record(session, actor, "intake.walk_in", "intake", intake.id, store_id=store.id,
           after={"return": rma.number, "override": bool(request.override_reason
                                                          and override_lines)})
    return intake
