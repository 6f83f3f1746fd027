"""The OpenAPI 3.1 description of API v1, served at /api/openapi.json."""

from __future__ import annotations

from flask import jsonify

from hub.api import bp
from hub.webhooks.events import EVENTS, envelope_schema

_PROBLEM = {"$ref": "#/components/responses/Problem"}


def _param(name: str, schema: dict, description: str, *, where: str = "query",
           required: bool = False) -> dict:
    return {"name": name, "in": where, "required": required, "schema": schema,
            "description": description}


def _ok(schema_ref: str, description: str = "OK") -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": schema_ref}}}}


PATHS = {
    "/api/v1/health": {"get": {
        "summary": "Database and job-queue status", "security": [],
        "responses": {"200": _ok("#/components/schemas/Health"),
                      "503": _ok("#/components/schemas/Health", "Degraded")}}},
    "/api/v1/stores": {"get": {
        "summary": "List stores",
        "parameters": [
            _param("country", {"type": "string"}, "ISO 3166-1 alpha-2"),
            _param("region", {"type": "string"}, "State / region"),
            _param("postal_code", {"type": "string"}, "Exact postal code"),
            _param("active", {"type": "boolean"}, "Only active (true) or inactive (false)"),
            _param("q", {"type": "string"}, "Text in code, name or city"),
            _param("page", {"type": "integer", "minimum": 1}, "Page number"),
            _param("per_page", {"type": "integer", "minimum": 1, "maximum": 500}, "Page size"),
        ],
        "responses": {"200": _ok("#/components/schemas/StorePage"), "400": _PROBLEM,
                      "401": _PROBLEM}}},
    "/api/v1/stores/{code}": {"get": {
        "summary": "One store",
        "parameters": [_param("code", {"type": "string"}, "Store code", where="path",
                              required=True)],
        "responses": {"200": _ok("#/components/schemas/Store"), "401": _PROBLEM,
                      "404": _PROBLEM}}},
    "/api/v1/stores/import": {"post": {
        "summary": "Import (upsert by code) a CSV or JSON store export (admin)",
        "parameters": [
            _param("format", {"type": "string", "enum": ["csv", "json"]}, "Override detection"),
            _param("column_map", {"type": "string"},
                   "JSON object mapping our field names to the file's headers"),
        ],
        "requestBody": {"content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            "multipart/form-data": {"schema": {"type": "object", "properties": {
                "file": {"type": "string", "format": "binary"}}}}}},
        "responses": {"200": _ok("#/components/schemas/ImportSummary"), "400": _PROBLEM,
                      "401": _PROBLEM, "403": _PROBLEM, "415": _PROBLEM}}},
    "/api/v1/routing": {"get": {
        "summary": "Rank the best stores for a return",
        "parameters": [
            _param("lat", {"type": "number", "minimum": -90, "maximum": 90}, "Latitude"),
            _param("lon", {"type": "number", "minimum": -180, "maximum": 180}, "Longitude"),
            _param("postal_code", {"type": "string"}, "Instead of lat/lon"),
            _param("country", {"type": "string"}, "Country of postal_code (default US)"),
            _param("category", {"type": "string"}, "Item category the store must accept"),
            _param("size_class", {"type": "string"}, "Item size class the store must accept"),
            _param("at", {"type": "string", "format": "date-time"}, "When (default now)"),
            _param("limit", {"type": "integer", "minimum": 1, "maximum": 50}, "How many"),
        ],
        "responses": {"200": _ok("#/components/schemas/RoutingResult"), "400": _PROBLEM,
                      "401": _PROBLEM, "422": _PROBLEM}}},
    "/api/v1/orders": {"post": {
        "summary": "Create or update an order (upsert by channel + order id)",
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/OrderInput"}}}},
        "responses": {"200": _ok("#/components/schemas/Order", "Updated"),
                      "201": _ok("#/components/schemas/Order", "Created"),
                      "401": _PROBLEM, "403": _PROBLEM, "422": _PROBLEM}}},
    "/api/v1/orders/{order_id}": {"get": {
        "summary": "One order",
        "parameters": [_param("order_id", {"type": "integer"}, "Homing order id",
                              where="path", required=True)],
        "responses": {"200": _ok("#/components/schemas/Order"), "401": _PROBLEM,
                      "404": _PROBLEM}}},
}


