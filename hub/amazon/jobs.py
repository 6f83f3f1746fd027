"""Periodic Amazon jobs: push refunds in batched feeds, pull financial events, pull and
reconcile settlements. They run in RQ (``homing worker``) or in the demo's in-process runner."""

from __future__ import annotations

import logging
import threading

import sqlalchemy as sa
from flask import Flask
from redis.exceptions import LockError, RedisError

from hub.amazon import accounts as amazon_accounts
from hub.amazon import returns_report, service, sync
from hub.amazon.accounts import AccountUnavailable, Tracker
from hub.amazon.connector import AmazonError, Connector, Throttled
from hub.extensions import db
from hub.jobs.queue import redis_connection
from hub.jobs.runner import periodic
from hub.models import utcnow
from hub.orders.models import Order

log = logging.getLogger(__name__)


def configured(app: Flask) -> bool:
    if app.config.get("AMAZON_MODE") == "sandbox":
        return bool(app.config.get("AMAZON_ENDPOINT"))
    return app.config.get("AMAZON_MODE") == "live"


def connector_for(app: Flask, tracker: Tracker | None = None):
    """``make(seller_id)``: the account's connector for this run (AccountUnavailable when its
    credentials cannot be used; the tracker keeps what the run learnt of each account)."""
    cache: dict[str, Connector] = {}
    tracker = tracker if tracker is not None else Tracker()

    def make(seller_id: str) -> Connector:
        if tracker.is_down(seller_id):
            cache.pop(seller_id, None)
        if seller_id not in cache:
            connector = amazon_accounts.open_connector(app, db.session, seller_id, tracker)

            def count_throttling(operation: str, outcome: str) -> None:
                if outcome == "throttled":
                    service.note_throttled(db.session, f"amazon-push:{seller_id}")

            connector.on_event = count_throttling
            cache[seller_id] = connector
        return cache[seller_id]

    make.tracker = tracker
    return make


def accounts() -> list[tuple[str, str]]:
    """(seller, marketplace) pairs Homing has Amazon orders for, and those of every active
    seller account."""
    rows = db.session.execute(sa.select(Order.seller_id, Order.marketplace_id).distinct().where(
        Order.channel.in_(service.AMAZON_CHANNELS), Order.seller_id != ""))
    return sorted({tuple(r) for r in rows} | set(amazon_accounts.seller_pairs(db.session)))


def save_health(tracker: Tracker) -> None:
    """After the run's own commits: what it learnt of each account's health."""
    try:
        tracker.save(db.session)
        db.session.commit()
    except sa.exc.SQLAlchemyError as exc:  # health is a report; the run's work is saved
        db.session.rollback()
        log.warning("account health not saved: %s", type(exc).__name__)


PUSH_LOCK = "homing:amazon-push"
PUSH_LEASE_SECONDS = 60  # a dead holder's lock lapses within this; the holder renews it


@periodic("amazon-push-refunds", every_seconds=20)
def push_refunds(app: Flask) -> None:
    """One push run at a time: a second run while the first still waits on Amazon could
    otherwise take a submission in "creating" for lost and create its feed again. The lock
    lives in Redis (shared by every worker) as a short lease the run renews while it works,
    so a worker killed mid-push blocks the others for at most a lease; the in-process runner
    runs jobs one by one."""
    if not configured(app):
        return
    conn = redis_connection(app)
    lease = None
    if conn is not None:
        lease = PushLease(conn, float(app.config.get("AMAZON_PUSH_LEASE_SECONDS",
                                                     PUSH_LEASE_SECONDS)))
        if not lease.acquire():
            log.info("refund push already running elsewhere; skipped")
            return
    try:
        with app.app_context():
            make = connector_for(app)
            results = service.push(db.session, make)
            db.session.commit()
            save_health(make.tracker)
            for result in results:
                log.info("refund feed %s: %s %s", result.submission_id, result.status,
                         result.detail)
    finally:
        if lease is not None:
            lease.release()


class PushLease:
    """The push lock as a lease: held for ``seconds``, renewed every third of that by a
    thread while the run works, released at the end. A holder that dies (SIGKILL, a killed
    work-horse) stops renewing, and the lock lapses by itself."""

    def __init__(self, conn, seconds: float):
        self.seconds = seconds
        # thread_local=False: the renewal thread must see the token the run acquired.
        self.lock = conn.lock(PUSH_LOCK, timeout=seconds, blocking=False, thread_local=False)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._renew, name="homing-push-lease",
                                        daemon=True)

    def acquire(self) -> bool:
        if not self.lock.acquire():
            return False
        self._thread.start()
        return True

    def _renew(self) -> None:
        while not self._done.wait(self.seconds / 3):
            try:
                self.lock.reacquire()
            except LockError as exc:  # lapsed (and maybe taken): nothing left to renew
                log.error("refund push lost its lock (%s); another run may start", exc)
                return
            except RedisError as exc:  # Redis away for a moment: try again next time
                log.warning("could not renew the refund push lock: %s", exc)

    def release(self) -> None:
        self._done.set()
        self._thread.join(timeout=5)
        try:
            self.lock.release()
        except (LockError, RedisError) as exc:  # lapsed already, or Redis away: it expires
            log.warning("refund push lock not released: %s", exc)


def _per_account(app: Flask, pull) -> None:
    """Run ``pull(session, connector, marketplace_id, now)`` for every Amazon account, one
    commit each, so one account's failure leaves the others' progress saved. An account that
    cannot sign in is skipped (its health says why); Amazon failing an account's pull still
    fails the run, after the other accounts, so the job shows as failing."""
    if not configured(app):
        return
    failures: list[Exception] = []
    with app.app_context():
        make = connector_for(app)
        for seller_id, marketplace_id in accounts():
            try:
                pull(db.session, make(seller_id), marketplace_id, utcnow())
                db.session.commit()
            except AccountUnavailable as exc:
                db.session.rollback()
                log.info("%s skipped: %s", pull.__name__, exc)
            except (AmazonError, Throttled) as exc:
                db.session.rollback()
                failures.append(exc)
        save_health(make.tracker)
    if failures:
        raise failures[0]


@periodic("amazon-check-accounts", every_seconds=300)
def check_accounts(app: Flask) -> None:
    """Every account's credentials read and tried with LWA, so HQ shows an expired token
    before a job needs it, and an account whose credentials were renewed works again."""
    if not configured(app):
        return
    with app.app_context():
        for account in amazon_accounts.all_accounts(db.session):
            if account.active:
                amazon_accounts.check(app, account)
        db.session.commit()


@periodic("amazon-pull-finances", every_seconds=600)
def pull_finances(app: Flask) -> None:
    _per_account(app, sync.pull_financial_events)


@periodic("amazon-pull-returns", every_seconds=3600)
def pull_returns(app: Flask) -> None:
    """Request the MFN returns report, collect it on the next run, link Amazon's RMAs."""
    _per_account(app, returns_report.pull)


@periodic("amazon-pull-settlements", every_seconds=1800)
def pull_settlements(app: Flask) -> None:
    _per_account(app, sync.pull_settlements)
