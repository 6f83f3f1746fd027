"""The in-process job runner of the embedded shape (``homing demo``): a daemon thread that
drains the outbox and runs the periodic jobs, so the demo needs no Redis."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from flask import Flask

from hub.extensions import db
from hub.outbox import service as outbox

log = logging.getLogger(__name__)

# (name, every_seconds, function(app)). Features register their periodic jobs here.
PERIODIC: list[tuple[str, float, Callable[[Flask], None]]] = []


def periodic(name: str, every_seconds: float):
    def register(func: Callable[[Flask], None]):
        PERIODIC.append((name, every_seconds, func))
        return func

    return register


def job_row(session, name: str):
    """The health row of a periodic job ("job:<name>"), created on first use."""
    from hub.amazon.models import ConnectorStatus

    key = f"job:{name}"
    row = session.get(ConnectorStatus, key)
    if row is None:
        row = ConnectorStatus(name=key, cursor={}, throttled_total=0, last_error="",
                              paused=False)
        session.add(row)
    return row


def run_job(app: Flask, name: str, func: Callable[[Flask], None]) -> None:
    """Run one periodic job unless an admin paused it in HQ, and record how it went (HQ's
    connector health reads these rows). A failure is recorded, then raised to the caller."""
    from hub.models import utcnow

    with app.app_context():
        if job_row(db.session, name).paused:
            db.session.rollback()
            log.info("periodic job %s is paused", name)
            return
        db.session.rollback()
    try:
        func(app)
    except Exception as exc:
        with app.app_context():
            db.session.rollback()
            row = job_row(db.session, name)
            row.last_error_at, row.last_error = utcnow(), f"{type(exc).__name__}: {exc}"[:1000]
            db.session.commit()
        raise
    with app.app_context():
        job_row(db.session, name).last_success_at = utcnow()
        db.session.commit()


class InProcessRunner:
    def __init__(self, app: Flask, tick_seconds: float = 2.0):
        self.app, self.tick = app, tick_seconds
        self._stop = threading.Event()
        self._last_run: dict[str, float] = {}
        self._thread = threading.Thread(target=self._loop, name="homing-runner", daemon=True)
        load_periodic_jobs()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def run_once(self) -> None:
        with self.app.app_context():
            try:
                outbox.drain(db.session)
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("outbox drain failed")
            now = time.monotonic()
            for name, every, func in PERIODIC:
                # Each job runs once at start, then every `every` seconds. (Timing from 0 would
                # skip a 30-minute job for the first 30 minutes of the host's uptime: the
                # monotonic clock starts at boot.)
                last = self._last_run.get(name)
                if last is None or now - last >= every:
                    self._last_run[name] = now
                    try:
                        run_job(self.app, name, func)
                    except Exception:
                        db.session.rollback()
                        log.exception("periodic job %s failed", name)
            db.session.remove()

    def _loop(self) -> None:
        while not self._stop.wait(self.tick):
            self.run_once()


def load_periodic_jobs() -> None:
    """Import the features' job modules so their @periodic jobs and outbox handlers
    register."""
    import hub.amazon.jobs  # noqa: F401
    import hub.counter.jobs  # noqa: F401
    import hub.creditnotes.jobs  # noqa: F401
    import hub.credits.journal  # noqa: F401
    import hub.ledger.service  # noqa: F401
    import hub.notify.alerts  # noqa: F401
    import hub.notify.service  # noqa: F401
    import hub.privacy_jobs  # noqa: F401
    import hub.refunds.sla  # noqa: F401
    import hub.returns.jobs  # noqa: F401
    import hub.scan.jobs  # noqa: F401
    import hub.vendor.jobs  # noqa: F401
    import hub.webhooks.outcomes  # noqa: F401
    import hub.webhooks.service  # noqa: F401