_JSON = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
_BODY = {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}


def _id(name: str, kind: str = "integer") -> dict:
    return _param(name, {"type": kind}, name.replace("_", " "), where="path", required=True)


PATHS.update({
    "/api/v1/policy": {
        "get": {"summary": "The current return policy version",
                "responses": {"200": _JSON, "401": _PROBLEM}},
        "put": {"summary": "Publish a new policy version ({document, note}); admin only",
                "requestBody": _BODY,
                "responses": {"201": _JSON, "401": _PROBLEM, "403": _PROBLEM,
                              "422": _PROBLEM}}},
    "/api/v1/policy/versions": {"get": {"summary": "All policy versions",
                                        "responses": {"200": _JSON, "401": _PROBLEM}}},
    "/api/v1/policy/versions/{number}": {"get": {
        "summary": "One policy version", "parameters": [_id("number")],
        "responses": {"200": _JSON, "404": _PROBLEM}}},
    "/api/v1/blocklist": {
        "get": {"summary": "Active blocklist entries (hashed values, masked hints)",
                "responses": {"200": _JSON, "401": _PROBLEM, "403": _PROBLEM}},
        "post": {"summary": "Block a shopper e-mail, address, order or phone ({kind, value, "
                            "reason})", "requestBody": _BODY,
                 "responses": {"201": _JSON, "422": _PROBLEM}}},
    "/api/v1/rmas": {"post": {
        "summary": "One RMA number for units of many Amazon Business orders of one buyer "
                   "(JSON {lines: [{order_id, item_id, quantity, reason}], latitude/longitude "
                   "or postal_code, store_code}, or a CSV of order_id,item_id,quantity,reason); "
                   "every bad line named by number, nothing written unless all hold; "
                   "Idempotency-Key",
        "requestBody": _BODY,
        "responses": {"201": _JSON, "415": _PROBLEM, "422": _PROBLEM}}},
    "/api/v1/rmas/{number}": {"get": {
        "summary": "A business RMA: its orders' returns and vouchers",
        "parameters": [_id("number", "string")], "responses": {"200": _JSON, "404": _PROBLEM}}},
    "/api/v1/returns": {"post": {
        "summary": "Authorise units of an order for return and issue the voucher "
                   "({channel, order_id, lines: [{line_id|item_id, quantity, reason|reasons}], "
                   "email, locale, latitude/longitude or postal_code, store_code}); "
                   "an Idempotency-Key header makes retries safe",
        "requestBody": _BODY,
        "responses": {"201": _JSON, "404": _PROBLEM, "409": _PROBLEM, "422": _PROBLEM}}},
    "/api/v1/returns/{number}": {"get": {
        "summary": "One return with its units, voucher, stores and timeline",
        "parameters": [_id("number", "string")], "responses": {"200": _JSON, "404": _PROBLEM}}},
    "/api/v1/returns/{number}/cancel": {"post": {
        "summary": "Cancel an issued return (before drop-off); frees its units",
        "parameters": [_id("number", "string")],
        "responses": {"200": _JSON, "404": _PROBLEM, "409": _PROBLEM}}},
    "/api/v1/returns/{number}/voucher.{fmt}": {"get": {
        "summary": "The voucher QR as PNG or SVG",
        "parameters": [_id("number", "string"), _id("fmt", "string")],
        "responses": {"200": {"description": "image"}, "404": _PROBLEM}}},
    "/api/v1/vouchers/keys": {"get": {
        "summary": "Public keys that verify vouchers offline (Ed25519)",
        "responses": {"200": _JSON}}},
    "/api/v1/vouchers/{code}": {"get": {
        "summary": "Verify a voucher token or short code without changing anything; errors: "
                   "voucher_malformed, voucher_bad_signature, voucher_unknown_key, "
                   "voucher_unknown, voucher_expired, voucher_cancelled, voucher_already_used",
        "parameters": [_id("code", "string")],
        "responses": {"200": _JSON, "404": _PROBLEM, "409": _PROBLEM, "422": _PROBLEM,
                      "429": _PROBLEM}}},
    "/api/v1/intakes": {"post": {
        "summary": "Open (or resume) the store intake for a voucher ({voucher: token or short "
                   "code, store: code when the key is not store-scoped}); Idempotency-Key",
        "requestBody": _BODY,
        "responses": {"201": _JSON, "403": _PROBLEM, "409": _PROBLEM, "422": _PROBLEM,
                      "429": _PROBLEM}}},
    "/api/v1/intakes/{intake_id}": {"get": {
        "summary": "An intake: expected units, checklists, decisions, live refund, approval",
        "parameters": [_id("intake_id")], "responses": {"200": _JSON, "404": _PROBLEM}}},
    "/api/v1/intakes/{intake_id}/units/{unit_id}": {"post": {
        "summary": "Decide one unit ({reception: received|missing|wrong_item, decision: "
                   "accept|reject, grade, disposition, reject_reason, reason_confirmed, "
                   "checklist: {check: bool}, notes}); Idempotency-Key",
        "parameters": [_id("intake_id"), _id("unit_id")], "requestBody": _BODY,
        "responses": {"200": _JSON, "404": _PROBLEM, "409": _PROBLEM, "422": _PROBLEM}}},
    "/api/v1/intakes/{intake_id}/photos": {"post": {
        "summary": "Attach a photo (multipart 'photo', optional 'unit_id'); resized, EXIF "
                   "stripped; Idempotency-Key",
        "parameters": [_id("intake_id")],
        "responses": {"201": _JSON, "404": _PROBLEM, "409": _PROBLEM, "422": _PROBLEM}}},
    "/api/v1/intakes/{intake_id}/complete": {"post": {
        "summary": "Complete: consume the voucher, create the refund intent. 403 "
                   "approval_required (with reasons) unless {supervisor: {staff_number, pin}} "
                   "approves; Idempotency-Key",
        "parameters": [_id("intake_id")],
        "responses": {"200": _JSON, "403": _PROBLEM, "404": _PROBLEM, "409": _PROBLEM,
                      "422": _PROBLEM}}},
    "/api/v1/intakes/{intake_id}/abandon": {"post": {
        "summary": "Give up before completing; the voucher stays valid",
        "parameters": [_id("intake_id")],
        "responses": {"200": _JSON, "404": _PROBLEM, "409": _PROBLEM}}},
    "/api/v1/blocklist/{entry_id}": {"delete": {
        "summary": "Remove a blocklist entry ({reason})", "parameters": [_id("entry_id")],
        "requestBody": _BODY, "responses": {"200": _JSON, "404": _PROBLEM, "422": _PROBLEM}}},
})

