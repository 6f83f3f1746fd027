"""Outcome webhooks: HQ's endpoints, the events features publish, and their delivery.

``publish`` is called by the transition that causes an event, in its transaction: it writes
one outbox message per subscribed endpoint, so nothing leaves before the commit and one slow
or broken endpoint never holds up another, nor the intake that caused the event. The
``webhook.deliver`` handler POSTs the signed envelope; every attempt and the endpoint's answer
is kept (``WebhookDelivery``); a failure is retried by the outbox with its back-off, and any
event can be sent again from HQ (same event id, so the receiver drops what it already has).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from datetime import datetime

import httpx
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from hub.audit.service import Actor, record
from hub.models import iso, utcnow
from hub.outbox import service as outbox
from hub.outbox.models import OutboxMessage
from hub.validation import InvalidInput
from hub.webhooks import safety, sealing
from hub.webhooks.events import EVENT_NAMES
from hub.webhooks.models import WebhookDelivery, WebhookEndpoint
from hub.webhooks.signing import HEADER, signature

TOPIC = "webhook.deliver"
MAX_NAME = 120


def _allow_private() -> bool:
    return bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE"))


def _app_secret() -> str:
    return current_app.config["SECRET_KEY"]


# --- administration ---------------------------------------------------------------------------

def create_endpoint(session: Session, actor: Actor, *, name: str, url: str,
                    events: Iterable[str]) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret (the plaintext is returned once, never kept)."""
    problems = []
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        problems.append({"field": "name", "code": "invalid_name",
                         "message": f"a name of 1 to {MAX_NAME} characters"})
    chosen = sorted(set(events))
    unknown = [e for e in chosen if e not in EVENT_NAMES]
    if unknown or not chosen:
        problems.append({"field": "events", "code": "invalid_events",
                         "message": "choose at least one of: " + ", ".join(EVENT_NAMES)})
    try:
        url = safety.check_url(url, allow_private=_allow_private())
    except safety.UnsafeDestination as exc:
        problems.append({"field": "url", "code": exc.code, "message": str(exc)})
    if problems:
        raise InvalidInput(problems)
    secret = sealing.new_secret()
    endpoint = WebhookEndpoint(name=name, url=url, events=chosen, active=True,
                               secret_encrypted=sealing.seal(_app_secret(), secret))
    session.add(endpoint)
    session.flush()
    record(session, actor, "webhook.created", "webhook_endpoint", endpoint.id,
           after={"name": name, "url": url, "events": chosen})
    return endpoint, secret


def rotate_secret(session: Session, actor: Actor, endpoint: WebhookEndpoint) -> str:
    secret = sealing.new_secret()
    endpoint.secret_encrypted = sealing.seal(_app_secret(), secret)
    record(session, actor, "webhook.secret_rotated", "webhook_endpoint", endpoint.id)
    return secret


def set_active(session: Session, actor: Actor, endpoint: WebhookEndpoint, active: bool) -> None:
    if endpoint.active != active:
        endpoint.active = active
        record(session, actor, "webhook.activated" if active else "webhook.deactivated",
               "webhook_endpoint", endpoint.id)


# --- publishing ---------------------------------------------------------------------------

def event_id(key: str) -> str:
    """A stable id per event: the same cause publishes the same event once."""
    return "evt_" + hashlib.sha256(key.encode()).hexdigest()[:28]


def publish(session: Session, event_type: str, data: dict, *, key: str,
            store_id: int | None = None, now: datetime | None = None) -> int:
    """Queue ``event_type`` for every active endpoint that subscribed to it, in the caller's
    transaction. ``key`` names the cause (e.g. ``refund:12:succeeded``); publishing it twice
    is one event. Returns how many deliveries were queued."""
    if event_type not in EVENT_NAMES:
        raise ValueError(f"unknown webhook event {event_type!r}")
    endpoints = [e for e in session.scalars(sa.select(WebhookEndpoint)
                                            .where(WebhookEndpoint.active.is_(True)))
                 if event_type in (e.events or [])]
    if not endpoints:
        return 0
    envelope = {"id": event_id(key), "type": event_type, "created_at": iso(now or utcnow()),
                "data": data}
    for endpoint in endpoints:
        outbox.emit(session, TOPIC, {"endpoint_id": endpoint.id, "event": envelope},
                    dedupe_key=f"webhook:{endpoint.id}:{envelope['id']}", store_id=store_id)
    return len(endpoints)


