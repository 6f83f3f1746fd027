from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from hub.audit.models import AuditEvent
from hub.audit.service import SYSTEM, record, verify_chain
from hub.models import utcnow
from hub.outbox import service as outbox
from hub.outbox.models import OutboxMessage
from tests.conftest import count


@pytest.fixture
def delivered(monkeypatch):
    seen: list[dict] = []
    monkeypatch.setitem(outbox.HANDLERS, "test.ok", lambda s, m: seen.append(m.payload))

    def boom(session, message):
        raise RuntimeError("finance is down")

    monkeypatch.setitem(outbox.HANDLERS, "test.fail", boom)
    return seen


def test_same_dedupe_key_is_one_message(session):
    first = outbox.emit(session, "test.ok", {"n": 1}, dedupe_key="refund-1")
    second = outbox.emit(session, "test.ok", {"n": 2}, dedupe_key="refund-1")
    session.commit()
    assert first.id == second.id
    assert count(session, OutboxMessage) == 1


def test_drain_delivers_due_messages_once(session, delivered):
    outbox.emit(session, "test.ok", {"n": 1}, dedupe_key="a")
    outbox.emit(session, "test.ok", {"n": 2}, dedupe_key="b")
    session.commit()
    assert outbox.drain(session) == (2, 0)
    assert outbox.drain(session) == (0, 0)
    assert delivered == [{"n": 1}, {"n": 2}]


def test_failures_back_off_then_go_dead_and_can_be_replayed(session, delivered):
    message = outbox.emit(session, "test.fail", {}, dedupe_key="x")
    message.max_attempts = 2
    session.commit()
    now = utcnow()
    assert outbox.drain(session, now) == (0, 1)
    assert message.status == "failed" and message.next_attempt_at > now
    assert "finance is down" in message.last_error
    assert outbox.drain(session, now) == (0, 0)  # not due yet
    assert outbox.drain(session, now + timedelta(hours=1)) == (0, 1)
    assert message.status == "dead"
    outbox.replay(session, message.id)
    message.topic = "test.ok"
    assert outbox.drain(session, utcnow() + timedelta(seconds=1)) == (1, 0)
    assert message.status == "delivered"


def test_a_failing_handler_leaves_no_partial_writes(session, monkeypatch):
    def half_then_fail(s, message):
        record(s, SYSTEM, "half.written", "thing", 1)
        raise RuntimeError("after a write")

    monkeypatch.setitem(outbox.HANDLERS, "test.half", half_then_fail)
    outbox.emit(session, "test.half", {}, dedupe_key="h")
    session.commit()
    outbox.drain(session)
    session.commit()
    assert count(session, AuditEvent) == 0


def test_audit_chain_detects_tampering(session):
    for n in range(3):
        record(session, SYSTEM, "thing.changed", "thing", n, after={"n": n})
    session.commit()
    assert verify_chain(session) is None
    second = session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()[1]
    session.execute(sa.update(AuditEvent).where(AuditEvent.id == second.id)
                    .values(after={"n": 99}))
    session.commit()
    session.expire_all()
    assert verify_chain(session) == second.id


def test_a_topic_without_a_handler_waits_instead_of_failing(session):
    message = outbox.emit(session, "not.built.yet", {}, dedupe_key="wait")
    session.commit()
    assert outbox.drain(session, utcnow()) == (0, 0)
    assert message.status == "pending" and message.attempts == 0


def test_dead_messages_are_listed_and_replayed_over_the_api(client, api_key, session):
    dead = outbox.emit(session, "finance.push", {"entry_id": 1}, dedupe_key="dead-1")
    dead.status, dead.attempts, dead.last_error = "dead", 8, "HTTP 500: finance down"
    done = outbox.emit(session, "finance.push", {"entry_id": 2}, dedupe_key="ok-1")
    done.status = "delivered"
    session.commit()
    hq = api_key("hq_ops")

    listed = client.get("/api/v1/outbox", headers=hq).get_json()["items"]
    assert [(m["id"], m["last_error"]) for m in listed] == [(dead.id, "HTTP 500: finance down")]
    assert client.get("/api/v1/outbox?status=lost", headers=hq).status_code == 400
    finance = api_key("finance")  # may look, may not replay
    assert client.post(f"/api/v1/outbox/{dead.id}/replay", headers=finance).status_code == 403
    assert client.post(f"/api/v1/outbox/{done.id}/replay", headers=hq).status_code == 409
    replayed = client.post(f"/api/v1/outbox/{dead.id}/replay", headers=hq)
    assert replayed.status_code == 200 and replayed.get_json()["status"] == "pending"
    session.expire_all()
    message = session.get(OutboxMessage, dead.id)
    assert (message.status, message.attempts) == ("pending", 0)
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "outbox.replayed"))
    assert event is not None and event.before["last_error"] == "HTTP 500: finance down"