_AMOUNT = {"type": ["string", "number"], "description": "Decimal amount, e.g. \"19.99\""}
_PROMOTION = {"type": "object", "required": ["id", "amount"], "properties": {
    "id": {"type": "string"}, "amount": _AMOUNT,
    "kind": {"type": "string", "enum": ["plain", "buy_x_get_y", "min_spend"]},
    "condition": {"type": "object"}}}

SCHEMAS = {
    "OrderInput": {"type": "object", "required": ["channel", "order_id", "currency", "lines"],
                   "properties": {
        "channel": {"type": "string",
                    "enum": ["amazon-mfn", "amazon-fba", "amazon-business", "vendor", "web"]},
        "order_id": {"type": "string"}, "marketplace_id": {"type": "string"},
        "seller_id": {"type": "string"},
        "status": {"type": "string", "enum": ["pending", "shipped", "delivered", "cancelled"]},
        "currency": {"type": "string"},
        "purchased_at": {"type": "string", "format": "date-time"},
        "delivered_at": {"type": "string", "format": "date-time"},
        "buyer": {"type": "object", "properties": {
            "email": {"type": "string"}, "name": {"type": "string"},
            "postal_code": {"type": "string"}, "country": {"type": "string"}}},
        "promotions": {"type": "array", "items": _PROMOTION},
        "lines": {"type": "array", "items": {"type": "object",
                                             "required": ["item_id", "sku", "quantity"],
                                             "properties": {
            "item_id": {"type": "string"}, "sku": {"type": "string"},
            "asin": {"type": "string"}, "title": {"type": "string"},
            "category": {"type": "string"}, "size_class": {"type": "string"},
            "quantity": {"type": "integer", "minimum": 1}, "item_price": _AMOUNT,
            "item_tax": _AMOUNT, "shipping_price": _AMOUNT, "shipping_tax": _AMOUNT,
            "promotions": {"type": "array", "items": _PROMOTION},
            "gtin": {"type": "string", "description": "EAN-13, EAN-8, UPC-A, UPC-E or GTIN-14 "
                     "with a valid check digit"},
            "serial_numbers": {"type": "array", "maxItems": 999,
                               "items": {"type": "string", "maxLength": 64}}}}}}},
    "Order": {"type": "object", "properties": {
        "id": {"type": "integer"}, "channel": {"type": "string"},
        "order_id": {"type": "string"}, "status": {"type": "string"},
        "currency": {"type": "string"}, "lines": {"type": "array", "items": {"type": "object"}}}},
    "Problem": {"type": "object", "required": ["type", "title", "status", "code"],
                "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                               "status": {"type": "integer"}, "code": {"type": "string"},
                               "detail": {"type": "string"}}},
    "Health": {"type": "object", "properties": {
        "status": {"type": "string", "enum": ["ok", "degraded"]},
        "database": {"type": "object"}, "queue": {"type": "object"}}},
    "Store": {"type": "object", "properties": {
        "code": {"type": "string"}, "name": {"type": "string"}, "address": {"type": "string"},
        "city": {"type": "string"}, "region": {"type": "string"},
        "postal_code": {"type": "string"}, "country": {"type": "string"},
        "latitude": {"type": "number"}, "longitude": {"type": "number"},
        "timezone": {"type": "string"}, "hours": {"type": "object"},
        "hours_text": {"type": "string"},
        "categories": {"type": "array", "items": {"type": "string"}},
        "size_classes": {"type": "array", "items": {"type": "string"}},
        "daily_capacity": {"type": "integer"}, "active": {"type": "boolean"}}},
    "StorePage": {"type": "object", "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Store"}},
        "page": {"type": "integer"}, "per_page": {"type": "integer"},
        "total": {"type": "integer"}, "pages": {"type": "integer"}}},
    "ImportSummary": {"type": "object", "properties": {
        "imported": {"type": "integer"}, "updated": {"type": "integer"},
        "unchanged": {"type": "integer"}, "rejected": {"type": "integer"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "line": {"type": "integer"}, "code": {"type": "string"},
            "reason": {"type": "string"}}}}}},
    "RankedStore": {"type": "object", "properties": {
        "rank": {"type": "integer"}, "code": {"type": "string"}, "name": {"type": "string"},
        "distance_km": {"type": "number"}, "accepts": {"type": "boolean"},
        "open_now": {"type": "boolean"},
        "next_opening": {"type": ["string", "null"], "format": "date-time"},
        "closes_at": {"type": ["string", "null"], "format": "date-time"},
        "capacity_left": {"type": "integer"},
        "reasons": {"type": "array", "items": {"type": "object"}},
        "explanation": {"type": "string"}}},
    "RoutingResult": {"type": "object", "properties": {
        "origin": {"type": "object"},
        "stores": {"type": "array", "items": {"$ref": "#/components/schemas/RankedStore"}}}},
}


