"""Selling accounts: each seller id or vendor code with its own credentials, token buckets and
health. Every Amazon job asks here for an account's connector; an account whose credentials
are missing or refused stops only its own jobs, and HQ says why (``portal/hq/accounts.py``).

``credentials_for(account, app)`` is the one place that turns an account into LWA
credentials; ``connector_for_account`` the one place that makes its connector.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from hub.amazon import credentials as refs
from hub.amazon.connector import Connector, CredentialsRefused, load_credentials, marketplace
from hub.amazon.credentials import CredentialsUnavailable
from hub.amazon.models import ACCOUNT_KINDS, ACCOUNT_REGIONS, AmazonAccount
from hub.models import utcnow
from hub.text import N_

log = logging.getLogger(__name__)

# Why an account's jobs stopped, explained in HQ (codes from hub.amazon.credentials and LWA).
HEALTH_EXPLANATIONS = {
    "bad_reference": N_("The credential reference is not valid: use env:PREFIX or "
                        "file:/absolute/path."),
    "env_missing": N_("Environment variables are missing on this server: set them and "
                      "restart the web app and the workers."),
    "file_missing": N_("The credentials file does not exist on this server."),
    "file_unreadable": N_("The credentials file cannot be read by Homing (permissions)."),
    "file_invalid": N_("The credentials file is not a JSON object."),
    "file_incomplete": N_("The credentials file lacks refresh_token, lwa_app_id or "
                          "lwa_client_secret."),
    "sandbox_only": N_("sandbox: credentials work only with the built-in sandbox."),
    "inactive": N_("The account is switched off: its jobs do not run."),
    "invalid_grant": N_("Amazon refused the refresh token (expired or revoked): authorise "
                        "the app again in Seller Central or Vendor Central and update the "
                        "credentials."),
    "invalid_client": N_("Amazon refused the LWA client id or secret: check the app's "
                         "credentials in the Developer Console."),
    "refused": N_("Amazon refused the credentials."),
    "unreachable": N_("Amazon's sign-in service did not answer; the jobs try again."),
}
# Past this, an account that cannot work is in HQ's "Overdue" list and the alert e-mail.
ACCOUNT_LIMITS = {"missing": timedelta(0), "refused": timedelta(0),
                  "unreachable": timedelta(minutes=30)}
ACCOUNT_DOWN = N_("Account %(account)s cannot reach Amazon: %(reason)s")


class AccountUnavailable(Exception):
    """This account's jobs do not run now; the others' do."""

    def __init__(self, seller_id: str, code: str, detail: str = ""):
        super().__init__(f"account {seller_id}: {code} {detail}".strip())
        self.seller_id, self.code, self.detail = seller_id, code, detail


def explain(code: str) -> str:
    return HEALTH_EXPLANATIONS.get(code, HEALTH_EXPLANATIONS["refused"])


# --- the accounts ------------------------------------------------------------------------------

def get(session: Session, seller_id: str) -> AmazonAccount | None:
    return session.scalar(sa.select(AmazonAccount).where(AmazonAccount.seller_id == seller_id))


def all_accounts(session: Session) -> list[AmazonAccount]:
    return list(session.scalars(sa.select(AmazonAccount).order_by(AmazonAccount.kind,
                                                                  AmazonAccount.seller_id)))


def seller_pairs(session: Session) -> list[tuple[str, str]]:
    """(seller, marketplace) of every active seller account's marketplaces."""
    pairs = set()
    for account in session.scalars(sa.select(AmazonAccount).where(
            AmazonAccount.active, AmazonAccount.kind == "seller")):
        pairs.update((account.seller_id, m) for m in account.marketplaces or [])
    return sorted(pairs)


class AccountInputError(ValueError):
    """A field of a new or changed account that cannot be kept: ``template`` (English, N_)
    and its ``params``, translated where shown; ``message`` in English (the CLI)."""

    def __init__(self, field_name: str, template: str, **params):
        self.field, self.template, self.params = field_name, template, params
        self.message = template % params if params else template
        super().__init__(f"{field_name}: {self.message}")


