"""The outcome events Homing tells the brand's till and ERP about, and the shape of each
event's ``data`` (the OpenAPI document publishes these). Pure code: no Flask, no database.

Every delivery's body is an envelope: ``{"id", "type", "created_at", "data"}``. ``id`` is the
same for every delivery and replay of one event, so a receiver drops the repeats."""

from __future__ import annotations

_MONEY = {"type": "string", "description": "Decimal amount in the currency's major unit",
          "examples": ["12.34"]}
_CURRENCY = {"type": "string", "minLength": 3, "maxLength": 3}
_TIME = {"type": "string", "format": "date-time"}
_STORE = {"type": ["string", "null"], "description": "Store code"}


def _object(properties: dict, required: list[str] | None = None) -> dict:
    return {"type": "object", "properties": properties,
            "required": required if required is not None else sorted(properties)}


_UNIT = _object({"unit_id": {"type": "integer"}, "sku": {"type": "string"},
                 "decision": {"type": "string", "enum": ["accept", "reject"]},
                 "disposition": {"type": ["string", "null"]}})

# name -> (what happened, the schema of its data)
EVENTS: dict[str, tuple[str, dict]] = {
    "return.issued": (
        "A return was authorised and its voucher issued.",
        _object({"return": {"type": "string"}, "order_id": {"type": "string"},
                 "channel": {"type": "string"}, "store": _STORE,
                 "units": {"type": "integer"}, "expected_refund": _MONEY,
                 "currency": _CURRENCY, "expires_at": _TIME})),
    "intake.completed": (
        "A store took a return in: every unit decided, the voucher used.",
        _object({"intake_id": {"type": "integer"}, "return": {"type": "string"},
                 "store": {"type": "string"}, "receipt_number": {"type": "string"},
                 "refund": _MONEY, "currency": _CURRENCY, "completed_at": _TIME,
                 "units": {"type": "array", "items": _UNIT}})),
    "refund.succeeded": (
        "The channel (Amazon) accepted the refund.",
        _object({"refund_id": {"type": "integer"}, "return": {"type": "string"},
                 "order_id": {"type": "string"}, "channel": {"type": "string"},
                 "amount": _MONEY, "currency": _CURRENCY, "status": {"type": "string"}})),
    "refund.failed": (
        "The channel refused the refund; HQ corrects and retries it.",
        _object({"refund_id": {"type": "integer"}, "return": {"type": "string"},
                 "order_id": {"type": "string"}, "channel": {"type": "string"},
                 "amount": _MONEY, "currency": _CURRENCY, "status": {"type": "string"},
                 "failure_code": {"type": "string"}})),
    "stock.moved": (
        "A store's stock of a SKU changed (a restock at the counter, an import, a delta).",
        _object({"store": {"type": "string"}, "sku": {"type": "string"},
                 "delta": {"type": "integer"}, "quantity": {"type": "integer", "minimum": 0},
                 "reason": {"type": "string"}, "reference": {"type": "string"}})),
    "credit.issued": (
        "Store credit was issued instead of a refund.",
        _object({"code": {"type": "string"}, "return": {"type": "string"},
                 "channel": {"type": "string"}, "amount": _MONEY, "bonus": _MONEY,
                 "balance": _MONEY, "currency": _CURRENCY, "expires_at": _TIME})),
    "credit.redeemed": (
        "Store credit was spent at the till or the web shop.",
        _object({"code": {"type": "string"}, "redemption_id": {"type": "integer"},
                 "amount": _MONEY, "balance": _MONEY, "currency": _CURRENCY,
                 "reference": {"type": "string"}})),
}
EVENT_NAMES = tuple(EVENTS)


def envelope_schema(name: str) -> dict:
    """The whole body of one event's delivery."""
    summary, data = EVENTS[name]
    return {"description": summary, **_object({
        "id": {"type": "string", "description": "The event's id: the same on every retry "
                                                "and replay"},
        "type": {"type": "string", "const": name}, "created_at": _TIME, "data": data})}
