"""A history of returns across many stores, for the demo's dashboard, the dashboard tests and
the HQ benchmark. ``plan`` is pure and seeded (it is also what the tests compute the expected
figures from); ``insert`` writes the plan with bulk inserts, which is what makes 100,000
returns practical. Sample orders are marked by the ``SMPL-`` prefix of their order id."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

PREFIX = "SMPL-"
REASONS = ("fit.too_small", "fit.too_large", "changed_mind.better_price",
           "changed_mind.ordered_by_mistake", "damaged.arrived_broken",
           "damaged.stopped_working", "not_as_described.wrong_item",
           "not_as_described.different_colour", "late")
GRADES = ("A", "B", "C", "D")
DISPOSITIONS = {"A": "restock", "B": "open_box", "C": "transfer_dc", "D": "liquidate"}
CATEGORIES = (("apparel", 1500, 8000), ("electronics", 4000, 40000), ("home", 2000, 15000))


@dataclass
class SampleUnit:
    reason: str
    grade: str | None = None
    accepted: bool | None = None
    disposition: str | None = None


@dataclass
class SampleReturn:
    index: int
    store_id: int
    currency: str
    unit_price: int  # minor units
    category: str
    created_at: datetime
    expires_at: datetime
    units: list[SampleUnit]
    status: str = "issued"  # issued | expired | dropped_off | completed
    needs_review: bool = False
    dropped_at: datetime | None = None
    completed_at: datetime | None = None
    intake_status: str | None = None  # open | awaiting_approval | completed
    refund_status: str | None = None  # submitted | succeeded | settled | failed
    refund_amount: int = 0
    refund_created_at: datetime | None = None
    refund_succeeded_at: datetime | None = None
    due_at: datetime | None = None


def plan(store_ids: Sequence[int], n: int, now: datetime, *, days: int = 30, seed: int = 7,
         currency: str = "USD") -> list[SampleReturn]:
    """``n`` returns issued over the last ``days`` days. Busier stores get more (a few stores
    take most, as in a real chain); older vouchers are mostly dropped off and refunded, the
    newest are still on their way."""
    rng = random.Random(seed)
    weights = [1 + 20 * rng.random() ** 4 for _ in store_ids]
    returns = []
    for i in range(n):
        created = now - timedelta(days=days * rng.random() ** 1.3, minutes=rng.randint(1, 59))
        category, low, high = CATEGORIES[rng.randrange(len(CATEGORIES))]
        units = [SampleUnit(rng.choice(REASONS)) for _ in range(1 + (rng.random() < .3))]
        r = SampleReturn(i, rng.choices(store_ids, weights)[0], currency,
                         rng.randint(low, high), category, created,
                         created + timedelta(days=14), units)
        age = now - created
        if rng.random() < .03:
            r.needs_review = True
        if rng.random() < min(.95, age / timedelta(days=4)) and not r.needs_review:
            _drop_off(r, rng, now)
        elif r.expires_at <= now:
            r.status = "expired"
        returns.append(r)
    return returns


def _drop_off(r: SampleReturn, rng: random.Random, now: datetime) -> None:
    r.dropped_at = min(now - timedelta(minutes=5),
                       r.created_at + timedelta(hours=2 + 70 * rng.random() ** 2))
    r.status = "dropped_off"
    roll = rng.random()
    if roll < .04:
        r.intake_status = "open"
        return
    if roll < .07:
        r.intake_status = "awaiting_approval"
        return
    r.intake_status, r.status = "completed", "completed"
    r.completed_at = r.dropped_at + timedelta(minutes=rng.randint(2, 12))
    for unit in r.units:
        grade = rng.choices(GRADES, (50, 30, 15, 5))[0]
        unit.accepted = grade != "D" or rng.random() < .3
        # As at the counter: a rejected unit keeps no grade or disposition on its line.
        unit.grade = grade if unit.accepted else None
        unit.disposition = DISPOSITIONS[grade] if unit.accepted else None
    accepted = sum(1 for u in r.units if u.accepted)
    if not accepted:
        return
    r.refund_amount = r.unit_price * accepted
    r.refund_created_at = r.completed_at
    r.due_at = r.completed_at + timedelta(days=2)
    roll = rng.random()
    if roll < .04:
        r.refund_status = "failed"
    else:
        done = r.completed_at + timedelta(minutes=20 + 600 * rng.random())
        if done < now:
            r.refund_succeeded_at = done
            r.refund_status = "settled" if now - done > timedelta(days=7) else "succeeded"
        else:
            r.refund_status = "submitted"  # Amazon has not confirmed it yet


def insert(session: Session, returns: Sequence[SampleReturn], *, batch: int = 2000,
           progress: Callable[[int], None] | None = None) -> None:
    """Write the plan: order, order line, authorisation, units, voucher, intake and refund
    per return, in batches (RETURNING gives the ids in parameter order)."""
    from hub.policy.service import current_policy

    policy = current_policy(session)
    for start in range(0, len(returns), batch):
        _insert_batch(session, returns[start:start + batch], policy)
        if progress:
            progress(min(batch, len(returns) - start))
    session.flush()


def _ids(session: Session, model, rows: list[dict]) -> list[int]:
    if not rows:
        return []
    result = session.execute(sa.insert(model).returning(model.id, sort_by_parameter_order=True),
                             rows)
    return [row[0] for row in result]


def _rows(session: Session, model, rows: list[dict]) -> None:
    if rows:  # an empty executemany would insert one row of defaults
        session.execute(sa.insert(model), rows)


def _insert_batch(session: Session, chunk: Sequence[SampleReturn], policy) -> None:
    from hub.intake.models import Intake
    from hub.orders.models import Order, OrderLine
    from hub.refunds.models import Refund
    from hub.returns.models import ReturnAuthorization, ReturnLine
    from hub.vouchers.models import Voucher

    order_ids = _ids(session, Order, [
        {"channel": "amazon-mfn", "marketplace_id": "ATVPDKIKX0DER", "seller_id": "A1DEMOSELLER",
         "external_id": f"{PREFIX}{r.index:07d}", "status": "delivered", "currency": r.currency,
         "purchased_at": r.created_at - timedelta(days=6),
         "delivered_at": r.created_at - timedelta(days=3), "promotions": [],
         "created_at": r.created_at, "updated_at": r.created_at} for r in chunk])
    line_ids = _ids(session, OrderLine, [
        {"order_id": oid, "external_item_id": f"{90000000000000 + r.index}",
         "sku": f"SMPL-{r.category[:4].upper()}-{r.index % 97}", "title": f"Sample {r.category}",
         "category": r.category, "size_class": "small", "quantity": len(r.units),
         "item_price": r.unit_price * len(r.units), "item_tax": 0, "shipping_price": 0,
         "shipping_tax": 0, "promotions": []} for r, oid in zip(chunk, order_ids, strict=True)])
    rma_ids = _ids(session, ReturnAuthorization, [
        {"number": f"RS{r.index:08d}", "order_id": oid, "status": r.status, "source": "portal",
         "policy_version_id": policy.id, "policy_snapshot": policy.document,
         "chosen_store_id": r.store_id, "currency": r.currency,
         "expected_refund": r.unit_price * len(r.units), "expected_breakdown": {},
         "risk_score": 70 if r.needs_review else 5,
         "risk_flags": [{"code": "velocity", "points": 65, "text": "many returns in a short time"}]
         if r.needs_review else [], "needs_hq_review": r.needs_review,
         "expires_at": r.expires_at, "dropped_off_at": r.dropped_at,
         "completed_at": r.completed_at, "created_at": r.created_at, "updated_at": r.created_at}
        for r, oid in zip(chunk, order_ids, strict=True)])
    unit_rows = []
    for r, rid, lid in zip(chunk, rma_ids, line_ids, strict=True):
        for no, unit in enumerate(r.units, 1):
            decided = unit.accepted is not None
            unit_rows.append({
                "rma_id": rid, "order_line_id": lid, "unit_no": no, "reason_code": unit.reason,
                "reception_status": "received" if r.dropped_at else
                ("expired" if r.status == "expired" else "awaiting"),
                "acceptance_status": ("accepted" if unit.accepted else "rejected")
                if decided else "pending",
                "grade": unit.grade, "disposition": unit.disposition,
                "expected_amount": r.unit_price,
                "approved_amount": r.unit_price if unit.accepted else (0 if decided else None),
                "decision_reason": "" if unit.accepted or not decided else "used_or_worn",
                "decided_at": r.completed_at})
    _rows(session, ReturnLine, unit_rows)
    voucher_ids = _ids(session, Voucher, [
        {"rma_id": rid, "short_code": f"SM{r.index:08d}", "token": "", "kid": "sample",
         "status": {"issued": "active", "expired": "expired"}.get(r.status, "used"),
         "created_at": r.created_at, "expires_at": r.expires_at,
         "consumed_at": r.dropped_at, "consumed_store_id": r.store_id if r.dropped_at else None}
        for r, rid in zip(chunk, rma_ids, strict=True)])
    dropped = [(r, rid, vid) for r, rid, vid in zip(chunk, rma_ids, voucher_ids, strict=True)
               if r.dropped_at]
    intake_ids = _ids(session, Intake, [
        {"rma_id": rid, "voucher_id": vid, "store_id": r.store_id, "status": r.intake_status,
         "started_at": r.dropped_at, "completed_at": r.completed_at,
         "approval_reasons": ["amount"] if r.intake_status == "awaiting_approval" else []}
        for r, rid, vid in dropped])
    by_index = {r.index: oid for r, oid in zip(chunk, order_ids, strict=True)}
    _rows(session, Refund, [
        {"rma_id": rid, "intake_id": iid, "order_id": by_index[r.index], "status": r.refund_status,
         "currency": r.currency, "amount": r.refund_amount, "breakdown": {},
         "idempotency_key": f"sample-refund-{r.index}", "channel": "amazon-mfn",
         "seller_id": "A1DEMOSELLER", "marketplace_id": "ATVPDKIKX0DER",
         "failure_code": "sample" if r.refund_status == "failed" else "",
         "failure_message": "Sample history: not sent to Amazon"
         if r.refund_status == "failed" else "",
         "due_at": r.due_at, "submitted_at": r.refund_created_at,
         "succeeded_at": r.refund_succeeded_at, "created_at": r.refund_created_at,
         "updated_at": r.refund_created_at}
        for (r, rid, _vid), iid in zip(dropped, intake_ids, strict=True) if r.refund_status])