BAD_SELLER_ID = N_("A seller id or vendor code has only letters and digits (at most 40).")
BAD_KIND = N_("The kind is seller or vendor.")
BAD_REGION = N_("The region is na, eu or fe.")
BAD_MARKETPLACE = N_("Marketplace %(marketplace)s is unknown.")
WRONG_REGION = N_("Marketplace %(marketplace)s is not in region %(region)s.")
BAD_REFERENCE = N_("The credentials must be a reference (env:PREFIX or file:/absolute/path), "
                   "never the secret itself.")


def save(session: Session, *, seller_id: str, kind: str, region: str, marketplaces: list[str],
         credentials_ref: str, name: str = "", active: bool = True) -> AmazonAccount:
    """Add or change an account (the caller commits). Only the reference is kept."""
    seller_id = (seller_id or "").strip()
    if not seller_id or len(seller_id) > 40 or not seller_id.isalnum() or \
            not seller_id.isascii():
        raise AccountInputError("seller_id", BAD_SELLER_ID)
    if kind not in ACCOUNT_KINDS:
        raise AccountInputError("kind", BAD_KIND)
    if region not in ACCOUNT_REGIONS:
        raise AccountInputError("region", BAD_REGION)
    for market in marketplaces:
        try:
            member = marketplace(market)
        except ValueError:
            raise AccountInputError("marketplaces", BAD_MARKETPLACE,
                                    marketplace=market[:20]) from None
        if region_of(member) != region:
            raise AccountInputError("marketplaces", WRONG_REGION, marketplace=market,
                                    region=region)
    try:
        refs.parse(credentials_ref)
    except CredentialsUnavailable:
        raise AccountInputError("credentials_ref", BAD_REFERENCE) from None
    account = get(session, seller_id) or AmazonAccount(seller_id=seller_id)
    account.kind, account.region, account.name = kind, region, (name or "")[:120]
    account.marketplaces = sorted(set(marketplaces))
    account.credentials_ref, account.active = credentials_ref.strip(), active
    session.add(account)
    return account


def region_of(member) -> str:
    """na / eu / fe from python-amazon-sp-api's marketplace (its endpoint names the region)."""
    endpoint = str(getattr(member, "endpoint", ""))
    for region in ACCOUNT_REGIONS:
        if f"-{region}." in endpoint or endpoint.endswith(f"-{region}"):
            return region
    return "na"


# --- credentials and connectors ----------------------------------------------------------------

def sandbox_mode(app: Flask) -> bool:
    return app.config.get("AMAZON_MODE") == "sandbox"


def credentials_for(account: AmazonAccount | None, app: Flask) -> dict | None:
    """The LWA credentials of ``account`` from its reference (CredentialsUnavailable when they
    cannot be read). ``None`` account: the single-account settings of earlier versions
    (HOMING_AMAZON_CREDENTIALS_FILE, python-amazon-sp-api's variables, or the sandbox's)."""
    if account is None:
        return load_credentials(app)
    if not account.active:
        raise CredentialsUnavailable("inactive", account.seller_id)
    return refs.resolve(refs.parse(account.credentials_ref), account.seller_id, os.environ,
                        sandbox=sandbox_mode(app))


def connector_for_account(app: Flask, seller_id: str, account: AmazonAccount | None
                          ) -> Connector:
    """The account's connector: its credentials, its own token buckets (keyed by its id)."""
    return Connector.from_app(app, seller_id, credentials=credentials_for(account, app))


@dataclass
class Tracker:
    """What one job run learnt about each account's health; saved after the run's own work
    (never in a transaction the run may roll back)."""

    seen: dict[str, tuple[str, str, str, str]] = field(default_factory=dict)

    def ok(self, seller_id: str) -> None:
        self.seen.setdefault(seller_id, ("ok", "", "", ""))

    def down(self, seller_id: str, health: str, code: str, detail: str,
             fingerprint: str = "") -> None:
        self.seen[seller_id] = (health, code, detail[:500], fingerprint)

    def is_down(self, seller_id: str) -> bool:
        return self.seen.get(seller_id, ("ok",))[0] != "ok"

    def save(self, session: Session, now: datetime | None = None) -> None:
        for seller_id, (health, code, detail, fingerprint) in self.seen.items():
            account = get(session, seller_id)
            if account is not None:
                record(account, health, code, detail, now or utcnow(), fingerprint)


