"""HQ's view of the Amazon selling accounts: each account's health in words, what waits on
it, and the admin's actions (add or change an account, check it now, switch it off or on).
Every action checks the caller's permission and records one audit event in the caller's
transaction (the view commits)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from hub.amazon import accounts
from hub.amazon.models import UNFINISHED, AmazonAccount, ConnectorStatus, FeedSubmission
from hub.audit.service import Actor, record
from hub.hq.access import Scope
from hub.refunds.models import Refund
from hub.text import N_

# Marketplace ids HQ names by their shop (the rest show the id).
MARKETPLACE_NAMES = {
    "ATVPDKIKX0DER": "amazon.com", "A2EUQ1WTGCTBG2": "amazon.ca", "A1AM78C64UM0Y8": "amazon.com.mx",
    "A1PA6795UKMFR9": "amazon.de", "A1F83G8C2ARO7P": "amazon.co.uk", "A13V1IB3VIYZZH": "amazon.fr",
    "A1RKKUPIHCS9HS": "amazon.es", "APJ6JRA9NG5V4": "amazon.it", "A1805IZSGTT6HS": "amazon.nl",
    "A1VC38T7YXB528": "amazon.co.jp", "A39IBJ37TRP1C6": "amazon.com.au",
}
WAITING_REFUNDS = ("queued", "submitting", "submitted")


@dataclass
class AccountRow:
    account: AmazonAccount
    explanation: str  # an English template (N_), translated by the page
    refunds_waiting: int
    feeds_open: int
    push: ConnectorStatus | None


def marketplace_name(marketplace_id: str) -> str:
    return MARKETPLACE_NAMES.get(marketplace_id, marketplace_id)


def overview(session: Session, scope: Scope) -> list[AccountRow]:
    scope.require("accounts.view")
    waiting = dict(session.execute(sa.select(Refund.seller_id, sa.func.count()).where(
        Refund.status.in_(WAITING_REFUNDS)).group_by(Refund.seller_id)).all())
    feeds = dict(session.execute(sa.select(FeedSubmission.seller_id, sa.func.count()).where(
        FeedSubmission.status.in_(UNFINISHED)).group_by(FeedSubmission.seller_id)).all())
    rows = []
    for account in accounts.all_accounts(session):
        explanation = "" if account.health in ("ok", "unchecked") else \
            accounts.explain(account.health_code or account.health)
        rows.append(AccountRow(account, explanation, waiting.get(account.seller_id, 0),
                               feeds.get(account.seller_id, 0),
                               session.get(ConnectorStatus, f"amazon-push:{account.seller_id}")))
    return rows


def save_account(session: Session, scope: Scope, actor: Actor, *, seller_id: str, kind: str,
                 region: str, marketplaces: str, credentials_ref: str, name: str
                 ) -> AmazonAccount:
    """Add or change an account from HQ's form (marketplaces comma- or space-separated)."""
    scope.require("accounts.manage")
    markets = [m for m in marketplaces.replace(",", " ").split() if m]
    try:
        account = accounts.save(session, seller_id=seller_id, kind=kind, region=region,
                                marketplaces=markets, credentials_ref=credentials_ref,
                                name=name)
    except accounts.AccountInputError:
        raise  # the page translates its template
    session.flush()
    record(session, actor, "amazon_account.saved", "amazon_account", account.seller_id,
           after={"kind": account.kind, "region": account.region,
                  "marketplaces": account.marketplaces,
                  "credentials_ref": account.credentials_ref})
    return account


NO_SUCH_ACCOUNT = N_("There is no account %(account)s.")


def _account(session: Session, seller_id: str) -> AmazonAccount:
    account = accounts.get(session, seller_id)
    if account is None:
        raise accounts.AccountInputError("seller_id", NO_SUCH_ACCOUNT, account=seller_id[:40])
    return account


def check_now(app: Flask, session: Session, scope: Scope, actor: Actor, seller_id: str) -> str:
    scope.require("accounts.manage")
    account = _account(session, seller_id)
    health = accounts.check(app, account)
    record(session, actor, "amazon_account.checked", "amazon_account", seller_id,
           after={"health": health, "code": account.health_code})
    return health


def set_active(session: Session, scope: Scope, actor: Actor, seller_id: str,
               active: bool) -> None:
    scope.require("accounts.manage")
    account = _account(session, seller_id)
    account.active = active
    record(session, actor, "amazon_account.activated" if active else
           "amazon_account.deactivated", "amazon_account", seller_id)
