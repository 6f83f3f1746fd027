"""The state behind the built-in SP-API sandbox: a stateful, deterministic stand-in for the
parts of Amazon Homing talks to (LWA, Orders, Reports, Feeds, Finances, settlements), with a
test clock, Amazon's per-operation token buckets and fault injection.

Pure Python (no Flask): ``hub.sandbox.routes`` is the HTTP face. One Emulator per process;
every public method takes the lock, so the threaded demo server and test servers are safe.
Amazon's behaviour follows ../shared/reference/amazon-spapi.md §8; where Amazon's exact
answer is unknown (error numbers for business-rule rejections, fee amounts) the emulator's
choice is named as such.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import random
import re
import secrets
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hub.amazon.credentials import (
    SANDBOX_CLIENT,
    SANDBOX_DEFAULT_SELLER,
    SANDBOX_DEFAULT_TOKEN,
    sandbox_refresh_token,
)
from hub.amazon.ratelimit import USAGE_PLANS
from hub.money import exponent
from hub.sandbox import adjustments, vat_invoices
from hub.sandbox.vendor import InvalidRequest, VendorDesk

# Amazon's default usage plans: operation -> (tokens per second, burst). §4.1.
SANDBOX_TOKEN_PREFIX = sandbox_refresh_token("")
RATES = USAGE_PLANS  # Amazon's usage plans, enforced as Amazon does
# Personal data in the Orders API comes only with a Restricted Data Token for the path.
RDT_ELEMENTS = ("buyerInfo", "shippingAddress", "buyerTaxInformation")
RDT_PATH = re.compile(r"^/orders/v0/orders(/[0-9A-Za-z-]+(/address|/buyerInfo|/orderItems"
                      r"(/buyerInfo)?)?)?$")
RETURNS_REPORTS = ("GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE",
                   "GET_XML_RETURNS_DATA_BY_RETURN_DATE",
                   "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA")
SETTLEMENT_REPORT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
FEED_TYPES = ("POST_PAYMENT_ADJUSTMENT_DATA", vat_invoices.FEED_TYPE)
FLAT_RETURNS_COLUMNS = (
    "Order ID", "Order date", "Return request date", "Return request status", "Amazon RMA ID",
    "Merchant RMA ID", "Label type", "Label cost", "Currency code", "Return carrier",
    "Tracking ID", "Label to be paid by", "A-to-Z Claim", "Is prime", "ASIN", "Merchant SKU",
    "Item Name", "Return quantity", "Return Reason", "In policy", "Return type", "Resolution",
    "Invoice number", "Return delivery date", "Order Amount", "Order quantity",
    "SafeT Action reason", "SafeT claim id", "SafeT claim state", "SafeT claim creation time",
    "SafeT claim reimbursement amount", "Refunded Amount")
FBA_RETURNS_COLUMNS = (
    "return-date", "order-id", "sku", "asin", "fnsku", "product-name", "quantity",
    "fulfillment-center-id", "detailed-disposition", "reason", "status",
    "license-plate-number", "customer-comments")
SETTLEMENT_COLUMNS = (
    "settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date",
    "total-amount", "currency", "transaction-type", "order-id", "merchant-order-id",
    "adjustment-id", "shipment-id", "marketplace-name", "amount-type", "amount-description",
    "amount", "fulfillment-id", "posted-date", "posted-date-time", "order-item-code",
    "merchant-order-item-id", "merchant-adjustment-item-id", "sku", "quantity-purchased",
    "promotion-id")
# Which order amount caps each refunded component (the over-refund check).
CAPPED_BY = {"Principal": "ItemPrice", "Tax": "ItemTax", "Shipping": "ShippingPrice",
             "ShippingTax": "ShippingTax"}
# Business-rule rejections. Amazon's own numbers for these are not documented; these are the
# emulator's (schema errors use Amazon's 5000).
E_UNKNOWN_ORDER, E_UNKNOWN_ITEM, E_NOT_SHIPPED = 18001, 18002, 18003
E_OVER_REFUND, E_CURRENCY, E_SIGN, E_MERCHANT = 18004, 18005, 18006, 18007
DOCUMENT_URL_SECONDS = 300
FEED_DOCUMENT_DAYS = 2
COMMISSION_PERCENT = 15  # what the emulator's marketplace charged; refunded minus 20 %


class ApiError(Exception):
    """An SP-API error answer: ``{"errors": [{"code", "message", "details"}]}``."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Dropped(Exception):
    """The connection is to be dropped without an answer (``drop_request`` before the work,
    ``lose_answer`` after it): the HTTP face shuts the socket."""


@dataclass
class Fault:
    """One injected misbehaviour of one call (``/_emu/faults``).

    ``status`` alone answers that error BEFORE doing the work (Amazon refused or failed);
    with ``after_work`` the work is done first (the feed IS created) and the error comes
    after: an indeterminate failure. ``lose_answer`` does the work and drops the connection
    without an answer; ``drop_request`` drops it without doing the work."""

    status: int | None = None
    after_work: bool = False
    lose_answer: bool = False
    drop_request: bool = False

    @property
    def before_work(self) -> bool:
        return self.drop_request or (self.status is not None and not self.after_work
                                     and not self.lose_answer)

    @property
    def kind(self) -> str:
        if self.drop_request:
            return "drop_request"
        if self.lose_answer:
            return "lose_answer"
        return f"{self.status}_after_work" if self.after_work else str(self.status)


def make_fault(status: int | None = 429, *, after_work: bool = False,
               lose_answer: bool = False, drop_request: bool = False) -> Fault:
    """A checked Fault; ValueError names what does not make sense."""
    if lose_answer and drop_request:
        raise ValueError("choose lose_answer (work done) or drop_request (work not done)")
    if drop_request and after_work:
        raise ValueError("drop_request does no work: after_work makes no sense with it")
    if lose_answer or drop_request:
        return Fault(None, after_work, lose_answer, drop_request)
    status = int(status if status is not None else 429)
    if not 400 <= status <= 599:
        raise ValueError(f"status {status} is not an HTTP error status")
    return Fault(status, after_work)


class LwaError(Exception):
    def __init__(self, error: str, description: str):
        super().__init__(description)
        self.error, self.description = error, description


def iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ApiError(400, "InvalidInput", f"{value!r} is not an ISO 8601 date-time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def decimal_text(minor: int, currency: str) -> str:
    places = exponent(currency)
    return f"{Decimal(minor).scaleb(-places):.{max(places, 2)}f}"


def to_minor(amount: Decimal, currency: str) -> int:
    return int(amount.scaleb(exponent(currency)).to_integral_value())


@dataclass
class Bucket:
    tokens: float
    updated: float


@dataclass
class Document:
    id: str
    content_type: str
    created_at: datetime
    data: bytes | None = None
    gzip: bool = False
    encoding: str = "utf-8"


@dataclass
class Job:
    """A feed or a report moving IN_QUEUE -> IN_PROGRESS -> DONE | CANCELLED | FATAL."""

    id: str
    kind: str  # feed | report
    type: str
    seller_id: str
    marketplace_ids: list[str]
    created_at: datetime
    status: str = "IN_QUEUE"
    started_at: datetime | None = None
    ended_at: datetime | None = None
    input_document_id: str = ""
    result_document_id: str | None = None
    data_start: datetime | None = None
    data_end: datetime | None = None
    stuck: bool = False
    fatal: bool = False
    options: dict = field(default_factory=dict)
    listed_at: datetime | None = None  # getFeeds shows it from then on (eventual consistency)
    jitter: float = 0.0  # extra processing seconds (feeds finish out of order)
    messages: list[dict] = field(default_factory=list)  # what a feed carried, for state()
    answer: str = "answered"  # what the caller heard of createFeed (state(): lost, 500, ...)


class Emulator:
    def __init__(self, order_source: Callable[[str], dict | None] | None = None) -> None:
        """``order_source`` looks up an order the emulator has not been given (the demo's
        sandbox reads Homing's own orders, as Amazon knows its own)."""
        self.lock = threading.RLock()
        self.order_source = order_source
        self.reset()

    # --- state --------------------------------------------------------------------------------

    def reset(self) -> None:
        with self.lock:
            self._offset = 0.0
            self._speed = 1.0
            self._real_start = time.time()
            # refresh token -> (seller id or vendor code, the LWA client it was issued to).
            # The sandbox's own test token "Atzr|homing-sandbox-<account>" works for any
            # account with the sandbox's client (``sandbox:`` references).
            self.sellers: dict[str, tuple[str, str]] = {
                SANDBOX_DEFAULT_TOKEN: (SANDBOX_DEFAULT_SELLER, SANDBOX_CLIENT[0])}
            self.clients = {SANDBOX_CLIENT[0]: SANDBOX_CLIENT[1]}
            self.revoked: set[str] = set()  # refresh tokens revoked or expired
            self.tokens: dict[str, tuple[str, datetime]] = {}
            self.token_grants: dict[str, str] = {}  # access token -> its refresh token
            # RDT -> (seller, {path: data elements}, expiry)
            self.rdts: dict[str, tuple[str, dict[str, set[str]], datetime]] = {}
            self.buckets: dict[tuple[str, str], Bucket] = {}
            self.rate_multiplier = 1.0
            self.faults: dict[str, list[Fault]] = {}  # operation -> how its next calls fail
            self.fired: list[dict] = []  # every injected fault that happened, in order
            # Eventual consistency and processing order (set through /_emu/faults).
            self.consistency = {"list_lag_seconds": 0.0, "processing_jitter": 0.0,
                                "seed": None}
            self.rng = random.Random(0)
            self.flags = {"stuck_feeds": False, "fatal_feeds": 0, "fatal_reports": 0,
                          "gzip": False, "encoding": "utf-8", "expire_urls": False,
                          # A reason: the next VAT document is rejected with it (then cleared).
                          "reject_vat_invoice": ""}
            self.delays = {"queue": 2.0, "processing": 8.0, "finance": 60.0}
            self.orders: dict[str, dict] = {}
            # (marketplace, ASIN) -> {"identifiers": [...], "itemName": ...}: Amazon's catalog
            self.catalog: dict[tuple[str, str], dict] = {}
            self.returns: list[dict] = []
            self.fba_returns: list[dict] = []
            self.documents: dict[str, Document] = {}
            self.jobs: dict[str, Job] = {}
            self.events: list[dict] = []  # financial events, each with "posted"
            self.open_lines: list[dict] = []  # settlement lines of the open period
            self.settlements: list[dict] = []
            self.applied: list[dict] = []  # every adjustment item accepted, for assertions
            # Every UPLOAD_VAT_INVOICE feed: its options, the document's hash and the verdict.
            self.vat_uploads: list[dict] = []
            self.own_refunds: list[dict] = []  # refunds Amazon made itself (/_emu/refund)
            self.vendor = VendorDesk()  # submitInvoices / getTransaction (hub.sandbox.vendor)
            self.requests: dict[str, int] = {}  # operation -> calls answered (incl. 429)
            self.throttled: dict[str, int] = {}
            self._serial = 10_000

    def now(self) -> datetime:
        elapsed = (time.time() - self._real_start) * self._speed
        return datetime.fromtimestamp(self._real_start + elapsed + self._offset, UTC)

    def advance(self, seconds: float) -> datetime:
        with self.lock:
            self._offset += seconds
            return self.now()

    def set_speed(self, speed: float) -> None:
        with self.lock:
            now = self.now().timestamp()
            self._real_start, self._speed = time.time(), float(speed)
            self._offset = now - self._real_start

    def _next_id(self) -> str:
        self._serial += 1
        return f"{self._serial}{secrets.randbelow(10**6):06d}"

    # --- LWA and authorisation --------------------------------------------------------------

    def issue_token(self, form: dict) -> dict:
        with self.lock:
            if self.clients.get(form.get("client_id", "")) != form.get("client_secret"):
                raise LwaError("invalid_client", "Client authentication failed")
            if form.get("grant_type") != "refresh_token":
                raise LwaError("unsupported_grant_type", "Only refresh_token is emulated")
            refresh = form.get("refresh_token", "")
            seller, client = self._grant(refresh)
            if refresh in self.revoked or not seller or client != form.get("client_id"):
                raise LwaError("invalid_grant", "The request has an invalid grant parameter "
                                                ": refresh_token")
            token = "Atza|" + secrets.token_urlsafe(24)
            self.tokens[token] = (seller, self.now() + timedelta(seconds=3600))
            self.token_grants[token] = refresh
            return {"access_token": token, "token_type": "bearer", "expires_in": 3600,
                    "refresh_token": form["refresh_token"]}

    def _grant(self, refresh: str) -> tuple[str, str]:
        if refresh in self.sellers:
            return self.sellers[refresh]
        if refresh.startswith(SANDBOX_TOKEN_PREFIX) and len(refresh) > len(SANDBOX_TOKEN_PREFIX):
            return refresh[len(SANDBOX_TOKEN_PREFIX):], SANDBOX_CLIENT[0]
        return "", ""

    def add_account(self, seller: str, refresh_token: str, client_id: str,
                    client_secret: str) -> None:
        """An account that authorised an app: its refresh token, issued to that LWA client."""
        with self.lock:
            if not (seller and refresh_token and client_id and client_secret):
                raise ApiError(400, "InvalidInput", "seller_id, refresh_token, client_id and "
                                                    "client_secret are required")
            self.sellers[refresh_token] = (seller, client_id)
            self.clients[client_id] = client_secret
            self.revoked.discard(refresh_token)

    def revoke(self, refresh_token: str) -> int:
        """The refresh token expires (or the seller revoked the app): LWA refuses it, and the
        access tokens issued with it stop working. Returns how many were cut off."""
        with self.lock:
            self.revoked.add(refresh_token)
            cut = [t for t, r in self.token_grants.items() if r == refresh_token]
            for token in cut:
                self.tokens.pop(token, None)
                self.token_grants.pop(token, None)
            return len(cut)

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()
            self.rdts.clear()

    def restricted_token(self, seller: str, body: dict) -> dict:
        """createRestrictedDataToken: a token for the listed GET paths and data elements."""
        resources = body.get("restrictedResources")
        if not isinstance(resources, list) or not resources:
            raise ApiError(400, "InvalidInput", "restrictedResources is required")
        granted: dict[str, set[str]] = {}
        for resource in resources:
            path, elements = resource.get("path", ""), resource.get("dataElements") or []
            if resource.get("method") != "GET" or not RDT_PATH.match(path):
                raise ApiError(400, "InvalidInput",
                               f"Restricted resource {resource.get('method')} {path} is invalid")
            unknown = set(elements) - set(RDT_ELEMENTS)
            if unknown:
                raise ApiError(400, "InvalidInput",
                               f"Invalid dataElements: {', '.join(sorted(unknown))}")
            granted[path] = set(elements)
        token = "Atz.sprdt|" + secrets.token_urlsafe(24)
        with self.lock:
            self.rdts[token] = (seller, granted, self.now() + timedelta(seconds=3600))
        return {"restrictedDataToken": token, "expiresIn": 3600}

    def granted_elements(self, token: str | None, path: str) -> set[str]:
        """The personal data ``token`` opens on ``path`` (nothing for a plain access token)."""
        with self.lock:
            _seller, paths, _expires = self.rdts.get(token or "", ("", {}, self.now()))
            return set(paths.get(path, ()))

    def authorize(self, token: str | None, operation: str, path: str = "") -> str:
        """The seller behind ``token`` (an access token, or a Restricted Data Token for this
        path), after any injected fault that strikes before the work, and the throttle."""
        return self.authorize_call(token, operation, path, after_work=False)[0]

    def authorize_call(self, token: str | None, operation: str, path: str = "", *,
                       after_work: bool = True) -> tuple[str, Fault | None]:
        """``authorize``, plus the fault to apply once the work is done (or None; left queued
        when ``after_work`` is False). Raises ApiError for an error answer and Dropped for a
        request dropped before the work."""
        with self.lock:
            self.requests[operation] = self.requests.get(operation, 0) + 1
            seller, expires = self.tokens.get(token or "", ("", self.now()))
            if token and token.startswith("Atz.sprdt|"):
                rdt_seller, paths, expires = self.rdts.get(token, ("", {}, self.now()))
                seller = rdt_seller if path in paths else ""
            if not seller or expires <= self.now():
                raise ApiError(403, "Unauthorized", "Access to requested resource is denied.")
            key = operation if self.faults.get(operation) else "*"
            pending = self.faults.get(key)
            if pending and pending[0].before_work:
                fault = pending.pop(0)
                self._fired(operation, fault)
                if fault.drop_request:
                    raise Dropped(operation)
                raise _fault_error(operation, fault.status, self.throttled)
            self._take(seller, operation)
            self._progress_due()
            after = pending.pop(0) if pending and after_work else None
            if after is not None:
                self._fired(operation, after)
            return seller, after

    def _fired(self, operation: str, fault: Fault) -> None:
        self.fired.append({"operation": operation, "kind": fault.kind,
                           "at": iso(self.now())})

    def _take(self, seller: str, operation: str) -> None:
        rate, burst = RATES.get(operation, (5, 15))
        rate *= self.rate_multiplier
        clock = self.now().timestamp()
        bucket = self.buckets.setdefault((seller, operation), Bucket(burst, clock))
        bucket.tokens = min(burst, bucket.tokens + (clock - bucket.updated) * rate)
        bucket.updated = clock
        if bucket.tokens < 1:
            self.throttled[operation] = self.throttled.get(operation, 0) + 1
            raise ApiError(429, "QuotaExceeded",
                           "You exceeded your quota for the requested resource.")
        bucket.tokens -= 1

    def inject(self, operation: str, status: int | None = 429, times: int = 1, *,
               after_work: bool = False, lose_answer: bool = False,
               drop_request: bool = False) -> None:
        """Make the next ``times`` calls of ``operation`` ("*": any) misbehave (see Fault)."""
        fault = make_fault(status, after_work=after_work, lose_answer=lose_answer,
                           drop_request=drop_request)
        with self.lock:
            self.faults.setdefault(operation, []).extend(Fault(**vars(fault))
                                                          for _ in range(int(times)))

    def set_consistency(self, list_lag_seconds: float | None = None,
                        processing_jitter: float | None = None,
                        seed: int | None = None) -> None:
        """getFeeds shows a new feed only ``list_lag_seconds`` after its creation (getFeed by
        id at once); each feed's processing takes delays.processing plus a seeded random
        0..``processing_jitter`` seconds, so feeds finish out of order."""
        with self.lock:
            if list_lag_seconds is not None:
                self.consistency["list_lag_seconds"] = max(float(list_lag_seconds), 0.0)
            if processing_jitter is not None:
                self.consistency["processing_jitter"] = max(float(processing_jitter), 0.0)
            if seed is not None:
                self.consistency["seed"] = int(seed)
                self.rng = random.Random(int(seed))

    def pending_faults(self) -> dict[str, list[str]]:
        with self.lock:
            return {op: [f.kind for f in faults] for op, faults in self.faults.items()
                    if faults}

    # --- fixtures -------------------------------------------------------------------------------

    def add_orders(self, orders: list[dict]) -> int:
        """Orders as the Orders API shows them; money in minor units (see routes' docs)."""
        with self.lock:
            for order in orders:
                items = {}
                for item in order["items"]:
                    code = str(item["OrderItemId"])
                    items[code] = {**item, "OrderItemId": code, "refunded": {}}
                self.orders[order["AmazonOrderId"]] = {
                    "AmazonOrderId": order["AmazonOrderId"],
                    "seller_id": order.get("seller_id", "A1DEMOSELLER"),
                    "MarketplaceId": order.get("MarketplaceId", "ATVPDKIKX0DER"),
                    "currency": order.get("currency", "USD"),
                    "OrderStatus": order.get("OrderStatus", "Shipped"),
                    "PurchaseDate": order.get("PurchaseDate") or iso(self.now()),
                    "FulfillmentChannel": order.get("FulfillmentChannel", "MFN"),
                    "IsBusinessOrder": bool(order.get("IsBusinessOrder", False)),
                    "LatestDeliveryDate": order.get("LatestDeliveryDate"),
                    "ShippingAddress": order.get("ShippingAddress") or {},
                    "BuyerInfo": order.get("BuyerInfo") or {},
                    "BuyerTaxInformation": order.get("BuyerTaxInformation") or {},
                    "items": items}
            return len(orders)

    def _order(self, order_id: str) -> dict | None:
        if order_id not in self.orders and self.order_source is not None:
            fixture = self.order_source(order_id)
            if fixture is not None:
                self.add_orders([fixture])
        return self.orders.get(order_id)

    def add_catalog(self, items: list[dict]) -> int:
        """Catalog items: {"asin", "marketplaceId", "itemName", "identifiers": [{"identifierType":
        "EAN", "identifier": "..."}]}, as getCatalogItem's ItemIdentifier shows them."""
        with self.lock:
            for item in items:
                key = (item.get("marketplaceId", "ATVPDKIKX0DER"), str(item["asin"]))
                self.catalog[key] = {"identifiers": [
                    {"identifierType": str(i["identifierType"]), "identifier": str(i["identifier"])}
                    for i in item.get("identifiers", [])], "itemName": item.get("itemName", "")}
            return len(items)

    def add_returns(self, rows: list[dict], fba: bool = False) -> int:
        with self.lock:
            (self.fba_returns if fba else self.returns).extend(rows)
            return len(rows)

    # --- documents ----------------------------------------------------------------------------

    def create_feed_document(self, content_type: str) -> Document:
        with self.lock:
            if not content_type:
                raise ApiError(400, "InvalidInput", "contentType is required")
            doc = Document("amzn1.tortuga.3." + str(uuid.uuid4()), content_type, self.now())
            self.documents[doc.id] = doc
            return doc

    def upload(self, doc_id: str, content_type: str, data: bytes) -> None:
        with self.lock:
            doc = self.documents.get(doc_id)
            if doc is None or doc.data is not None:
                raise ApiError(403, "AccessDenied", "The upload URL is not valid")
            if self._url_expired(doc):
                raise ApiError(403, "AccessDenied", "Request has expired")
            if content_type.split(";")[0].strip() != doc.content_type.split(";")[0].strip():
                raise ApiError(403, "SignatureDoesNotMatch",
                               "The Content-Type differs from the one the URL was made for")
            doc.data = data

    def download(self, doc_id: str) -> Document:
        with self.lock:
            doc = self.documents.get(doc_id)
            if doc is None or doc.data is None:
                raise ApiError(404, "NoSuchKey", "The document does not exist")
            if self._url_expired(doc):
                raise ApiError(403, "AccessDenied", "Request has expired")
            return doc

    def _url_expired(self, doc: Document) -> bool:
        age = (self.now() - doc.created_at).total_seconds()
        return self.flags["expire_urls"] or age > DOCUMENT_URL_SECONDS

    def result_document(self, doc_id: str) -> dict:
        with self.lock:
            doc = self.documents.get(doc_id)
            if doc is None or doc.data is None:
                raise ApiError(404, "NotFound", f"No document {doc_id}")
            doc.created_at = self.now()  # a fresh presigned URL for five minutes
            answer = {"reportDocumentId" if doc.id.startswith("amzn1.spdoc") else
                      "feedDocumentId": doc.id}
            if doc.gzip:
                answer["compressionAlgorithm"] = "GZIP"
            return answer

    def _store_result(self, prefix: str, content_type: str, data: bytes) -> str:
        doc = Document(prefix + str(uuid.uuid4()), content_type, self.now())
        if self.flags["gzip"]:
            data, doc.gzip = gzip.compress(data), True
        doc.data = data
        self.documents[doc.id] = doc
        return doc.id

    # --- feeds ----------------------------------------------------------------------------------

    def create_feed(self, seller: str, body: dict) -> str:
        with self.lock:
            feed_type = body.get("feedType")
            if feed_type not in FEED_TYPES:
                raise ApiError(400, "InvalidInput", f"feedType {feed_type!r} is not supported "
                                                    "by this sandbox")
            markets = body.get("marketplaceIds") or []
            if not markets:
                raise ApiError(400, "InvalidInput", "marketplaceIds is required")
            doc = self.documents.get(body.get("inputFeedDocumentId", ""))
            if doc is None or doc.data is None:
                raise ApiError(400, "InvalidInput", "inputFeedDocumentId is unknown or was "
                                                    "never uploaded")
            if self.now() - doc.created_at > timedelta(days=FEED_DOCUMENT_DAYS):
                raise ApiError(400, "InvalidInput", "inputFeedDocumentId has expired")
            options = {}
            if feed_type == vat_invoices.FEED_TYPE:
                try:
                    options = vat_invoices.read_options(body.get("feedOptions"), markets)
                except vat_invoices.OptionsError as exc:
                    raise ApiError(400, "InvalidInput", str(exc)) from exc
            now = self.now()
            job = Job(self._next_id(), "feed", feed_type, seller, markets, now,
                      input_document_id=doc.id, stuck=self.flags["stuck_feeds"], options=options,
                      listed_at=now + timedelta(
                          seconds=self.consistency["list_lag_seconds"]),
                      jitter=self.rng.uniform(0, self.consistency["processing_jitter"]),
                      messages=_carried(doc.data) if not options else [])
            if options:
                self.vat_uploads.append({
                    "feed_id": job.id, "seller_id": seller, "marketplace_id": markets[0],
                    "options": options, "content_type": doc.content_type,
                    "size": len(doc.data), "sha256": hashlib.sha256(doc.data).hexdigest(),
                    "is_pdf": vat_invoices.is_pdf(doc.data, doc.content_type),
                    "accepted": None, "error": ""})
            if self.flags["fatal_feeds"]:
                self.flags["fatal_feeds"] -= 1
                job.fatal = True
            self.jobs[job.id] = job
            return job.id

    def feed(self, seller: str, feed_id: str) -> dict:
        with self.lock:
            return self._feed_json(self._job(seller, "feed", feed_id))

    def feeds(self, seller: str, args: dict) -> dict:
        """getFeeds: a feed is listed only from its ``listed_at`` (eventual consistency)."""
        with self.lock:
            jobs = self._filter_jobs(seller, "feed", args, "feedTypes",
                                     visible=lambda j: j.listed_at is None
                                     or j.listed_at <= self.now())
            return {"feeds": [self._feed_json(j) for j in jobs]}

    def answer_lost(self, feed_id: str, how: str) -> None:
        """Note what the caller heard of createFeed for this feed (shown in state())."""
        with self.lock:
            if feed_id in self.jobs:
                self.jobs[feed_id].answer = how

    def cancel(self, seller: str, kind: str, job_id: str) -> None:
        with self.lock:
            job = self._job(seller, kind, job_id)
            if job.status != "IN_QUEUE":
                raise ApiError(400, "InvalidInput", f"The {kind} is {job.status} and can no "
                                                    "longer be cancelled")
            job.status, job.ended_at = "CANCELLED", self.now()

    def _job(self, seller: str, kind: str, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None or job.kind != kind or job.seller_id != seller:
            raise ApiError(404, "NotFound", f"No {kind} with id {job_id}")
        self._progress(job)
        return job

    def _filter_jobs(self, seller: str, kind: str, args: dict, types_key: str,
                     visible: Callable[[Job], bool] = lambda job: True) -> list[Job]:
        types = _csv(args.get(types_key))
        statuses = _csv(args.get("processingStatuses"))
        since = parse_time(args.get("createdSince")) or self.now() - timedelta(days=90)
        size = int(args.get("pageSize") or 10)
        if not 1 <= size <= 100:
            raise ApiError(400, "InvalidInput", "pageSize must be 1 to 100")
        found = []
        for job in sorted(self.jobs.values(), key=lambda j: j.created_at, reverse=True):
            if (job.kind != kind or job.seller_id != seller or job.created_at < since
                    or not visible(job)):
                continue
            self._progress(job)
            if (types and job.type not in types) or (statuses and job.status not in statuses):
                continue
            found.append(job)
        return found[:size]

    def _feed_json(self, job: Job) -> dict:
        answer = {"feedId": job.id, "feedType": job.type, "marketplaceIds": job.marketplace_ids,
                  "createdTime": iso(job.created_at), "processingStatus": job.status}
        if job.started_at:
            answer["processingStartTime"] = iso(job.started_at)
        if job.ended_at:
            answer["processingEndTime"] = iso(job.ended_at)
        if job.result_document_id:
            answer["resultFeedDocumentId"] = job.result_document_id
        return answer

    def _progress(self, job: Job) -> None:
        """Move a job along the test clock; process it when it reaches DONE. It starts when
        its queue time is over, whenever someone looks (so jittered feeds finish in the order
        of their processing times, not of the polls)."""
        now = self.now()
        queued_until = job.created_at + timedelta(seconds=self.delays["queue"])
        if job.status == "IN_QUEUE" and now >= queued_until:
            job.status, job.started_at = "IN_PROGRESS", queued_until
        if (job.status == "IN_PROGRESS" and not job.stuck and now >= job.started_at
                + timedelta(seconds=self.delays["processing"] + job.jitter)):
            job.ended_at = now
            if job.fatal:
                job.status = "FATAL"
            elif job.kind == "feed":
                job.status = "DONE"
                process = self._process_vat_feed if job.options else self._process_feed
                job.result_document_id = self._store_result(
                    "amzn1.tortuga.3.", "text/xml; charset=UTF-8", process(job))
            else:
                self._finish_report(job)

    def _progress_due(self) -> None:
        """Amazon works on its own: every job whose time has come is processed, in the order
        its processing ends, whoever asks about whichever (a feed nobody polls, such as one
        whose createFeed answer was lost, still applies its refunds when it is due)."""
        def due(job: Job) -> datetime:
            return job.created_at + timedelta(seconds=self.delays["queue"]
                                              + self.delays["processing"] + job.jitter)

        now = self.now()
        for job in sorted((j for j in self.jobs.values()
                           if j.status in ("IN_QUEUE", "IN_PROGRESS") and due(j) <= now),
                          key=due):
            self._progress(job)

    def release_stuck(self) -> None:
        with self.lock:
            self.flags["stuck_feeds"] = False
            for job in self.jobs.values():
                job.stuck = False

    def _process_feed(self, job: Job) -> bytes:
        data = self.documents[job.input_document_id].data or b""
        try:
            merchant, messages = adjustments.parse_envelope(data)
        except adjustments.MalformedFeed as exc:
            return adjustments.processing_report(job.id, [(None, 5000, str(exc))], 0)
        outcomes = []
        for message in messages:
            errors = list(message.errors)
            if merchant != job.seller_id:
                errors.append((E_MERCHANT, f"MerchantIdentifier {merchant} is not the "
                                           "seller who submitted the feed"))
            if not errors:
                errors = self._check_message(message, job.marketplace_ids)
            if errors:
                outcomes.extend((message, code, text) for code, text in errors)
            else:
                self._apply(message, job)
            self._note_outcome(job, message.message_id, errors)
        return adjustments.processing_report(job.id, outcomes, len(messages))

    def _process_vat_feed(self, job: Job) -> bytes:
        """One VAT document per feed: checked, and its invoice number taken if accepted."""
        doc = self.documents[job.input_document_id]
        upload = next(u for u in self.vat_uploads if u["feed_id"] == job.id)
        order = self._order(job.options.get("orderid", ""))
        used = {u["options"]["invoicenumber"] for u in self.vat_uploads
                if u["accepted"] and u["seller_id"] == job.seller_id
                and u["marketplace_id"] == job.marketplace_ids[0]}
        rejection = self.flags.get("reject_vat_invoice") or None
        verdict = vat_invoices.check_document(
            job.options, doc.data, doc.content_type, used,
            order is not None and order["seller_id"] == job.seller_id, rejection)
        if rejection and verdict and verdict[0] == vat_invoices.E_REJECTED:
            self.flags["reject_vat_invoice"] = ""
        upload["accepted"], upload["error"] = verdict is None, verdict[1] if verdict else ""
        outcomes = [] if verdict is None else [(None, verdict[0], verdict[1])]
        return adjustments.processing_report(job.id, outcomes, 1)

    def _note_outcome(self, job: Job, message_id: int, errors: list) -> None:
        for carried in job.messages:
            if carried["message_id"] == message_id:
                carried["applied"] = not errors
                carried["errors"] = [code for code, _text in errors]

    def _check_message(self, message: adjustments.Message, markets: list[str]) -> list:
        order = self._order(message.amazon_order_id)
        if order is None or order["MarketplaceId"] not in markets:
            return [(E_UNKNOWN_ORDER, f"Order {message.amazon_order_id} was not found")]
        if order["OrderStatus"] not in ("Shipped", "Delivered"):
            return [(E_NOT_SHIPPED, f"Order {message.amazon_order_id} has not shipped; cancel "
                                    "it instead")]
        errors, planned, discounts = [], {}, {}
        for item in message.items:
            line = order["items"].get(item.item_code)
            if line is None:
                errors.append((E_UNKNOWN_ITEM, f"AmazonOrderItemCode {item.item_code} is not "
                                               f"an item of order {message.amazon_order_id}"))
                continue
            net = Decimal(0)
            for comp in item.components + item.promotions:
                if comp.currency != order["currency"]:
                    errors.append((E_CURRENCY, f"Currency {comp.currency} differs from the "
                                               f"order's {order['currency']}"))
                net += comp.amount
            for comp in item.components:
                if comp.type in CAPPED_BY:
                    key = (item.item_code, comp.type)
                    planned[key] = planned.get(key, 0) + to_minor(comp.amount, order["currency"])
                elif comp.type == "RestockingFee" and comp.amount > 0:
                    errors.append((E_SIGN, "RestockingFee is a deduction and must not be "
                                           "positive"))
            if any(p.amount > 0 for p in item.promotions):
                errors.append((E_SIGN, "PromotionAdjustments must not be positive"))
            elif item.promotions and "PromotionDiscount" in line:
                discounts[item.item_code] = discounts.get(item.item_code, 0) - sum(
                    to_minor(p.amount, order["currency"]) for p in item.promotions)
            if net <= 0:
                # Seller Central help 30741: a net that is not positive (zero included) is
                # rejected.
                errors.append((E_SIGN, f"The net adjustment amount for item {item.item_code} "
                                       "is not a positive amount and has therefore been "
                                       "rejected"))
        for (code, kind), amount in planned.items():
            line = order["items"][code]
            charged = int(line.get(CAPPED_BY[kind], 0))
            already = line["refunded"].get(kind, 0)
            if amount < 0 or already + amount > charged:
                errors.append((E_OVER_REFUND, f"The requested refund amount for {kind} of "
                                              f"item {code} is not eligible: "
                                              f"{decimal_text(already + amount, order['currency'])}"
                                              f" exceeds the "
                                              f"{decimal_text(charged, order['currency'])} "
                                              "charged"))
        errors += self._check_discounts(message.amazon_order_id, order, discounts)
        return errors

    def _check_discounts(self, order_id: str, order: dict, discounts: dict[str, int]) -> list:
        """A promotion adjustment hands back at most the discount the item had (when the
        order's item says what it was: PromotionDiscount, as getOrderItems shows it)."""
        errors = []
        for code, amount in discounts.items():
            given = int(order["items"][code]["PromotionDiscount"])
            already = -sum(a["charges"].get("Discount", 0) for a in self.applied
                           if a["amazon_order_id"] == order_id and a["item_code"] == code)
            if already + amount > given:
                errors.append((E_OVER_REFUND, f"The requested promotion adjustment for item "
                                              f"{code} is not eligible: "
                                              f"{decimal_text(already + amount, order['currency'])}"
                                              f" exceeds the "
                                              f"{decimal_text(given, order['currency'])} "
                                              "discount given"))
        return errors

    def _apply(self, message: adjustments.Message, job: Job) -> None:
        order = self.orders[message.amazon_order_id]
        currency = order["currency"]
        for item in message.items:
            line = order["items"][item.item_code]
            charges: dict[str, int] = {}
            for comp in item.components:
                minor = to_minor(comp.amount, currency)
                if comp.type in CAPPED_BY:
                    line["refunded"][comp.type] = line["refunded"].get(comp.type, 0) + minor
                charges[comp.type] = charges.get(comp.type, 0) + minor
            for comp in item.promotions:
                charges["Discount"] = charges.get("Discount", 0) + to_minor(comp.amount, currency)
            adjustment_id = f"{secrets.randbelow(10**14):014d}"
            self._refund_event(order, line, charges, adjustment_id,
                               item.merchant_adjustment_item_id, "RefundEventList", "Refund")
            self.applied.append({"feed_id": job.id, "amazon_order_id": order["AmazonOrderId"],
                                 "item_code": item.item_code, "adjustment_id": adjustment_id,
                                 "merchant_adjustment_item_id": item.merchant_adjustment_item_id,
                                 "seller_id": job.seller_id,
                                 "marketplace_id": order["MarketplaceId"],
                                 "currency": currency, "charges": charges})

    def _refund_event(self, order: dict, line: dict, charges: dict[str, int], adjustment_id: str,
                      merchant_adjustment_id: str, event_list: str, settlement_type: str) -> None:
        currency = order["currency"]
        posted = self.now() + timedelta(seconds=self.delays["finance"])
        principal = charges.get("Principal", 0)
        commission = principal * COMMISSION_PERCENT // 100
        fees = {"Commission": commission, "RefundCommission": -(commission // 5)}
        money = lambda v: {"CurrencyCode": currency,  # noqa: E731
                           "CurrencyAmount": float(Decimal(-v).scaleb(-exponent(currency)))}
        self.events.append({"list": event_list, "posted": posted, "event": {
            "AmazonOrderId": order["AmazonOrderId"],
            "MarketplaceName": marketplace_name(order["MarketplaceId"]),
            "PostedDate": iso(posted),
            "ShipmentItemAdjustmentList": [{
                "SellerSKU": line.get("SellerSKU", ""), "OrderItemId": line["OrderItemId"],
                "OrderAdjustmentItemId": adjustment_id,
                "ItemChargeAdjustmentList": [{"ChargeType": k, "ChargeAmount": money(v)}
                                             for k, v in charges.items() if v],
                "ItemFeeAdjustmentList": [{"FeeType": k, "FeeAmount": money(-v)}
                                          for k, v in fees.items() if v]}]}})
        common = {"transaction-type": settlement_type, "order-id": order["AmazonOrderId"],
                  "adjustment-id": adjustment_id,
                  "marketplace-name": marketplace_name(order["MarketplaceId"]),
                  "seller": order["seller_id"], "marketplace-id": order["MarketplaceId"],
                  "fulfillment-id": "MFN", "posted": posted, "currency": currency,
                  "order-item-code": line["OrderItemId"],
                  "merchant-adjustment-item-id": merchant_adjustment_id,
                  "sku": line.get("SellerSKU", "")}
        for kind, value in charges.items():
            if value:
                self.open_lines.append({**common, "amount-type": "ItemPrice",
                                        "amount-description": kind, "amount": -value})
        for kind, value in fees.items():
            if value:
                self.open_lines.append({**common, "amount-type": "ItemFees",
                                        "amount-description": kind, "amount": value})

    def amazon_refund(self, order_id: str, item_code: str, charges: dict[str, int],
                      kind: str = "a-to-z") -> str:
        """A refund Amazon makes on its own (A-to-z claim, auto-refund): Homing must notice it
        and not refund the same money again."""
        with self.lock:
            order = self._order(order_id)
            if order is None or item_code not in order["items"]:
                raise ApiError(404, "NotFound", f"No item {item_code} in order {order_id}")
            line = order["items"][item_code]
            for name, minor in charges.items():
                if name in CAPPED_BY:
                    line["refunded"][name] = line["refunded"].get(name, 0) + int(minor)
            adjustment_id = f"{secrets.randbelow(10**14):014d}"
            self.own_refunds.append({"amazon_order_id": order_id, "item_code": item_code,
                                     "adjustment_id": adjustment_id, "kind": kind,
                                     "charges": {k: int(v) for k, v in charges.items()},
                                     "at": iso(self.now())})
            self._refund_event(order, line, {k: int(v) for k, v in charges.items()},
                               adjustment_id, "",
                               "GuaranteeClaimEventList" if kind == "a-to-z" else
                               "RefundEventList",
                               "A-to-z Guarantee Refund" if kind == "a-to-z" else "Refund")
            return adjustment_id

    # --- finances -------------------------------------------------------------------------------

    def financial_events(self, args: dict, order_id: str | None = None) -> dict:
        with self.lock:
            now = self.now()
            if order_id is None:
                after = parse_time(args.get("PostedAfter"))
                before = parse_time(args.get("PostedBefore")) or now - timedelta(minutes=2)
                if after is None:
                    raise ApiError(400, "InvalidInput", "PostedAfter is required")
                if before > now - timedelta(minutes=2) or after >= before:
                    raise ApiError(400, "InvalidInput", "PostedBefore must be at least two "
                                   "minutes before now and after PostedAfter")
                chosen = [e for e in self.events if after <= e["posted"] < before]
            else:
                chosen = [e for e in self.events
                          if e["event"]["AmazonOrderId"] == order_id and e["posted"] <= now]
            size = int(args.get("MaxResultsPerPage") or 100)
            start = int(args.get("NextToken") or 0)
            page = chosen[start:start + size]
            lists: dict[str, list] = {"RefundEventList": [], "GuaranteeClaimEventList": [],
                                      "ChargebackEventList": [], "ShipmentEventList": []}
            for entry in page:
                lists[entry["list"]].append(entry["event"])
            payload: dict = {"FinancialEvents": lists}
            if start + size < len(chosen):
                payload["NextToken"] = str(start + size)
            return {"payload": payload}

    def close_settlement(self, date_format: str = "iso", encoding: str | None = None) -> dict:
        """Cut the open settlement period into V2 flat-file reports visible in getReports: one
        per seller account, marketplace and currency, as Amazon settles each account apart.
        Answers the first settlement, with every one cut under ``settlements``."""
        with self.lock:
            now = self.now()
            due = [ln for ln in self.open_lines if ln["posted"] <= now]
            self.open_lines = [ln for ln in self.open_lines if ln["posted"] > now]
            start = self.settlements[-1]["end"] if self.settlements else now - timedelta(days=14)
            groups: dict[tuple[str, str, str], list[dict]] = {}
            for ln in due:
                key = (ln.get("seller", SANDBOX_DEFAULT_SELLER),
                       ln.get("marketplace-id", "ATVPDKIKX0DER"), ln["currency"])
                groups.setdefault(key, []).append(ln)
            if not groups:
                sellers = {o["seller_id"] for o in self.orders.values()} or {SANDBOX_DEFAULT_SELLER}
                groups[(sorted(sellers)[0], "ATVPDKIKX0DER", "USD")] = []
            records = [self._settle(seller, market, currency, lines, start, now, date_format,
                                    encoding)
                       for (seller, market, currency), lines in sorted(groups.items())]
            self.settlements.extend(records)
            shown = [{**r, "start": iso(r["start"]), "end": iso(r["end"])} for r in records]
            return {**shown[0], "settlements": shown}

    def _settle(self, seller: str, market: str, currency: str, due: list[dict],
                start: datetime, now: datetime, date_format: str, encoding: str | None) -> dict:
        settlement_id = f"{secrets.randbelow(10**11):011d}"
        total = sum(ln["amount"] for ln in due)
        stamp = (lambda d: d.strftime("%Y/%m/%d %H:%M:%S UTC")) if date_format == "slash" \
            else (lambda d: d.strftime("%Y-%m-%d %H:%M:%S UTC"))
        out = io.StringIO()
        writer = csv.writer(out, delimiter="\t", lineterminator="\n")
        writer.writerow(SETTLEMENT_COLUMNS)
        writer.writerow([settlement_id, stamp(start), stamp(now), stamp(now),
                         decimal_text(total, currency), currency] + [""] * 18)
        for ln in due:
            row = {**ln, "settlement-id": settlement_id,
                   "amount": decimal_text(ln["amount"], ln["currency"]),
                   "posted-date": ln["posted"].strftime("%Y-%m-%d"),
                   "posted-date-time": stamp(ln["posted"]), "quantity-purchased": ""}
            writer.writerow([row.get(col, "") for col in SETTLEMENT_COLUMNS])
        report = Job(self._next_id(), "report", SETTLEMENT_REPORT, seller, [market], now,
                     status="DONE", started_at=now, ended_at=now)
        enc = encoding or self.flags["encoding"]
        report.result_document_id = self._store_result(
            "amzn1.spdoc.1.4.na.", "text/plain", out.getvalue().encode(enc, "replace"))
        self.jobs[report.id] = report
        return {"settlement_id": settlement_id, "report_id": report.id, "start": start,
                "end": now, "lines": len(due), "total": total, "currency": currency,
                "seller_id": seller, "marketplace_id": market}

    # --- reports --------------------------------------------------------------------------------

    def create_report(self, seller: str, body: dict) -> str:
        with self.lock:
            report_type = body.get("reportType")
            if report_type == SETTLEMENT_REPORT:
                raise ApiError(400, "InvalidInput", "Settlement reports cannot be requested; "
                                                    "Amazon generates them (use getReports)")
            if report_type not in RETURNS_REPORTS:
                raise ApiError(400, "InvalidInput", f"reportType {report_type!r} is not "
                                                    "supported by this sandbox")
            markets = body.get("marketplaceIds") or []
            if not markets:
                raise ApiError(400, "InvalidInput", "marketplaceIds is required")
            now = self.now()
            end = parse_time(body.get("dataEndTime")) or now
            start = parse_time(body.get("dataStartTime")) or end - timedelta(days=30)
            if not start <= end <= now + timedelta(minutes=5):
                raise ApiError(400, "InvalidInput", "dataStartTime must not be after "
                                                    "dataEndTime, which must not be in the future")
            if report_type != RETURNS_REPORTS[2] and end - start > timedelta(days=60):
                raise ApiError(400, "InvalidInput", "A returns report covers at most 60 days")
            job = Job(self._next_id(), "report", report_type, seller, markets, now,
                      data_start=start, data_end=end)
            if self.flags["fatal_reports"]:
                self.flags["fatal_reports"] -= 1
                job.fatal = True
            self.jobs[job.id] = job
            return job.id

    def report(self, seller: str, report_id: str) -> dict:
        with self.lock:
            return self._report_json(self._job(seller, "report", report_id))

    def reports(self, seller: str, args: dict) -> dict:
        with self.lock:
            return {"reports": [self._report_json(j) for j in
                                self._filter_jobs(seller, "report", args, "reportTypes")]}

    def _report_json(self, job: Job) -> dict:
        answer = {"reportId": job.id, "reportType": job.type,
                  "marketplaceIds": job.marketplace_ids, "createdTime": iso(job.created_at),
                  "processingStatus": job.status}
        for key, value in (("dataStartTime", job.data_start), ("dataEndTime", job.data_end),
                           ("processingStartTime", job.started_at),
                           ("processingEndTime", job.ended_at)):
            if value:
                answer[key] = iso(value)
        if job.result_document_id:
            answer["reportDocumentId"] = job.result_document_id
        return answer

    def _finish_report(self, job: Job) -> None:
        if job.type == RETURNS_REPORTS[2]:
            rows = [r for r in self.fba_returns if self._in_window(job, r.get("return-date"))]
        else:
            rows = [r for r in self.returns if self._in_window(job, r.get("Return request date"))]
        if not rows:
            job.status = "CANCELLED"  # Amazon cancels a report with no data
            return
        if job.type == RETURNS_REPORTS[1]:
            data, content_type = _returns_xml(rows), "text/xml"
        else:
            columns = FBA_RETURNS_COLUMNS if job.type == RETURNS_REPORTS[2] \
                else FLAT_RETURNS_COLUMNS
            out = io.StringIO()
            writer = csv.writer(out, delimiter="\t", lineterminator="\n")
            writer.writerow(columns)
            for row in rows:
                writer.writerow([row.get(col, "") for col in columns])
            data, content_type = out.getvalue(), "text/plain"
        job.status = "DONE"
        job.result_document_id = self._store_result(
            "amzn1.spdoc.1.4.na.", content_type, data.encode(self.flags["encoding"], "replace"))

    def _in_window(self, job: Job, value: str | None) -> bool:
        moment = parse_time(value) if value else None
        return moment is not None and job.data_start <= moment <= job.data_end

    # --- orders ---------------------------------------------------------------------------------

    def order(self, seller: str, order_id: str, elements: set[str] = frozenset()) -> dict:
        """getOrder; the address and buyer's e-mail only with an RDT that grants them."""
        with self.lock:
            order = self._order(order_id)
            if order is None or order["seller_id"] != seller:
                raise ApiError(404, "NotFound", f"Order {order_id} was not found")
            keys = ("AmazonOrderId", "OrderStatus", "PurchaseDate", "FulfillmentChannel",
                    "IsBusinessOrder", "MarketplaceId")
            payload = {k: order[k] for k in keys}
            if order.get("LatestDeliveryDate"):
                payload["LatestDeliveryDate"] = order["LatestDeliveryDate"]
            address = order.get("ShippingAddress") or {}
            # Without an RDT Amazon still shows the town and postal code, never the name,
            # street or phone (the Address model's restricted fields).
            payload["ShippingAddress"] = (dict(address) if "shippingAddress" in elements else
                                          {k: address[k] for k in ("City", "StateOrRegion",
                                                                   "PostalCode", "CountryCode")
                                           if k in address})
            if "buyerInfo" in elements:
                payload["BuyerInfo"] = dict(order.get("BuyerInfo") or {})
            if "buyerTaxInformation" in elements and order.get("BuyerTaxInformation"):
                payload["BuyerTaxInformation"] = dict(order["BuyerTaxInformation"])
            return {"payload": payload}

    def buyer_info(self, seller: str, order_id: str) -> dict:
        """getOrderBuyerInfo (a restricted operation: the route lets only an RDT through)."""
        with self.lock:
            self.order(seller, order_id)
            info = dict(self.orders[order_id].get("BuyerInfo") or {})
            return {"payload": {"AmazonOrderId": order_id, **info}}

    def rdt_covers(self, token: str | None, path: str) -> bool:
        """Whether ``token`` is a Restricted Data Token granted for ``path``."""
        with self.lock:
            _seller, paths, expires = self.rdts.get(token or "", ("", {}, self.now()))
            return path in paths and expires > self.now()

    def order_items(self, seller: str, order_id: str) -> dict:
        with self.lock:
            self.order(seller, order_id)
            order = self.orders[order_id]
            currency = order["currency"]
            items = []
            for line in order["items"].values():
                item = {k: line[k] for k in ("OrderItemId", "SellerSKU", "ASIN", "Title",
                                             "QuantityOrdered", "QuantityShipped") if k in line}
                if line.get("SerialNumbers") and order["FulfillmentChannel"] == "AFN":
                    item["SerialNumbers"] = list(line["SerialNumbers"])  # FBA orders only
                for key in ("ItemPrice", "ItemTax", "ShippingPrice", "ShippingTax"):
                    item[key] = {"CurrencyCode": currency,
                                 "Amount": decimal_text(int(line.get(key, 0)), currency)}
                items.append(item)
            return {"payload": {"AmazonOrderId": order_id, "OrderItems": items}}

    # --- catalog items (catalogItems_2022-04-01.json, getCatalogItem) ----------------------------

    CATALOG_DATA = ("attributes", "dimensions", "identifiers", "images", "productTypes",
                    "relationships", "salesRanks", "summaries", "vendorDetails")

    def catalog_item(self, asin: str, params: dict[str, str]) -> dict:
        """getCatalogItem. The sandbox's catalog holds identifiers and item names only: the
        other data sets it is asked for come back empty (a real item has them)."""
        markets = [m for m in (params.get("marketplaceIds") or "").split(",") if m]
        if not markets:
            raise ApiError(400, "InvalidInput", "Missing required 'marketplaceIds'.")
        included = [d for d in (params.get("includedData") or "summaries").split(",") if d]
        unknown = [d for d in included if d not in self.CATALOG_DATA]
        if unknown:
            raise ApiError(400, "InvalidInput",
                           f"Invalid value(s) for 'includedData': {', '.join(unknown)}.")
        if not re.fullmatch(r"[0-9A-Z]{10}", asin):
            raise ApiError(400, "InvalidInput", f"Invalid ASIN '{asin}'.")
        with self.lock:
            found = {m: self.catalog[(m, asin)] for m in markets if (m, asin) in self.catalog}
        if not found:
            raise ApiError(404, "NOT_FOUND", f"Requested item '{asin}' not found in marketplace "
                                             f"{', '.join(markets)}.")
        item: dict = {"asin": asin}
        for name in included:
            if name == "identifiers":
                item[name] = [{"marketplaceId": m, "identifiers": list(d["identifiers"])}
                              for m, d in found.items()]
            elif name == "summaries":
                item[name] = [{"marketplaceId": m, "itemName": d["itemName"]}
                              for m, d in found.items() if d["itemName"]]
            else:
                item[name] = {} if name == "attributes" else []
        return item

    # --- inspection ---------------------------------------------------------------------------

    # --- Vendor Central: invoices and transaction status ------------------------------------

    def submit_invoices(self, vendor: str, body: dict) -> str:
        with self.lock:
            try:
                return self.vendor.submit(vendor, body)
            except InvalidRequest as exc:
                raise ApiError(400, "InvalidInput", str(exc)) from None

    def vendor_transaction(self, vendor: str, transaction_id: str) -> dict:
        with self.lock:
            answer = self.vendor.status(vendor, transaction_id)
            if answer is None:
                raise ApiError(404, "NotFound", f"No transaction {transaction_id}.")
            return answer

    def state(self) -> dict:
        with self.lock:
            feeds = [j for j in self.jobs.values() if j.kind == "feed"]
            self._progress_due()
            return {"now": iso(self.now()), "speed": self._speed,
                    "feeds": [{**self._feed_json(j), "answer": j.answer,
                               "listedTime": iso(j.listed_at), "messages": j.messages}
                              for j in feeds],
                    "applied": self.applied, "own_refunds": self.own_refunds,
                    "vat_uploads": self.vat_uploads,
                    "faults_pending": self.pending_faults(), "faults_fired": self.fired,
                    "consistency": self.consistency, "requests": self.requests,
                    "throttled": self.throttled, "open_settlement_lines": len(self.open_lines),
                    "settlements": [{**s, "start": iso(s["start"]), "end": iso(s["end"])}
                                    for s in self.settlements],
                    "orders": len(self.orders), "flags": self.flags, "delays": self.delays,
                    "vendor_invoices": self.vendor.submitted,
                    "accounts": sorted({seller for seller, _c in self.sellers.values()}),
                    "revoked": len(self.revoked)}


MARKETPLACE_NAMES = {"ATVPDKIKX0DER": "Amazon.com", "A2EUQ1WTGCTBG2": "Amazon.ca",
                     "A1PA6795UKMFR9": "Amazon.de", "A1F83G8C2ARO7P": "Amazon.co.uk",
                     "A13V1IB3VIYZZH": "Amazon.fr", "A1RKKUPIHCS9HS": "Amazon.es",
                     "APJ6JRA9NG5V4": "Amazon.it", "A1VC38T7YXB528": "Amazon.co.jp"}


def marketplace_name(marketplace_id: str) -> str:
    """The ``marketplace-name`` Amazon writes in settlements and financial events."""
    return MARKETPLACE_NAMES.get(marketplace_id, "Amazon.com")


def _fault_error(operation: str, status: int, throttled: dict[str, int]) -> ApiError:
    if status == 429:
        throttled[operation] = throttled.get(operation, 0) + 1
        return ApiError(429, "QuotaExceeded", "You exceeded your quota for the requested "
                                              "resource.")
    if status >= 500:
        return ApiError(status, "InternalFailure" if status == 500 else "ServiceUnavailable",
                        "We encountered an internal error.")
    return ApiError(status, "InvalidInput", "The request was rejected (injected fault).")


def _carried(data: bytes | None) -> list[dict]:
    """The refund messages an order-adjustment feed carries: MessageID, order and our
    MerchantAdjustmentItemIDs (what the campaign's invariants count); none if unreadable."""
    try:
        _merchant, messages = adjustments.parse_envelope(data or b"")
    except (adjustments.MalformedFeed, ValueError):
        return []
    return [{"message_id": m.message_id, "amazon_order_id": m.amazon_order_id,
             "merchant_adjustment_item_ids": [i.merchant_adjustment_item_id for i in m.items],
             "applied": None, "errors": []} for m in messages]


def _csv(value) -> list[str]:
    if not value:
        return []
    if isinstance(value, list | tuple):
        return [p for v in value for p in _csv(v)]
    return [p.strip() for p in str(value).split(",") if p.strip()]


def _returns_xml(rows: list[dict]) -> str:
    root = ET.Element("root")
    for row in rows:
        detail = ET.SubElement(root, "return_details")
        for tag, col in (("order_id", "Order ID"), ("order_date", "Order date"),
                         ("amazon_rma_id", "Amazon RMA ID"),
                         ("return_request_date", "Return request date"),
                         ("return_request_status", "Return request status"),
                         ("a_to_z_claim", "A-to-Z Claim"), ("is_prime", "Is prime"),
                         ("label_to_be_paid_by", "Label to be paid by"),
                         ("return_type", "Return type"), ("order_amount", "Order Amount"),
                         ("order_quantity", "Order quantity")):
            ET.SubElement(detail, tag).text = str(row.get(col, ""))
        item = ET.SubElement(detail, "item_details")
        for tag, col in (("item_name", "Item Name"), ("asin", "ASIN"),
                         ("return_reason_code", "Return Reason"), ("merchant_sku", "Merchant SKU"),
                         ("in_policy", "In policy"), ("return_quantity", "Return quantity"),
                         ("resolution", "Resolution"), ("refund_amount", "Refunded Amount")):
            ET.SubElement(item, tag).text = str(row.get(col, ""))
    return ET.tostring(root, encoding="unicode")