_FINANCE = "Roles admin, hq_ops, finance."
PATHS.update({
    "/api/v1/refunds": {"get": {
        "summary": "Refunds, newest first. " + _FINANCE,
        "parameters": [
            _param("status", {"type": "string", "enum": [
                "pending", "queued", "submitting", "submitted", "succeeded", "failed",
                "amazon_refunded", "manual", "settled"]}, "Only refunds in this state"),
            _param("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "Page size"),
            _param("before", {"type": "integer"}, "Next page: refunds with a smaller id")],
        "responses": {"200": _JSON, "400": _PROBLEM, "401": _PROBLEM, "403": _PROBLEM}}},
    "/api/v1/refunds/{refund_id}": {"get": {
        "summary": "One refund: amount, breakdown, lines with Amazon components, status, "
                   "attempts, feed id and Amazon's result",
        "parameters": [_id("refund_id")],
        "responses": {"200": _JSON, "401": _PROBLEM, "403": _PROBLEM, "404": _PROBLEM}}},
    "/api/v1/journal": {"get": {
        "summary": "Finance journal entries with their lines (JSON, or CSV with format=csv)",
        "parameters": [
            _param("from", {"type": "string", "format": "date-time"}, "Created at or after"),
            _param("to", {"type": "string", "format": "date-time"}, "Created before"),
            _param("source", {"type": "string", "enum": ["refund", "disposition"]},
                   "Only entries of this source"),
            _param("format", {"type": "string", "enum": ["json", "csv"]}, "Answer format")],
        "responses": {"200": _JSON, "400": _PROBLEM, "401": _PROBLEM, "403": _PROBLEM}}},
    "/api/v1/outbox": {"get": {
        "summary": "Side effects by delivery state (default: dead, i.e. out of retries)",
        "parameters": [
            _param("status", {"type": "string", "enum": [
                "pending", "enqueued", "failed", "dead", "delivered"]}, "Delivery state"),
            _param("topic", {"type": "string"}, "e.g. refund.submit, finance.push"),
            _param("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "Page size")],
        "responses": {"200": _JSON, "400": _PROBLEM, "401": _PROBLEM, "403": _PROBLEM}}},
    "/api/v1/outbox/{message_id}/replay": {"post": {
        "summary": "Replay a dead or failed message (admin, hq_ops); audited",
        "parameters": [_id("message_id")],
        "responses": {"200": _JSON, "401": _PROBLEM, "403": _PROBLEM, "404": _PROBLEM,
                      "409": _PROBLEM}}},
    "/api/v1/reconciliation/mismatches": {"get": {
        "summary": "Unresolved settlement mismatches: missing at Amazon, missing in Homing, "
                   "amounts that differ",
        "responses": {"200": _JSON, "401": _PROBLEM, "403": _PROBLEM}}},
})


_CODE = _param("code", {"type": "string"}, "Store code", where="path", required=True)
_IDEMPOTENCY = _param("Idempotency-Key", {"type": "string", "maxLength": 80},
                      "The same key and body twice is one effect; another body is refused",
                      where="header", required=True)
_STOCK = {"description": "The store's stock", "content": {"application/json": {"schema": {
    "type": "object", "properties": {
        "store": {"type": "string"}, "changed": {"type": "integer"},
        "items": {"type": "array", "items": {"type": "object", "properties": {
            "sku": {"type": "string"}, "quantity": {"type": "integer", "minimum": 0},
            "updated_at": {"type": "string", "format": "date-time"}}}}}}}}}
PATHS.update({
    "/api/v1/stores/{code}/stock": {
        "get": {"summary": "A store's stock per SKU", "parameters": [_CODE],
                "responses": {"200": _STOCK, "401": _PROBLEM, "403": _PROBLEM,
                              "404": _PROBLEM}},
        "put": {"summary": "The store's whole stock from the POS / ERP: listed SKUs are set, "
                           "the others go to zero ({items: [{sku, quantity}]} or text/csv "
                           "sku,quantity)",
                "parameters": [_CODE],
                "requestBody": {"content": {
                    "application/json": {"schema": {"type": "object", "properties": {
                        "items": {"type": "array", "items": {"type": "object", "properties": {
                            "sku": {"type": "string", "maxLength": 80},
                            "quantity": {"type": "integer", "minimum": 0}}}}}}},
                    "text/csv": {"schema": {"type": "string"}}}},
                "responses": {"200": _STOCK, "401": _PROBLEM, "403": _PROBLEM,
                              "404": _PROBLEM, "422": _PROBLEM}}},
    "/api/v1/stores/{code}/stock/deltas": {"post": {
        "summary": "One stock change from the POS ({sku, delta, reference}); never below zero",
        "parameters": [_CODE, _IDEMPOTENCY],
        "requestBody": {"content": {"application/json": {"schema": {
            "type": "object", "required": ["sku", "delta"], "properties": {
                "sku": {"type": "string"}, "delta": {"type": "integer"},
                "reference": {"type": "string", "maxLength": 120}}}}}},
        "responses": {"201": _JSON, "400": _PROBLEM, "401": _PROBLEM, "404": _PROBLEM,
                      "409": _PROBLEM, "422": _PROBLEM}}},
    "/api/v1/credits/{code}": {"get": {
        "summary": "A store credit's balance, status and expiry",
        "parameters": [_param("code", {"type": "string"}, "Credit code (SC-XXXX-...)",
                              where="path", required=True)],
        "responses": {"200": _JSON, "401": _PROBLEM, "403": _PROBLEM, "404": _PROBLEM}}},
    "/api/v1/credits/{code}/redeem": {"post": {
        "summary": "Spend from a store credit ({amount: \"12.50\", currency?, reference?}); "
                   "never below zero, never after expiry; the same caller, key and body "
                   "answer the first redemption, another body is refused (422)",
        "parameters": [_param("code", {"type": "string"}, "Credit code", where="path",
                              required=True), _IDEMPOTENCY],
        "requestBody": {"content": {"application/json": {"schema": {
            "type": "object", "required": ["amount"], "properties": {
                "amount": {"type": "string", "pattern": "^[0-9]{1,12}(\\.[0-9]{1,4})?$"},
                "currency": {"type": "string"},
                "reference": {"type": "string", "maxLength": 120}}}}}},
        "responses": {"200": _JSON, "201": _JSON, "400": _PROBLEM, "401": _PROBLEM,
                      "404": _PROBLEM, "409": _PROBLEM, "422": _PROBLEM}}},
})


def _webhooks() -> dict:
    """Every outcome event as an OpenAPI 3.1 webhook: the POST Homing sends, signed."""
    return {name: {"post": {
        "summary": summary, "operationId": f"webhook_{name.replace('.', '_')}",
        "description": "Signed in `X-Homing-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "
                       "\"<t>.\" + body>` with the endpoint's secret; the event's `id` is "
                       "also sent as `Idempotency-Key` and is the same on every retry and "
                       "replay. Answer 2xx within the timeout, or the event is sent again "
                       "with back-off.",
        "parameters": [_param("X-Homing-Signature", {"type": "string"}, "The signature",
                              where="header", required=True),
                       _param("X-Homing-Event", {"type": "string", "const": name},
                              "The event type", where="header", required=True)],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": envelope_schema(name)}}},
        "responses": {"2XX": {"description": "Received (anything else is retried)"}}}}
        for name, (summary, _data) in EVENTS.items()}


def openapi_document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Homing API", "version": "1.0.0",
                 "description": "Returns hub: stores, routing, returns, vouchers, intake, "
                                "refunds. Errors are RFC 9457 problem details with a stable "
                                "`code`."},
        "servers": [{"url": "/"}],
        "security": [{"apiKey": []}],
        "paths": PATHS,
        "webhooks": _webhooks(),
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer",
                                           "description": "homing keys create --role ROLE"}},
            "schemas": SCHEMAS,
            "responses": {"Problem": {"description": "Problem details", "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}},
        },
    }


@bp.get("/api/openapi.json")
def openapi_json():
    return jsonify(openapi_document())