def record(account: AmazonAccount, health: str, code: str, detail: str, now: datetime,
           fingerprint: str = "") -> None:
    if account.health != health or account.health_code != code:
        account.health_since = now
        if health != "ok":
            log.warning("Amazon account %s: %s (%s)", account.seller_id, health, code)
    account.health, account.health_code, account.health_detail = health, code, detail
    account.checked_at = now
    if health == "refused":
        account.refused_fingerprint = fingerprint
    elif health == "ok":
        account.refused_fingerprint = ""


def open_connector(app: Flask, session: Session, seller_id: str, tracker: Tracker
                   ) -> Connector:
    """The connector a job uses for ``seller_id``, or AccountUnavailable: credentials that
    cannot be read, or the very ones Amazon refused last time (until they change)."""
    if tracker.is_down(seller_id):
        health, code, detail, _ = tracker.seen[seller_id]
        raise AccountUnavailable(seller_id, code, detail)
    account = get(session, seller_id)
    try:
        credentials = credentials_for(account, app)
    except CredentialsUnavailable as exc:
        tracker.down(seller_id, "missing", exc.code, exc.detail)
        raise AccountUnavailable(seller_id, exc.code, exc.detail) from exc
    printed = refs.fingerprint(credentials) if credentials else ""
    if account is not None and account.health == "refused" and \
            account.refused_fingerprint == printed:
        tracker.down(seller_id, "refused", account.health_code, account.health_detail, printed)
        raise AccountUnavailable(seller_id, account.health_code, account.health_detail)
    connector = Connector.from_app(app, seller_id, credentials=credentials)

    def observe(operation: str, outcome: str) -> None:
        if outcome == "ok":
            tracker.ok(seller_id)
        elif outcome.startswith("refused:"):
            code = outcome.split(":", 1)[1] or "refused"
            tracker.down(seller_id, "refused", code, f"{operation}", printed)

    connector.observers.append(observe)
    return connector


# --- checking ----------------------------------------------------------------------------------

def check(app: Flask, account: AmazonAccount, now: datetime | None = None) -> str:
    """Read the account's credentials and ask LWA for an access token with them (no SP-API
    call, no rate limit spent); record and return the health."""
    now = now or utcnow()
    try:
        credentials = credentials_for(account, app)
    except CredentialsUnavailable as exc:
        record(account, "missing", exc.code, exc.detail, now)
        return account.health
    connector = Connector.from_app(app, account.seller_id, credentials=credentials)
    try:
        connector.sign_in()
    except CredentialsRefused as exc:
        record(account, "refused", exc.code, exc.message[:500], now,
               refs.fingerprint(credentials or {}))
    except Exception as exc:  # noqa: BLE001  (no answer: not a verdict on the credentials)
        record(account, "unreachable", "unreachable", type(exc).__name__, now)
    else:
        record(account, "ok", "", "", now)
    return account.health


def check_reference(app: Flask, account: AmazonAccount) -> str | None:
    """For ``homing check``: None when the account's reference resolves, else why not (names
    only, never a value). No network."""
    try:
        credentials_for(account, app)
    except CredentialsUnavailable as exc:
        return f"{exc.code}: {exc.detail}"
    return None


def overdue_accounts(session: Session, now: datetime) -> list:
    """Accounts that cannot work, for hub.jobs.deadlines."""
    from hub.jobs.deadlines import Overdue

    items = []
    for account in session.scalars(sa.select(AmazonAccount).where(
            AmazonAccount.active, AmazonAccount.health.in_(tuple(ACCOUNT_LIMITS)))):
        since = account.health_since or account.checked_at or now
        deadline = since + ACCOUNT_LIMITS[account.health]
        if deadline > now:
            continue
        items.append(Overdue("amazon_account", account.seller_id, account.health, since,
                             deadline, "amazon-check-accounts", ACCOUNT_DOWN,
                             {"account": account.seller_id,
                              "reason": account.health_code or account.health},
                             last_error=account.health_detail))
    return items