def replay(session: Session, actor: Actor, delivery: WebhookDelivery) -> OutboxMessage:
    """Send a delivered (or given-up) event to its endpoint again, as a new message."""
    original = session.get(OutboxMessage, delivery.message_id)
    if original is None:
        raise LookupError("the event of this delivery is no longer kept")
    replays = session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
        OutboxMessage.dedupe_key.like(f"{original.dedupe_key}:replay:%")))
    message = outbox.emit(session, TOPIC, dict(original.payload),
                          dedupe_key=f"{original.dedupe_key}:replay:{replays + 1}")
    record(session, actor, "webhook.replayed", "webhook_endpoint", delivery.endpoint_id,
           after={"event": delivery.event_id, "message": message.id})
    return message


# --- delivering ---------------------------------------------------------------------------

def _attempt(message: OutboxMessage, endpoint: WebhookEndpoint, outcome: str, *,
             status: int | None = None, answer: str = "", started: float) -> WebhookDelivery:
    event = message.payload["event"]
    return WebhookDelivery(endpoint_id=endpoint.id, message_id=message.id,
                           event_id=event["id"], event_type=event["type"],
                           attempt=message.attempts, outcome=outcome, status_code=status,
                           answer=answer[:300],
                           duration_ms=int((time.monotonic() - started) * 1000))


@outbox.handler(TOPIC)
def deliver(session: Session, message: OutboxMessage) -> None:
    """POST one event to one endpoint. 2xx: delivered. Anything else, or no answer (a refused
    connection, a timeout: don't-know, so it is sent again), raises Undelivered, which keeps
    the attempt and lets the outbox retry with back-off."""
    endpoint = session.get(WebhookEndpoint, message.payload["endpoint_id"])
    if endpoint is None or not endpoint.active:
        return  # deactivated since: nobody to tell
    started = time.monotonic()
    body = json.dumps(message.payload["event"], separators=(",", ":"), sort_keys=True).encode()

    def fail(outcome: str, reason: str, status: int | None = None, answer: str = ""):
        row = _attempt(message, endpoint, outcome, status=status, answer=answer or reason,
                       started=started)
        return outbox.Undelivered(reason, keep=lambda s: s.add(row))

    try:
        url = safety.check_url(endpoint.url, allow_private=_allow_private())
    except safety.UnsafeDestination as exc:
        raise fail("refused", f"{exc.code}: {exc}") from exc
    timestamp = int(time.time())
    secret = sealing.unseal(_app_secret(), endpoint.secret_encrypted)
    event = message.payload["event"]
    try:
        response = httpx.post(url, content=body, follow_redirects=False,
                              timeout=float(current_app.config.get("WEBHOOK_TIMEOUT", 5.0)),
                              headers={"Content-Type": "application/json",
                                       "User-Agent": "Homing-Webhooks/1",
                                       "Idempotency-Key": event["id"],
                                       "X-Homing-Event": event["type"],
                                       HEADER: signature(secret, timestamp, body)})
    except httpx.HTTPError as exc:
        raise fail("unreachable", f"{type(exc).__name__}: {exc}") from exc
    answer = response.text[:300]
    if not 200 <= response.status_code < 300:
        raise fail("failed", f"HTTP {response.status_code}", response.status_code, answer)
    session.add(_attempt(message, endpoint, "delivered", status=response.status_code,
                         answer=answer, started=started))


# --- reading ---------------------------------------------------------------------------

def endpoints(session: Session) -> list[WebhookEndpoint]:
    return list(session.scalars(sa.select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def deliveries(session: Session, endpoint: WebhookEndpoint, limit: int = 100
               ) -> list[WebhookDelivery]:
    return list(session.scalars(sa.select(WebhookDelivery)
                                .where(WebhookDelivery.endpoint_id == endpoint.id)
                                .order_by(WebhookDelivery.id.desc()).limit(limit)))


def waiting(session: Session, endpoint: WebhookEndpoint) -> list[OutboxMessage]:
    """The endpoint's events not delivered yet (waiting for a retry, or given up)."""
    return [m for m in session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.topic == TOPIC,
                                       OutboxMessage.status != "delivered")
        .order_by(OutboxMessage.id.desc()).limit(500))
        if m.payload.get("endpoint_id") == endpoint.id]
