"""Store credit: issued at the intake's completion instead of a refund (when the return asked
for credit and its policy offers it), with the policy's bonus; spent by the brand's till or
web shop through the API, once per caller and Idempotency-Key, never below zero, never after
its expiry. Each issue, spend and expiry is a journal entry (outbox ``credit.journal``) and a
webhook event, written in the caller's transaction."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.audit.service import Actor, record
from hub.credits import states
from hub.credits.models import CreditRedemption, StoreCredit
from hub.models import iso, utcnow
from hub.money import amount_text
from hub.outbox import service as outbox
from hub.policy.document import CreditOffer
from hub.refunds.engine import LineRefund, RefundBreakdown
from hub.returns.models import ReturnAuthorization
from hub.webhooks import service as webhooks

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out at a till
CODE_GROUPS = 4
REFERENCE_LENGTH = 120


class CreditRefused(Exception):
    """A redemption that was refused; nothing changed. ``code`` says why."""

    def __init__(self, code: str, message: str, **facts):
        super().__init__(message)
        self.code, self.facts = code, facts


@dataclass(frozen=True)
class Redeemed:
    redemption: CreditRedemption
    credit: StoreCredit
    replayed: bool


def normalise_code(text: str) -> str:
    return "".join(ch for ch in (text or "").upper() if ch.isalnum())[:32]


def _new_code(session: Session) -> str:
    while True:
        raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUPS * 4))
        code = "SC" + raw
        if not session.scalar(sa.select(StoreCredit.id).where(StoreCredit.code == code)):
            return code


def display_code(code: str) -> str:
    """SC + 16 characters, shown in groups of four: SC-ABCD-EFGH-JKLM-NPQR."""
    body = code[2:]
    return "SC-" + "-".join(body[i:i + 4] for i in range(0, len(body), 4))


def issue(session: Session, *, rma, intake_id: int | None, channel: str, offer: CreditOffer,
          breakdown: RefundBreakdown, store_id: int | None,
          now: datetime | None = None) -> StoreCredit | None:
    """The credit a completed return earns instead of its refund (None when nothing is
    owed). The caller commits."""
    amount, components = breakdown.total, breakdown.components()
    if amount <= 0:
        return None
    now = now or utcnow()
    bonus = offer.bonus(amount)
    credit = StoreCredit(code=_new_code(session), rma_id=rma.id, intake_id=intake_id,
                         channel=channel, currency=rma.currency, amount=amount, bonus=bonus,
                         balance=amount + bonus, status="active",
                         lines=[{"line_id": ln.line_id, "quantity": ln.quantity,
                                 "components": {k: v for k, v in ln.components.items() if v}}
                                for ln in breakdown.lines],
                         expires_at=now + timedelta(days=offer.expiry_days)
                         if offer.expiry_days else None, created_at=now)
    session.add(credit)
    session.flush()
    outbox.emit(session, "credit.journal",
                {"kind": "issue", "credit_id": credit.id, "components": components},
                dedupe_key=f"credit:{credit.id}:issue", store_id=store_id)
    webhooks.publish(session, "credit.issued", {
        "code": display_code(credit.code), "return": rma.number, "channel": channel,
        "amount": amount_text(amount, credit.currency),
        "bonus": amount_text(bonus, credit.currency),
        "balance": amount_text(credit.balance, credit.currency), "currency": credit.currency,
        "expires_at": iso(credit.expires_at)}, key=f"credit:{credit.id}:issued",
        store_id=store_id, now=now)
    return credit


def settled_before(session: Session, order_id: int, intake_id: int) -> list[RefundBreakdown]:
    """The credits issued for the order's other returns, in the shape of the refunds they
    replaced (what the refund engine measures a new return against)."""
    rows = session.scalars(sa.select(StoreCredit).join(
        ReturnAuthorization, ReturnAuthorization.id == StoreCredit.rma_id)
        .where(ReturnAuthorization.order_id == order_id,
               sa.or_(StoreCredit.intake_id.is_(None), StoreCredit.intake_id != intake_id)))
    return [RefundBreakdown(c.currency, [
        LineRefund(str(ln["line_id"]), int(ln["quantity"]), dict(ln["components"]))
        for ln in c.lines], [], False) for c in rows]


def find(session: Session, code: str, *, lock: bool = False) -> StoreCredit | None:
    query = sa.select(StoreCredit).where(StoreCredit.code == normalise_code(code))
    return session.scalar(query.with_for_update() if lock else query)


def redeem(session: Session, code: str, amount: int, *, scope: str, key: str,
           request_hash: str, reference: str = "", actor: Actor,
           now: datetime | None = None) -> Redeemed:
    """Spend ``amount`` (minor units) of the credit. The same caller and key with the same
    request is the first answer again; with another request it is refused. Refused (nothing
    changes): an unknown code, an expired or spent credit, more than the balance."""
    now = now or utcnow()
    credit = find(session, code, lock=True)  # one spend of a credit at a time
    if credit is None:
        raise CreditRefused("credit_not_found", "No store credit has this code.")
    done = session.scalar(sa.select(CreditRedemption).where(
        CreditRedemption.scope == scope, CreditRedemption.key == key))
    if done is not None:
        if done.request_hash != request_hash or done.credit_id != credit.id:
            raise CreditRefused("idempotency_key_reused",
                                "This Idempotency-Key was already used for another redemption.")
        return Redeemed(done, credit, replayed=True)
    _check_spendable(credit, amount, now)
    credit.balance -= amount
    if credit.balance == 0:
        states.move(credit, "spent")
    redemption = CreditRedemption(credit_id=credit.id, scope=scope, key=key,
                                  request_hash=request_hash, amount=amount,
                                  balance_after=credit.balance,
                                  reference=reference[:REFERENCE_LENGTH], created_at=now)
    session.add(redemption)
    session.flush()
    outbox.emit(session, "credit.journal", {"kind": "redeem", "redemption_id": redemption.id},
                dedupe_key=f"redemption:{redemption.id}:journal")
    webhooks.publish(session, "credit.redeemed", {
        "code": display_code(credit.code), "redemption_id": redemption.id,
        "amount": amount_text(amount, credit.currency),
        "balance": amount_text(credit.balance, credit.currency), "currency": credit.currency,
        "reference": redemption.reference}, key=f"redemption:{redemption.id}", now=now)
    record(session, actor, "credit.redeemed", "store_credit", credit.id,
           after={"amount": amount, "balance": credit.balance, "currency": credit.currency})
    return Redeemed(redemption, credit, replayed=False)


def _check_spendable(credit: StoreCredit, amount: int, now: datetime) -> None:
    if credit.status == "expired" or (credit.expires_at and credit.expires_at <= now):
        raise CreditRefused("credit_expired", "This store credit has expired.",
                            expired_at=iso(credit.expires_at))
    if credit.status == "spent":
        raise CreditRefused("credit_spent", "This store credit has been spent.",
                            balance=amount_text(0, credit.currency))
    if amount > credit.balance:
        raise CreditRefused("insufficient_balance",
                            "The amount is more than the credit's balance.",
                            balance=amount_text(credit.balance, credit.currency))


def expire_due(session: Session, now: datetime | None = None, limit: int = 500) -> int:
    """Close the credits past their expiry; what was left is written back in the journal."""
    now = now or utcnow()
    due = session.scalars(sa.select(StoreCredit).where(
        StoreCredit.status == "active", StoreCredit.expires_at <= now)
        .order_by(StoreCredit.id).limit(limit).with_for_update(skip_locked=True)).all()
    for credit in due:
        states.move(credit, "expired")
        outbox.emit(session, "credit.journal",
                    {"kind": "expiry", "credit_id": credit.id, "amount": credit.balance},
                    dedupe_key=f"credit:{credit.id}:expiry")
    return len(due)


def credit_to_dict(credit: StoreCredit) -> dict:
    fmt = lambda minor: amount_text(minor, credit.currency)  # noqa: E731
    return {"code": display_code(credit.code), "status": credit.status,
            "currency": credit.currency, "amount": fmt(credit.amount),
            "bonus": fmt(credit.bonus), "balance": fmt(credit.balance),
            "expires_at": iso(credit.expires_at), "created_at": iso(credit.created_at)}
