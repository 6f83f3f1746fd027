"""The outbox relay and delivery through a real Redis and a real RQ worker."""

from __future__ import annotations

import pytest
from rq import Queue, SimpleWorker

from hub.jobs import tasks
from hub.jobs.queue import QUEUES, queue_health
from hub.outbox import service as outbox
from hub.outbox.models import OutboxMessage


@pytest.fixture
def rq_app(app, session, redis_conn, redis_url, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    monkeypatch.setitem(app.extensions, "homing_redis", redis_conn)
    return app


def _work(redis_conn) -> None:
    queues = [Queue(name, connection=redis_conn) for name in QUEUES]
    SimpleWorker(queues, connection=redis_conn).work(burst=True)


def test_relay_hands_messages_to_rq_and_the_worker_delivers_them(rq_app, session, redis_conn,
                                                                 monkeypatch):
    delivered: list[int] = []
    monkeypatch.setitem(outbox.HANDLERS, "test.ok",
                        lambda s, m: delivered.append(m.payload["n"]))
    for n in range(3):
        outbox.emit(session, "test.ok", {"n": n}, dedupe_key=f"k{n}")
    session.commit()

    assert tasks.relay_outbox() == 3
    assert tasks.relay_outbox() == 0  # already enqueued: not handed over twice
    assert Queue("default", connection=redis_conn).count == 1  # one job carries the batch
    _work(redis_conn)
    assert sorted(delivered) == [0, 1, 2]
    statuses = {m.status for m in session.query(OutboxMessage)}
    assert statuses == {"delivered"}


def test_a_job_for_an_already_delivered_message_does_nothing(rq_app, session, monkeypatch):
    calls: list[int] = []
    monkeypatch.setitem(outbox.HANDLERS, "test.ok", lambda s, m: calls.append(1))
    message = outbox.emit(session, "test.ok", {}, dedupe_key="once")
    session.commit()
    assert tasks.deliver_outbox_message(message.id) == "delivered"
    assert tasks.deliver_outbox_message(message.id) == "skipped"
    assert calls == [1]


def test_messages_written_while_redis_is_down_are_relayed_later(rq_app, session, redis_conn,
                                                                monkeypatch):
    """The state change commits with its outbox row even when Redis is unreachable; the
    periodic relay hands it over once Redis is back."""
    delivered: list[str] = []
    monkeypatch.setitem(outbox.HANDLERS, "test.ok", lambda s, m: delivered.append(m.dedupe_key))
    outbox.emit(session, "test.ok", {}, dedupe_key="during-outage")
    session.commit()

    import redis

    down = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    monkeypatch.setitem(rq_app.extensions, "homing_redis", down)
    assert queue_health(rq_app)["status"] == "down"
    with pytest.raises(redis.ConnectionError):
        tasks.relay_outbox()
    session.rollback()
    assert session.query(OutboxMessage).one().status == "pending"  # nothing lost

    monkeypatch.setitem(rq_app.extensions, "homing_redis", redis_conn)
    assert tasks.relay_outbox() == 1
    _work(redis_conn)
    assert delivered == ["during-outage"]
