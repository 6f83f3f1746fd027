"""Idempotency-Key handling for mutating requests: the first request with a key runs and its
answer is stored in the same transaction as its effects; a retry with the same key and body
gets that answer again without a second effect; the same key with another body is an error."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.outbox.models import IdempotencyRecord
from hub.web.errors import Problem

MAX_KEY_LENGTH = 80


def fingerprint(*parts: object) -> str:
    blob = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def run_once(session: Session, scope: str, key: str | None, request_hash: str,
             run: Callable[[], tuple[dict, int]]) -> tuple[dict, int]:
    """Run ``run`` at most once per (scope, key). The answer is kept in the request's unit of
    work, so it is committed with the effects or not at all."""
    if not key:
        return run()
    if len(key) > MAX_KEY_LENGTH:
        raise Problem(400, "invalid_idempotency_key", "Invalid Idempotency-Key",
                      f"An Idempotency-Key has at most {MAX_KEY_LENGTH} characters.")
    stored = _stored(session, scope, key, request_hash)
    if stored is not None:
        return stored
    body, status = run()
    session.add(IdempotencyRecord(scope=scope, key=key, request_hash=request_hash,
                                  status_code=status, body=body))
    try:
        # A concurrent request with the same key holds its row until it commits; this insert
        # waits for it, then fails, and we answer what that one answered.
        session.flush()
    except IntegrityError:
        session.rollback()
        stored = _stored(session, scope, key, request_hash)
        if stored is None:
            raise
        return stored
    return body, status


def _stored(session: Session, scope: str, key: str, request_hash: str
            ) -> tuple[dict, int] | None:
    record = session.scalar(sa.select(IdempotencyRecord).where(
        IdempotencyRecord.scope == scope, IdempotencyRecord.key == key))
    if record is None:
        return None
    if record.request_hash != request_hash:
        raise Problem(422, "idempotency_key_reused", "Idempotency-Key reused",
                      "This Idempotency-Key was already used for a different request.")
    return record.body, record.status_code
