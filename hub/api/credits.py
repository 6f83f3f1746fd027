"""Store credit for the brand's till and web shop: read a code's balance, spend from it."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask import g, jsonify, request

from hub.api import bp
from hub.api.common import json_body, require
from hub.audit.service import Actor
from hub.credits import service as credits
from hub.extensions import db, limiter
from hub.money import Money, MoneyError, amount_text
from hub.web.errors import Problem
from hub.web.idempotency import MAX_KEY_LENGTH, fingerprint
from hub.web.limits import caller_key

PLAIN_DECIMAL = re.compile(r"[0-9]{1,12}(\.[0-9]{1,4})?")
CREDIT_ROLES = ("admin", "hq_ops", "supervisor", "clerk")
REFUSED_STATUS = {"credit_not_found": 404, "credit_expired": 409, "credit_spent": 409,
                  "insufficient_balance": 409, "idempotency_key_reused": 422}
TITLES = {"credit_not_found": "Store credit not found", "credit_expired": "Credit expired",
          "credit_spent": "Credit spent", "insufficient_balance": "Not enough credit",
          "idempotency_key_reused": "Idempotency-Key reused"}


def _credit(code: str):
    credit = credits.find(db.session, code)
    if credit is None:
        raise Problem(404, "credit_not_found", TITLES["credit_not_found"],
                      "No store credit has this code.")
    return credit


@bp.get("/api/v1/credits/<code>")
@limiter.limit("60 per minute", key_func=caller_key)
@require(*CREDIT_ROLES)
def get_credit(code: str):
    return jsonify(credits.credit_to_dict(_credit(code)))


def _amount(body: dict, currency: str) -> int:
    raw = body.get("amount")
    problem = Problem(422, "invalid_amount", "Invalid amount",
                      f"'amount' must be a positive decimal string in {currency}, "
                      "e.g. \"12.50\".", parameter="amount")
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise problem  # a float is refused: 0.1 + 0.2 is not money
    if isinstance(raw, str) and not PLAIN_DECIMAL.fullmatch(raw.strip()):
        raise problem  # "1e3", "0x10", "1_000": not how a till writes an amount
    try:
        minor = Money(Decimal(str(raw).strip()), currency).to_minor()
    except (MoneyError, InvalidOperation, ValueError):
        raise problem from None
    if minor <= 0:
        raise problem
    if body.get("currency") not in (None, currency):
        raise Problem(422, "wrong_currency", "Wrong currency",
                      f"This credit is in {currency}.", parameter="currency")
    return minor


@bp.post("/api/v1/credits/<code>/redeem")
@limiter.limit("60 per minute", key_func=caller_key)
@require(*CREDIT_ROLES)
def redeem_credit(code: str):
    """Spend ``{"amount", "currency"?, "reference"?}`` from the credit. An Idempotency-Key is
    required: the same key and body again answers the first redemption; another body is
    refused; nothing is spent beyond the balance, after the expiry, or twice."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise Problem(400, "idempotency_key_required", "Idempotency-Key required",
                      f"Send an Idempotency-Key header of 1 to {MAX_KEY_LENGTH} characters: "
                      "a till that retries must not spend twice.")
    body = json_body()
    credit = _credit(code)
    amount = _amount(body, credit.currency)
    reference = body.get("reference", "")
    if not isinstance(reference, str) or len(reference) > credits.REFERENCE_LENGTH \
            or any(ord(ch) < 32 for ch in reference):
        raise Problem(422, "invalid_reference", "Invalid reference",
                      f"'reference' is text of at most {credits.REFERENCE_LENGTH} characters.",
                      parameter="reference")
    principal = g.principal
    try:
        done = credits.redeem(
            db.session, code, amount, scope=f"apikey:{principal.id}", key=key,
            request_hash=fingerprint(credit.code, amount, reference), reference=reference,
            actor=Actor("api_key", principal.id, principal.label,
                        store_id=principal.store_id))
    except credits.CreditRefused as exc:
        raise Problem(REFUSED_STATUS.get(exc.code, 409), exc.code,
                      TITLES.get(exc.code, "Refused"), str(exc), **exc.facts) from exc
    redemption = done.redemption
    return jsonify({"redemption_id": redemption.id, "code": credits.display_code(credit.code),
                    "amount": amount_text(redemption.amount, credit.currency),
                    "balance": amount_text(redemption.balance_after, credit.currency),
                    "currency": credit.currency, "status": done.credit.status,
                    "replayed": done.replayed}), 200 if done.replayed else 201
