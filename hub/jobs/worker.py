"""``homing worker``: an RQ worker with its scheduler, plus the periodic jobs as RQ cron jobs."""

from __future__ import annotations

import threading

from flask import Flask
from rq import Queue, Worker
from rq.cron import CronScheduler

from hub.extensions import db
from hub.jobs import tasks
from hub.jobs.queue import QUEUES, redis_connection
from hub.jobs.runner import PERIODIC, load_periodic_jobs

RELAY_EVERY_SECONDS = 5


def run_worker(app: Flask, *, burst: bool = False, with_cron: bool = True) -> None:
    conn = redis_connection(app)
    if conn is None:
        raise SystemExit("homing worker needs HOMING_REDIS_URL (the demo runs jobs in-process)")
    with app.app_context():
        db.engine.dispose()  # no pooled connections shared with forked work-horses
        if with_cron and not burst:
            _start_cron(conn)
        worker = Worker([Queue(name, connection=conn) for name in QUEUES], connection=conn)
        worker.work(with_scheduler=True, burst=burst)


def _start_cron(conn) -> None:
    cron = CronScheduler(connection=conn, name="homing-cron")
    cron.register(tasks.relay_outbox, "high", interval=RELAY_EVERY_SECONDS)
    load_periodic_jobs()
    for name, every, _func in PERIODIC:
        cron.register(tasks.run_periodic, "low", args=(name,), interval=int(every), name=name)
    thread = threading.Thread(target=_run_cron, args=(cron,), name="homing-cron", daemon=True)
    thread.start()


def _run_cron(cron: CronScheduler) -> None:
    # CronScheduler.start installs signal handlers, which only the main thread may do; run the
    # loop by hand instead.
    import time

    while True:
        cron.enqueue_jobs()
        time.sleep(max(cron.calculate_sleep_interval(), 1))
