"""``homing worker``: an RQ worker with its scheduler, plus the periodic jobs as RQ cron jobs.

A worker outlives Redis: RQ's work loop returns when it loses Redis (or quits on a timeout),
and this loop starts a fresh one after a back-off; the cron thread logs a Redis error and
tries again. Only a stop request (SIGTERM, SIGINT) ends the process."""

from __future__ import annotations

import logging
import signal
import threading
import time

from flask import Flask
from redis.exceptions import RedisError
from rq import Queue, Worker
from rq.cron import CronScheduler

from hub.extensions import db
from hub.jobs import tasks
from hub.jobs.queue import QUEUES, worker_connection
from hub.jobs.runner import PERIODIC, load_periodic_jobs

log = logging.getLogger(__name__)

RELAY_EVERY_SECONDS = 5
BACKOFF_SECONDS = (1, 2, 5, 10)  # between attempts to reach Redis again; the last repeats


def backoff(failures: int) -> float:
    return BACKOFF_SECONDS[min(max(failures, 1), len(BACKOFF_SECONDS)) - 1]


class HomingWorker(Worker):
    """RQ's worker, remembering whether it was asked to stop (RQ's own flag is set only when
    a stop arrives during a job)."""

    stop_asked = False

    def request_stop(self, signum, frame):
        self.stop_asked = True
        super().request_stop(signum, frame)


def run_worker(app: Flask, *, burst: bool = False, with_cron: bool = True) -> None:
    url = app.config.get("REDIS_URL")
    if not url:
        raise SystemExit("homing worker needs HOMING_REDIS_URL (the demo runs jobs in-process)")
    stop = threading.Event()
    with app.app_context():
        db.engine.dispose()  # no pooled connections shared with forked work-horses
        if with_cron and not burst:
            _start_cron(worker_connection(url), stop)
        try:
            _work(url, burst, stop)
        finally:
            stop.set()


def _work(url: str, burst: bool, stop: threading.Event) -> None:
    failures = 0
    while not stop.is_set():
        worker, started = None, time.monotonic()
        try:
            conn = worker_connection(url)
            worker = HomingWorker([Queue(name, connection=conn) for name in QUEUES],
                                  connection=conn)
            worker.work(with_scheduler=True, burst=burst)
        except RedisError as exc:  # raised outside RQ's loop: birth or death registration
            log.warning("worker: Redis unavailable (%s)", exc)
        if time.monotonic() - started > 60:
            failures = 0  # it worked for a while: start the back-off afresh
        if burst or (worker is not None and worker.stop_asked):
            return
        failures += 1
        log.warning("worker: lost Redis; starting again in %ss", backoff(failures))
        _sleep_until_stopped(stop, backoff(failures))


def _sleep_until_stopped(stop: threading.Event, seconds: float) -> None:
    """Wait for the back-off, ending early on SIGTERM/SIGINT (RQ's handlers belong to the
    worker that just ended)."""
    def asked(signum, frame):
        stop.set()

    previous = {sig: signal.signal(sig, asked) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        stop.wait(seconds)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _start_cron(conn, stop: threading.Event) -> threading.Thread:
    cron = CronScheduler(connection=conn, name="homing-cron")
    # A run still waiting when the next is due is dropped (ttl), so a pause never leaves a pile
    # of identical runs behind; failed runs are kept a day for a look, not RQ's year.
    cron.register(tasks.relay_outbox, "high", interval=RELAY_EVERY_SECONDS,
                  ttl=max(60, RELAY_EVERY_SECONDS), failure_ttl=tasks.FAILED_JOB_TTL)
    load_periodic_jobs()
    for name, every, _func in PERIODIC:
        cron.register(tasks.run_periodic, "low", args=(name,), interval=int(every), name=name,
                      ttl=max(60, int(every)), failure_ttl=tasks.FAILED_JOB_TTL)
    thread = threading.Thread(target=_run_cron, args=(cron, stop), name="homing-cron",
                              daemon=True)
    thread.start()
    return thread


def _run_cron(cron: CronScheduler, stop: threading.Event | None = None) -> None:
    """Enqueue the due periodic jobs until stopped. A failure (Redis away) is logged and
    retried after a back-off: the thread must outlive every outage, or the worker would carry
    on without relaying or pushing. CronScheduler.start installs signal handlers, which only
    the main thread may do, hence the loop by hand."""
    stop = stop or threading.Event()
    failures = 0
    while not stop.is_set():
        try:
            cron.enqueue_jobs()
            pause = max(cron.calculate_sleep_interval(), 1)
            failures = 0
        except Exception as exc:  # noqa: BLE001 - logged, retried; the loop must not end
            failures += 1
            pause = backoff(failures)
            log.warning("cron: could not enqueue periodic jobs (%s: %s); again in %ss",
                        type(exc).__name__, exc, pause)
        stop.wait(min(pause, RELAY_EVERY_SECONDS))
