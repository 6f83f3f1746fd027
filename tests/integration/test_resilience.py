"""Nothing waits forever (issue 21, item 2): the outbox relay's safety net, the push lock's
lease, workers and their scheduler through a Redis outage, owners and deadlines (HQ's
"Overdue" queue and the alert e-mail), and the in-process runner's first runs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from rq import Queue, SimpleWorker
from rq.registry import FailedJobRegistry

from hub.jobs import tasks
from hub.jobs.queue import QUEUES
from hub.models import utcnow
from hub.outbox import service as outbox
from hub.outbox.models import OutboxMessage

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def rq_app(app, session, redis_conn, redis_url, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    monkeypatch.setitem(app.extensions, "homing_redis", redis_conn)
    return app


def _work(redis_conn) -> None:
    queues = [Queue(name, connection=redis_conn) for name in QUEUES]
    SimpleWorker(queues, connection=redis_conn).work(burst=True)


def _messages(session) -> dict[int, OutboxMessage]:
    session.expire_all()
    return {m.id: m for m in session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id))}


# --- 1. the outbox relay's safety net ----------------------------------------------------------

def test_a_batch_whose_job_failed_in_rq_is_delivered_after_all(rq_app, session, redis_conn,
                                                               monkeypatch):
    """The job of a batch fails in RQ (the database went away under it). Before: the messages
    stayed `enqueued`; ten minutes later the batch was formed again under the same job id, RQ
    refused the duplicate and the batch was marked `enqueued` again, for ever."""
    delivered: list[int] = []
    monkeypatch.setitem(outbox.HANDLERS, "test.ok",
                        lambda s, m: delivered.append(m.payload["n"]))
    ids = [outbox.emit(session, "test.ok", {"n": n}, dedupe_key=f"k{n}").id for n in range(3)]
    session.commit()
    assert tasks.relay_outbox() == 3

    real = tasks.deliver_outbox_message

    def database_gone(message_id):
        raise sa.exc.OperationalError("SELECT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(tasks, "deliver_outbox_message", database_gone)
    _work(redis_conn)
    assert FailedJobRegistry("default", connection=redis_conn).count == 1
    monkeypatch.setattr(tasks, "deliver_outbox_message", real)
    assert {m.status for m in _messages(session).values()} == {"enqueued"}

    # Past the old code's ten minutes, too: whichever net catches them, they must come back.
    session.execute(sa.update(OutboxMessage).values(enqueued_at=utcnow() - timedelta(minutes=11)))
    session.commit()
    tasks.relay_outbox()
    first = _messages(session)[ids[0]]
    # The message the job was on when it failed counts an attempt and waits its back-off;
    # the two it never reached are handed over again at once.
    assert first.status == "failed" and first.attempts == 1
    assert "failed" in first.last_error and "OperationalError" in first.last_error
    _work(redis_conn)
    assert sorted(delivered) == [1, 2]

    session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == ids[0])
                    .values(next_attempt_at=utcnow()))
    session.commit()
    tasks.relay_outbox()
    _work(redis_conn)
    assert sorted(delivered) == [0, 1, 2]
    assert {m.status for m in _messages(session).values()} == {"delivered"}
    assert FailedJobRegistry("default", connection=redis_conn).count == 0  # taken back


def test_a_batch_whose_worker_died_mid_delivery_comes_back_at_the_next_relay(
        rq_app, session, redis_conn, monkeypatch):
    """The worker and its work-horse were SIGKILLed while delivering: the job stays in RQ's
    started registry, heart-beating no more. Before: its messages waited for the ten-minute
    sweep (the fault campaign saw a journal entry missing for over six minutes)."""
    from rq.registry import StartedJobRegistry

    delivered: list[int] = []
    monkeypatch.setitem(outbox.HANDLERS, "test.ok",
                        lambda s, m: delivered.append(m.payload["n"]))
    ids = [outbox.emit(session, "test.ok", {"n": n}, dedupe_key=f"died{n}").id
           for n in range(2)]
    session.commit()
    tasks.relay_outbox()
    [job_id] = Queue(tasks.QUEUE, connection=redis_conn).get_job_ids()
    # What a dead worker leaves: the job taken off the queue, started, its heartbeat expired.
    Queue(tasks.QUEUE, connection=redis_conn).remove(job_id)
    registry = StartedJobRegistry(tasks.QUEUE, connection=redis_conn)
    redis_conn.zadd(registry.key, {f"{job_id}:dead-execution": time.time() - 5})
    assert {m.status for m in _messages(session).values()} == {"enqueued"}

    tasks.relay_outbox()  # takes them back: the one it was on waits its back-off
    _work(redis_conn)
    assert delivered == [1] and _messages(session)[ids[0]].status == "failed"
    session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == ids[0])
                    .values(next_attempt_at=utcnow()))
    session.commit()
    tasks.relay_outbox()
    _work(redis_conn)
    assert sorted(delivered) == [0, 1]
    assert {_messages(session)[i].status for i in ids} == {"delivered"}


def test_messages_are_marked_enqueued_only_when_rq_took_their_job(rq_app, session,
                                                                  monkeypatch):
    monkeypatch.setitem(outbox.HANDLERS, "test.ok", lambda s, m: None)
    outbox.emit(session, "test.ok", {}, dedupe_key="refused")
    session.commit()
    monkeypatch.setattr("hub.jobs.queue.enqueue", lambda *a, **k: None)  # RQ: duplicate id
    tasks.relay_outbox()
    assert [m.status for m in _messages(session).values()] == ["pending"]


def test_each_hand_over_has_a_job_id_of_its_own(rq_app, session, redis_conn, monkeypatch):
    monkeypatch.setitem(outbox.HANDLERS, "test.ok", lambda s, m: None)
    outbox.emit(session, "test.ok", {}, dedupe_key="twice")
    session.commit()
    tasks.relay_outbox()
    first = Queue("default", connection=redis_conn).get_job_ids()
    # Redis lost the job (restarted without persistence): the sweep hands the message over
    # again, under a new id.
    redis_conn.flushdb()
    session.execute(sa.update(OutboxMessage).values(enqueued_at=utcnow() - timedelta(minutes=11)))
    session.commit()
    tasks.relay_outbox()
    message = next(iter(_messages(session).values()))
    # It may have been on its way when the job was lost: an attempt, then the back-off.
    assert message.status == "failed" and "no job carries it" in message.last_error
    session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow()))
    session.commit()
    tasks.relay_outbox()
    second = Queue("default", connection=redis_conn).get_job_ids()
    assert len(first) == len(second) == 1 and first != second
    assert next(iter(_messages(session).values())).status == "enqueued"


def test_a_stale_message_a_live_job_still_carries_is_left_to_it(rq_app, session, redis_conn,
                                                                monkeypatch):
    monkeypatch.setitem(outbox.HANDLERS, "test.ok", lambda s, m: None)
    outbox.emit(session, "test.ok", {}, dedupe_key="backlog")
    session.commit()
    tasks.relay_outbox()
    session.execute(sa.update(OutboxMessage).values(enqueued_at=utcnow() - timedelta(minutes=11)))
    session.commit()
    tasks.relay_outbox()
    assert Queue("default", connection=redis_conn).count == 1  # no second job for it


def test_hq_replays_a_stale_enqueued_message(rq_app, session):
    from hub.audit.service import Actor
    from hub.hq import queues
    from hub.hq.access import Scope

    message = outbox.emit(session, "test.ok", {}, dedupe_key="stuck")
    message.status, message.enqueued_at = "enqueued", utcnow() - timedelta(minutes=30)
    fresh = outbox.emit(session, "test.ok", {}, dedupe_key="in-line")
    fresh.status, fresh.enqueued_at = "enqueued", utcnow()
    session.commit()
    scope, actor = Scope(1, "admin", None, "Ada"), Actor("user", 1, "Ada")
    queues.replay_message(session, scope, actor, message.id)
    assert message.status == "pending"
    with pytest.raises(queues.QueueError):  # a job has it right now: not replayed
        queues.replay_message(session, scope, actor, fresh.id)


# --- 2. the push lock is a lease -------------------------------------------------------------

def test_a_push_killed_while_holding_the_lock_blocks_for_one_lease(redis_url, redis_conn,
                                                                   tmp_path):
    from hub.amazon.jobs import PUSH_LEASE_SECONDS, PUSH_LOCK, PushLease

    assert PUSH_LEASE_SECONDS <= 60
    lease, ready = 2.0, tmp_path / "ready"
    holder = subprocess.Popen([sys.executable, "-m", "tests.integration.hold_push_lock",
                               redis_url, str(lease), str(ready)], cwd=ROOT)
    try:
        _wait(lambda: ready.exists(), 30, "the push never took the lock")
        assert 0 < redis_conn.pttl(PUSH_LOCK) <= lease * 1000
        time.sleep(lease * 2)  # renewed while the push works
        assert redis_conn.exists(PUSH_LOCK)
        assert not PushLease(redis_conn, lease).acquire()
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        killed_at = time.monotonic()
        _wait(lambda: not redis_conn.exists(PUSH_LOCK), lease + 2, "the dead holder's lock stayed")
        assert time.monotonic() - killed_at <= lease + 1
        taken = PushLease(redis_conn, lease)
        assert taken.acquire()  # the next push runs
        taken.release()
        assert not redis_conn.exists(PUSH_LOCK)  # released on exit
    finally:
        if holder.poll() is None:
            holder.kill()


# --- 3. workers and their scheduler outlive Redis ----------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OwnRedis:
    """A redis-server of the test's own (never the shared one), stopped and started on the
    same port at will; no persistence, so a restart loses everything, as a fresh one would."""

    def __init__(self):
        self.port, self.proc = _free_port(), None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/10"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)

        def answers():
            try:
                return client.ping()
            except redis.RedisError:
                return False

        _wait(answers, 10, "redis-server did not start")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)


@pytest.fixture
def own_redis():
    if not Path("/usr/bin/redis-server").exists() and not _which("redis-server"):
        pytest.skip("redis-server is not installed")
    server = OwnRedis()
    server.start()
    yield server
    if server.proc.poll() is None:
        server.kill()


def _which(name: str) -> str | None:
    import shutil

    return shutil.which(name)


def _wait(condition, seconds: float, failure: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(failure)


@pytest.fixture
def worker_db(scratch_database):
    """The scratch database, migrated, and an app on it (committed data, seen by the worker
    process)."""
    from flask_migrate import upgrade

    from hub import create_app
    from hub.extensions import db

    url = scratch_database.replace("postgresql+psycopg://", "postgresql://")
    # Rate limits stay on: the limiter is one object shared by every app of the test run.
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test-secret", "MOUNT_SANDBOX": False,
                      "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context():
        upgrade(directory=str(app.extensions["migrate"].directory))
        db.session.commit()
    yield url, app
    with app.app_context():
        db.engine.dispose()


def _start_worker(database_url: str, redis_url: str, marker: Path, log: Path):
    env = {**os.environ, "HOMING_DATABASE_URL": database_url, "HOMING_REDIS_URL": redis_url,
           "HOMING_SECRET_KEY": "test-secret", "HOMING_MOUNT_SANDBOX": "false",
           "HOMING_AMAZON_MODE": "sandbox", "HOMING_RATELIMIT_ENABLED": "false"}
    env.pop("HOMING_AMAZON_ENDPOINT", None)
    return subprocess.Popen([sys.executable, "-m", "tests.integration.resilient_worker",
                             str(marker)], cwd=ROOT, env=env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT)


def _emit(app, topic: str, key: str) -> int:
    from hub.extensions import db

    with app.app_context():
        message = outbox.emit(db.session, topic, {"rma": "NO-SUCH-RETURN"}, dedupe_key=key)
        db.session.commit()
        return message.id


def _status(app, message_id: int) -> str:
    from hub.extensions import db

    with app.app_context():
        status = db.session.scalar(sa.select(OutboxMessage.status)
                                   .where(OutboxMessage.id == message_id))
        db.session.rollback()
        return status


def _log_tail(log: Path) -> str:
    return log.read_text()[-3000:] if log.exists() else ""


def test_a_worker_keeps_working_through_a_redis_outage(own_redis, worker_db, tmp_path):
    """A worker idles (longer than the 5 s socket timeout that used to end it), Redis dies
    for ten seconds and comes back empty; a message committed afterwards is delivered by the
    same worker process, its scheduler still relaying."""
    database_url, app = worker_db
    log = tmp_path / "worker.log"
    worker = _start_worker(database_url, own_redis.url, tmp_path / "marker", log)
    try:
        before = _emit(app, "shopper.notify", "before-outage")
        _wait(lambda: _status(app, before) == "delivered", 60,
              "not delivered before the outage:\n" + _log_tail(log))
        time.sleep(8)  # idle, past the old 5 s socket timeout
        assert worker.poll() is None, "the idle worker exited:\n" + _log_tail(log)

        own_redis.kill()
        time.sleep(10)
        assert worker.poll() is None, "the worker exited when Redis went away:\n" + _log_tail(log)
        own_redis.start()

        after = _emit(app, "shopper.notify", "after-outage")
        _wait(lambda: _status(app, after) == "delivered", 90,
              "not delivered after Redis came back:\n" + _log_tail(log))
        assert worker.poll() is None
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
    assert worker.returncode == 0, _log_tail(log)  # SIGTERM still stops it cleanly


def test_a_message_whose_work_horse_was_killed_comes_back(own_redis, worker_db, tmp_path):
    database_url, app = worker_db
    log, marker = tmp_path / "worker.log", tmp_path / "marker"
    worker = _start_worker(database_url, own_redis.url, marker, log)
    try:
        killer = _emit(app, "test.kill_horse_once", "kills-its-horse")
        _wait(marker.exists, 60, "the handler never ran:\n" + _log_tail(log))
        # Taken back from the failed job (one attempt), retried after the 10 s back-off.
        _wait(lambda: _status(app, killer) == "delivered", 60,
              "the message of the killed work-horse never came back:\n" + _log_tail(log))
    finally:
        worker.kill()
        worker.wait(10)
    from hub.extensions import db

    with app.app_context():
        message = db.session.get(OutboxMessage, killer)
        assert message.attempts == 2 and message.last_error == ""


def test_the_scheduler_loop_outlives_redis_errors():
    from hub.jobs.worker import _run_cron

    class FlakyCron:
        calls = 0

        def enqueue_jobs(self):
            self.calls += 1
            if self.calls <= 2:
                raise redis.ConnectionError("Connection refused")

        def calculate_sleep_interval(self):
            return 0

    cron, stop = FlakyCron(), threading.Event()
    thread = threading.Thread(target=_run_cron, args=(cron, stop), daemon=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("hub.jobs.worker.BACKOFF_SECONDS", (0.05,))
        thread.start()
        _wait(lambda: cron.calls >= 4, 10, "the scheduler loop stopped at a Redis error")
    stop.set()
    thread.join(5)
    assert not thread.is_alive()


# --- 5. owners, deadlines, HQ's overdue queue and the alert e-mail ---------------------------

def _overdue_world(session):
    """A message stuck in `enqueued`, a refund queued for hours, a feed stuck in `creating`."""
    from hub.amazon.models import FeedSubmission

    stuck = outbox.emit(session, "test.ok", {}, dedupe_key="stuck-enqueued")
    stuck.status, stuck.enqueued_at, stuck.attempts = "enqueued", utcnow() - timedelta(hours=1), 3
    stuck.last_error = "RQ job outbox-1-abc failed: OperationalError: shopper@example.com"
    submission = FeedSubmission(seller_id="A1SELLER", marketplace_id="ATVPDKIKX0DER",
                                feed_type="POST_PAYMENT_ADJUSTMENT_DATA", status="creating",
                                created_at=utcnow() - timedelta(hours=2),
                                last_polled_at=utcnow() - timedelta(hours=1),
                                waiting_reason="unsure_answer")
    session.add(submission)
    session.commit()
    return stuck, submission


def test_overdue_lists_what_is_past_its_deadline_with_its_history(session):
    from hub.jobs.deadlines import overdue

    stuck, submission = _overdue_world(session)
    fresh = outbox.emit(session, "test.ok", {}, dedupe_key="fresh")
    fresh.status, fresh.enqueued_at = "enqueued", utcnow()
    session.commit()
    items = {(o.kind, o.ref): o for o in overdue(session, utcnow())}
    assert ("outbox", str(fresh.id)) not in items
    message = items[("outbox", str(stuck.id))]
    assert message.state == "enqueued" and message.attempts == 3
    assert "OperationalError" in message.last_error
    feed = items[("feed_submission", str(submission.id))]
    assert feed.state == "creating" and feed.owner == "amazon-push-refunds"
    assert feed.waiting_reason == "unsure_answer"


def test_hq_shows_the_overdue_queue(client, session):
    from tests.integration.hq_helpers import hq_user, sign_in

    stuck, submission = _overdue_world(session)
    hq_user(session, "hq_ops", "ops@example.com")
    sign_in(client, "ops@example.com")
    page = client.get("/hq/queues")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="overdue"' in html and "Overdue: 2" in html
    assert "creating" in html and "amazon-push-refunds" in html
    assert "createFeed was lost or unclear" in html  # why it waits, explained
    csv = client.get("/hq/queues/overdue.csv").get_data(as_text=True)
    assert f"outbox,{stuck.id},enqueued" in csv
    assert f"feed_submission,{submission.id},creating" in csv


def test_the_alert_email_goes_out_once_per_item_and_state(app, session, tmp_path,
                                                          monkeypatch):
    from hub.notify import alerts

    monkeypatch.setitem(app.config, "MAIL_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "MAIL_SMTP_HOST", None)
    stuck, submission = _overdue_world(session)
    assert alerts.send_alerts(session, "ops@example.com", utcnow()) == 2
    session.commit()
    [mail] = tmp_path.glob("*.eml")
    text = mail.read_text()
    assert f"outbox {stuck.id}" in text and f"feed_submission {submission.id}" in text
    assert "OperationalError" in text and "shopper@example.com" not in text  # no PII
    assert alerts.send_alerts(session, "ops@example.com", utcnow()) == 0  # once
    session.commit()

    stuck.status = "failed"  # a new state past its deadline: alerted again
    stuck.next_attempt_at = utcnow() - timedelta(hours=1)
    session.commit()
    assert alerts.send_alerts(session, "ops@example.com", utcnow()) == 1


def test_without_an_alert_address_nothing_is_sent(app, session, tmp_path, monkeypatch):
    from hub.notify import alerts

    monkeypatch.setitem(app.config, "MAIL_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "ALERT_EMAIL", None)
    monkeypatch.setitem(app.config, "HQ_ALERT_EMAIL", None)
    _overdue_world(session)
    alerts.overdue_alerts(app)
    assert not list(tmp_path.glob("*.eml"))


# --- the demo's in-process runner --------------------------------------------------------------

def test_the_in_process_runner_runs_every_job_once_at_start(app, session, monkeypatch):
    """On a host up for less than a job's period, time.monotonic() is smaller than the period:
    timed from 0, the job would not run until the host had been up that long."""
    from hub.jobs import runner

    ran: list[str] = []
    monkeypatch.setattr(runner, "PERIODIC", [("test-half-hourly", 1800,
                                              lambda a: ran.append("ran"))])
    monkeypatch.setattr(runner, "load_periodic_jobs", lambda: None)
    monkeypatch.setattr(runner.time, "monotonic", lambda: 120.0)  # up for two minutes
    in_process = runner.InProcessRunner(app)
    in_process.run_once()
    in_process.run_once()
    assert ran == ["ran"]  # once at start, then every 1800 s
