"""Store credit in the ledger, after commit (outbox ``credit.journal``), once per key: its
issue (the sales reversed, owed on the store-credit liability, plus the bonus), each
redemption, and an expiry's write-back. Also the periodic expiry job."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from hub.credits import service
from hub.credits.models import CreditRedemption, StoreCredit
from hub.extensions import db
from hub.jobs.runner import periodic
from hub.ledger import rules
from hub.ledger.service import post
from hub.outbox import service as outbox


@outbox.handler("credit.journal")
def journal_credit(session: Session, message) -> None:
    payload = message.payload
    if payload["kind"] == "redeem":
        redemption = session.get(CreditRedemption, payload["redemption_id"])
        if redemption is None:
            raise LookupError(f"redemption {payload['redemption_id']} does not exist")
        credit = session.get(StoreCredit, redemption.credit_id)
        post(session, source_type="credit_redemption", source_id=redemption.id,
             currency=credit.currency, postings=rules.credit_redeem_postings(redemption.amount),
             key=f"redemption:{redemption.id}",
             memo=f"Store credit {credit.id} redeemed ({redemption.reference})")
        return
    credit = session.get(StoreCredit, payload["credit_id"])
    if credit is None:
        raise LookupError(f"store credit {payload['credit_id']} does not exist")
    if payload["kind"] == "issue":
        postings = rules.credit_issue_postings(payload["components"], credit.bonus)
        memo = f"Store credit {credit.id} instead of a refund, return {credit.rma_id}"
    else:
        postings = rules.credit_expiry_postings(int(payload["amount"]))
        memo = f"Store credit {credit.id} expired"
    post(session, source_type="store_credit", source_id=credit.id, currency=credit.currency,
         postings=postings, key=f"credit:{credit.id}:{payload['kind']}", memo=memo)


@periodic("credits-expire", 3600)
def expire_credits(app: Flask) -> None:
    with app.app_context():
        service.expire_due(db.session)
        db.session.commit()
