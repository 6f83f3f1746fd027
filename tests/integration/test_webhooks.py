"""Outcome webhooks on PostgreSQL: events published by the transitions that cause them,
delivered signed over HTTP to a real receiver, each attempt and answer kept, retried with
back-off, replayable; an endpoint that fails or stalls never holds up the intake."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from hub.audit.service import SYSTEM
from hub.models import utcnow
from hub.outbox import service as outbox
from hub.outbox.models import OutboxMessage
from hub.refunds import actions as refund_actions
from hub.refunds.models import Refund
from hub.validation import InvalidInput
from hub.webhooks import service as webhooks
from hub.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.integration.factories import (
    clerk_may_approve_up_to,
    create_order,
    issue_return,
    seed_stores,
)
from tests.integration.hq_helpers import hq_user, sign_in
from tests.webhook_receiver import Receiver

ACCEPT = {"reception": "received", "decision": "accept", "grade": "A", "disposition": "restock"}


@pytest.fixture
def receiver(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", True)
    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT", 1.0)
    server = Receiver()
    yield server
    server.stop()


def _endpoint(session, receiver, events=("return.issued", "intake.completed",
                                         "refund.succeeded", "refund.failed")):
    endpoint, secret = webhooks.create_endpoint(session, SYSTEM, name="Till", url=receiver.url,
                                                events=events)
    receiver.secret = secret
    session.commit()
    return endpoint


def _deliver_webhooks(session, now=None) -> tuple[int, int]:
    now = now or utcnow()
    delivered = failed = 0
    for message in session.scalars(sa.select(OutboxMessage).where(
            OutboxMessage.topic == webhooks.TOPIC,
            OutboxMessage.status.in_(("pending", "failed")),
            OutboxMessage.next_attempt_at <= now).order_by(OutboxMessage.id)).all():
        if outbox.deliver(session, message, now):
            delivered += 1
        else:
            failed += 1
    session.commit()
    return delivered, failed


def _complete_intake(client, api_key, session):
    seed_stores(session)
    clerk_may_approve_up_to(session)  # not a story about approval tiers
    admin = api_key("admin")
    create_order(client, admin)
    rma = issue_return(client, admin)
    clerk = api_key("clerk", "NYC-1")
    intake = client.post("/api/v1/intakes", json={"voucher": rma["voucher"]["token"]},
                         headers=clerk).get_json()
    [unit] = intake["units"]
    client.post(f"/api/v1/intakes/{intake['id']}/units/{unit['unit_id']}", json=ACCEPT,
                headers=clerk)
    done = client.post(f"/api/v1/intakes/{intake['id']}/complete", headers=clerk)
    assert done.status_code == 200, done.get_json()
    return rma, done.get_json()


def test_events_are_signed_delivered_and_kept(client, api_key, session, receiver):
    endpoint = _endpoint(session, receiver)
    rma, intake = _complete_intake(client, api_key, session)
    assert _deliver_webhooks(session) == (2, 0)
    issued, = receiver.events("return.issued")
    assert issued["data"]["return"] == rma["number"] and issued["data"]["store"] == "NYC-1"
    completed, = receiver.events("intake.completed")
    assert completed["data"]["receipt_number"] == intake["receipt_number"]
    assert completed["data"]["units"][0]["disposition"] == "restock"
    assert receiver.all_verified()
    headers = receiver.received[0]["headers"]
    assert headers["Idempotency-Key"] == issued["id"] and headers["X-Homing-Event"]
    rows = session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    assert [(r.event_type, r.outcome, r.status_code) for r in rows] == [
        ("return.issued", "delivered", 200), ("intake.completed", "delivered", 200)]
    assert all(r.endpoint_id == endpoint.id for r in rows)

    # Amazon accepts the refund: refund.succeeded follows the refund's own transition.
    refund = session.scalar(sa.select(Refund))
    for target in ("queued", "submitting", "submitted", "succeeded"):
        refund_actions.move(refund, target)
    session.commit()
    _deliver_webhooks(session)
    paid, = receiver.events("refund.succeeded")
    assert paid["data"] == {"refund_id": refund.id, "return": rma["number"],
                            "order_id": "114-1234567-1234567", "channel": "amazon-mfn",
                            "amount": "108.86", "currency": "USD", "status": "succeeded"}


def test_a_failing_endpoint_never_blocks_the_intake_and_is_retried(client, api_key, session,
                                                                   receiver):
    _endpoint(session, receiver, events=("intake.completed",))
    receiver.answers = [500, 1.5]  # first an error, then a stall past the 1 s timeout
    _rma, intake = _complete_intake(client, api_key, session)
    assert intake["status"] == "completed"  # the endpoint was not even called yet
    assert _deliver_webhooks(session) == (0, 1)
    message = session.scalar(sa.select(OutboxMessage).where(
        OutboxMessage.topic == webhooks.TOPIC))
    assert message.status == "failed" and message.next_attempt_at > utcnow()
    assert _deliver_webhooks(session) == (0, 0)  # not due before its back-off
    later = utcnow() + timedelta(minutes=2)
    assert _deliver_webhooks(session, later) == (0, 1)  # timed out: don't know, sent again
    assert _deliver_webhooks(session, later + timedelta(minutes=10)) == (1, 0)
    outcomes = session.execute(sa.select(WebhookDelivery.attempt, WebhookDelivery.outcome,
                                         WebhookDelivery.status_code)
                               .order_by(WebhookDelivery.id)).all()
    assert outcomes == [(1, "failed", 500), (2, "unreachable", None), (3, "delivered", 200)]
    ids = {e["id"] for e in receiver.events(answered_ok=False)}
    assert len(ids) == 1  # every retry is the same event: the receiver drops repeats


def test_replay_sends_the_same_event_again(client, api_key, session, receiver):
    _endpoint(session, receiver, events=("return.issued",))
    seed_stores(session)
    admin = api_key("admin")
    create_order(client, admin)
    issue_return(client, admin)
    _deliver_webhooks(session)
    delivery = session.scalar(sa.select(WebhookDelivery))
    webhooks.replay(session, SYSTEM, delivery)
    webhooks.replay(session, SYSTEM, delivery)
    session.commit()
    assert _deliver_webhooks(session) == (2, 0)
    assert len({e["id"] for e in receiver.events()}) == 1 and len(receiver.events()) == 3


def test_private_addresses_are_refused_in_production(session, app):
    assert app.config["WEBHOOK_ALLOW_PRIVATE"] is False
    for url in ("http://example.com/hook", "https://127.0.0.1/hook", "https://10.0.0.8/x",
                "https://169.254.169.254/latest/meta-data", "https://[::1]/x",
                "https://user:pw@example.com/x", "ftp://example.com", "", "x" * 600):
        with pytest.raises(InvalidInput) as caught:
            webhooks.create_endpoint(session, SYSTEM, name="Bad", url=url,
                                     events=["return.issued"])
        assert caught.value.errors[0]["field"] == "url", url
    with pytest.raises(InvalidInput) as caught:
        webhooks.create_endpoint(session, SYSTEM, name="", url="https://127.0.0.1/",
                                 events=["nonsense"])
    assert {e["field"] for e in caught.value.errors} == {"name", "events", "url"}
    assert session.scalar(sa.select(sa.func.count()).select_from(WebhookEndpoint)) == 0


def test_an_endpoint_that_became_private_is_not_called(client, api_key, session, receiver,
                                                       app, monkeypatch):
    _endpoint(session, receiver, events=("return.issued",))
    seed_stores(session)
    admin = api_key("admin")
    create_order(client, admin)
    issue_return(client, admin)
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", False)
    assert _deliver_webhooks(session) == (0, 1)
    assert receiver.received == []
    row = session.scalar(sa.select(WebhookDelivery))
    assert row.outcome == "refused" and "scheme_refused" in row.answer


def test_hq_adds_an_endpoint_shows_the_secret_once_and_lists_deliveries(
        client, api_key, session, receiver):
    hq_user(session, "admin")
    sign_in(client, "admin@hq.example")
    page = client.post("/hq/admin/webhooks", data={
        "name": "ERP", "url": receiver.url, "events": ["return.issued"]})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    endpoint = session.scalar(sa.select(WebhookEndpoint))
    secret = html.split("data-secret>")[1].split("<")[0]
    assert secret.startswith("whsec_") and secret not in endpoint.secret_encrypted
    receiver.secret = secret
    assert secret not in client.get("/hq/admin/webhooks").get_data(as_text=True)
    refused = client.post("/hq/admin/webhooks", data={"name": "Bad", "url": "ftp://x",
                                                      "events": ["return.issued"]},
                          follow_redirects=True)
    assert "https://" in refused.get_data(as_text=True)
    seed_stores(session)
    admin = api_key("admin")
    create_order(client, admin)
    issue_return(client, admin)
    _deliver_webhooks(session)
    assert receiver.all_verified() and len(receiver.events()) == 1
    detail = client.get(f"/hq/admin/webhooks/{endpoint.id}").get_data(as_text=True)
    assert "return.issued" in detail and "HTTP 200" in detail
    delivery = session.scalar(sa.select(WebhookDelivery))
    replayed = client.post(f"/hq/admin/webhooks/{endpoint.id}/deliveries/{delivery.id}/replay")
    assert replayed.status_code == 302
    assert _deliver_webhooks(session) == (1, 0)


def test_only_admins_manage_webhooks(client, session):
    hq_user(session, "hq_ops", email="ops@hq.example")
    sign_in(client, "ops@hq.example")
    assert client.get("/hq/admin/webhooks").status_code == 403
    assert client.post("/hq/admin/webhooks", data={"name": "x", "url": "https://example.com",
                                                   "events": ["return.issued"]}
                       ).status_code == 403


def test_the_openapi_document_describes_every_event(client):
    from hub.webhooks.events import EVENT_NAMES

    document = client.get("/api/openapi.json").get_json()
    assert set(document["webhooks"]) == set(EVENT_NAMES)
    for name, item in document["webhooks"].items():
        schema = item["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert schema["properties"]["type"]["const"] == name
        assert schema["properties"]["data"]["properties"], name
