"""Approval requests at the counter: which tier must approve an intake (hub.policy.approvals),
whether the person approving may, and the request that waits for them with its clock. The
caller commits."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.auth.models import User
from hub.counter.models import ApprovalRequest
from hub.counter.states import move_approval
from hub.intake.models import Intake
from hub.orders.models import Order
from hub.policy import approvals as tiers
from hub.returns.models import ReturnAuthorization
from hub.stores.models import Store

DEFAULT_WAIT_MINUTES = {"supervisor": 30, "hq": 240, "finance": 480}


class ApprovalRefused(Exception):
    """The person approving is below the tier this needs; ``needed`` names who may."""

    def __init__(self, needed: str):
        super().__init__(f"only {needed} may approve this")
        self.needed = needed


def chain(session: Session, intake: Intake) -> tuple[list[tiers.Tier], ReturnAuthorization]:
    rma = session.get(ReturnAuthorization, intake.rma_id)
    order = session.get(Order, rma.order_id)
    store = session.get(Store, intake.store_id)
    return tiers.chain_for(rma.policy_snapshot, rma.currency, order.channel,
                           store.region or ""), rma


def needed_role(session: Session, intake: Intake, total: int, reasons: list[str]) -> str:
    return tiers.required_role(chain(session, intake)[0], total, reasons)


def acting_role(user: User, intake: Intake) -> str | None:
    """The tier ``user`` acts for on this intake: a store user only at their own store."""
    if user.role in tiers.STORE_ROLES:
        return user.role if user.store_id == intake.store_id else None
    return tiers.HQ_ACTORS.get(user.role)


def check_approver(session: Session, intake: Intake, user: User, total: int,
                   reasons: list[str]) -> None:
    tier_list, _rma = chain(session, intake)
    role = acting_role(user, intake)
    if role is None or not tiers.may_approve(tier_list, role, total, reasons):
        raise ApprovalRefused(tiers.required_role(tier_list, total, reasons))


def open_request(session: Session, intake: Intake, reasons: list[str], total: int,
                 requested_by: int | None, now: datetime) -> ApprovalRequest:
    tier_list, rma = chain(session, intake)
    role = tiers.required_role(tier_list, total, reasons)
    waits = (rma.policy_snapshot.get("approvals") or {}).get("wait_minutes") or {}
    minutes = waits.get(role, DEFAULT_WAIT_MINUTES.get(role, 60))
    request = ApprovalRequest(intake_id=intake.id, store_id=intake.store_id, role=role,
                              reasons=list(reasons), amount=total, currency=rma.currency,
                              status="pending", requested_by_id=requested_by,
                              requested_at=now, due_at=now + timedelta(minutes=minutes))
    session.add(request)
    session.flush()
    return request


def pending_request(session: Session, intake_id: int) -> ApprovalRequest | None:
    return session.scalar(sa.select(ApprovalRequest).where(
        ApprovalRequest.intake_id == intake_id, ApprovalRequest.status == "pending"))


def close_request(session: Session, intake_id: int, target: str, by: int | None,
                  now: datetime) -> None:
    request = pending_request(session, intake_id)
    if request is not None:
        move_approval(request, target)
        request.decided_by_id, request.decided_at = by, now


def hq_queue(session: Session, limit: int = 200) -> list[tuple[ApprovalRequest, Store]]:
    """Requests beyond the stores' tiers, oldest deadline first."""
    return session.execute(
        sa.select(ApprovalRequest, Store).join(Store, Store.id == ApprovalRequest.store_id)
        .where(ApprovalRequest.status == "pending",
               ApprovalRequest.role.notin_(tiers.STORE_ROLES))
        .order_by(ApprovalRequest.due_at).limit(limit)).all()
