"""Homing's door to Amazon: python-amazon-sp-api, pointed at Amazon or at the built-in sandbox
by configuration, behind Homing's own token buckets.

Credentials come from ``HOMING_AMAZON_CREDENTIALS_FILE`` (JSON with ``refresh_token``,
``lwa_app_id``, ``lwa_client_secret``) or python-amazon-sp-api's own environment variables
(``SP_API_REFRESH_TOKEN``, ``LWA_APP_ID``, ``LWA_CLIENT_SECRET``); never from the database.
In sandbox mode the sandbox's fixed test credentials are used.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from flask import Flask
from sp_api.api import CatalogItems, CatalogItemsVersion, Feeds, Finances, Orders, Reports
from sp_api.auth import access_token_client
from sp_api.auth.access_token_client import AccessTokenClient
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base import CredentialProvider, Marketplaces
from sp_api.base.exceptions import (
    SellingApiException,
    SellingApiForbiddenException,
    SellingApiGatewayTimeoutException,
    SellingApiRequestThrottledException,
    SellingApiServerException,
    SellingApiTemporarilyUnavailableException,
)

from hub.amazon import feed as feed_xml
from hub.amazon.credentials import SANDBOX_CLIENT, SANDBOX_DEFAULT_TOKEN
from hub.amazon.ratelimit import Buckets

SANDBOX_CREDENTIALS = {"refresh_token": SANDBOX_DEFAULT_TOKEN, "lwa_app_id": SANDBOX_CLIENT[0],
                       "lwa_client_secret": SANDBOX_CLIENT[1]}
TIMEOUT = 30.0
VAT_INVOICE_FEED = "UPLOAD_VAT_INVOICE"
# The personal data a business order's documents need, and no more (Tokens API dataElements).
BUSINESS_DATA_ELEMENTS = ("buyerInfo", "buyerTaxInformation")
FEED_SETTLE_SECONDS = 180.0


class Throttled(Exception):
    """No token for this call yet (ours or Amazon's 429): try again after ``wait`` seconds."""

    def __init__(self, operation: str, wait: float):
        super().__init__(f"{operation} throttled; retry in {wait:.1f}s")
        self.operation, self.wait = operation, wait


class AmazonError(Exception):
    """Amazon answered with an error that retrying the same call will not fix by itself."""

    def __init__(self, operation: str, code: str, message: str, status: int | None = None):
        super().__init__(f"{operation}: {code} {message}")
        self.operation, self.code, self.message, self.status = operation, code, message, status


class AmazonUnsure(AmazonError):
    """We do not know what Amazon did: a 5xx, a timeout, a dropped connection or an answer we
    could not read. For a call that changes something at Amazon (createFeed) this is never a
    "no": the work may have been done."""


class CredentialsRefused(AmazonError):
    """Amazon's sign-in (LWA) refused the account's credentials: the refresh token expired or
    was revoked, or the client id or secret is wrong. Certain that the SP-API call itself never
    went out (the token comes first)."""


UNSURE_EXCEPTIONS = (SellingApiServerException, SellingApiTemporarilyUnavailableException,
                     SellingApiGatewayTimeoutException)


def marketplace(marketplace_id: str) -> Marketplaces:
    for member in Marketplaces:
        if member.marketplace_id == marketplace_id:
            return member
    raise ValueError(f"unknown marketplace id {marketplace_id!r}")


def load_credentials(app: Flask) -> dict | None:
    if app.config.get("AMAZON_MODE") == "sandbox":
        return dict(SANDBOX_CREDENTIALS)
    path = app.config.get("AMAZON_CREDENTIALS_FILE")
    if path:
        return json.loads(Path(path).read_text())
    return None  # python-amazon-sp-api reads its environment variables


class _HostHeader:
    """python-amazon-sp-api sends ``host: endpoint[8:]``, which assumes https and no path; a
    local sandbox on http with a path prefix needs the real host."""

    def __init__(self, inner, host: str):
        self.inner, self.host = inner, host

    def request(self, method, url, **kwargs):
        kwargs["headers"] = {**(kwargs.get("headers") or {}), "host": self.host}
        return self.inner.request(method, url, **kwargs)

    def __getattr__(self, name):
        return getattr(self.inner, name)


class Connector:
    """One seller account. Every call takes a token from our bucket first; Amazon's 429 and
    our empty bucket both raise Throttled; an expired access token is refreshed once."""

    def __init__(self, *, seller_id: str, endpoint: str | None, lwa_url: str | None,
                 credentials: dict | None, buckets: Buckets, timeout: float = TIMEOUT,
                 feed_settle_seconds: float = FEED_SETTLE_SECONDS):
        self.seller_id, self.endpoint, self.buckets = seller_id, endpoint, buckets
        self.credentials, self.timeout = credentials, timeout
        # How long after a createFeed call Amazon's feed list is trusted to show the feed if
        # one was made: longer than our own call can last, plus the list's lag.
        self.feed_settle_seconds = max(float(feed_settle_seconds), float(timeout) + 5)
        self.token_client = AccessTokenClient
        if lwa_url:
            parts = urlsplit(lwa_url)
            self.token_client = type("LocalTokenClient", (AccessTokenClient,), {
                "scheme": parts.scheme + "://", "host": parts.netloc + parts.path.rstrip("/")})
        self.on_event: Callable[[str, str], None] = lambda operation, outcome: None
        # More listeners of (operation, outcome): "ok", "throttled", "refused:<code>".
        self.observers: list[Callable[[str, str], None]] = []

    def _event(self, operation: str, outcome: str) -> None:
        self.on_event(operation, outcome)
        for observer in self.observers:
            observer(operation, outcome)

    def after_create_feed(self, feed_id: str) -> None:
        """Called between Amazon's answer to createFeed and our commit (tests crash here)."""

    @classmethod
    def from_app(cls, app: Flask, seller_id: str, *, credentials: dict | None | bool = False
                 ) -> Connector:
        """``credentials``: the account's (hub.amazon.accounts.credentials_for); left out,
        the single-account settings."""
        from hub.jobs.queue import redis_connection

        endpoint = app.config.get("AMAZON_ENDPOINT")
        if app.config.get("AMAZON_MODE") == "sandbox" and not endpoint:
            raise RuntimeError("AMAZON_ENDPOINT must point at the sandbox (the demo sets it)")
        buckets = app.extensions.get("homing_spapi_buckets")
        if buckets is None:
            buckets = Buckets(redis_connection(app),
                              float(app.config.get("AMAZON_RATE_MULTIPLIER", 1.0)))
            app.extensions["homing_spapi_buckets"] = buckets
        return cls(seller_id=seller_id, endpoint=endpoint,
                   lwa_url=app.config.get("AMAZON_LWA_URL") or endpoint,
                   credentials=load_credentials(app) if credentials is False else credentials,
                   buckets=buckets,
                   timeout=float(app.config.get("AMAZON_HTTP_TIMEOUT") or TIMEOUT),
                   feed_settle_seconds=float(app.config.get("AMAZON_FEED_SETTLE_SECONDS")
                                             or FEED_SETTLE_SECONDS))

    # --- plumbing ---------------------------------------------------------------------------

    def _client(self, api, marketplace_id: str):
        client = api(marketplace(marketplace_id), credentials=self.credentials,
                     auth_token_client_class=self.token_client, timeout=self.timeout)
        if self.endpoint:
            client.endpoint = self.endpoint.rstrip("/")
            client._transport = _HostHeader(client._transport, urlsplit(self.endpoint).netloc)
        return client

    def call(self, operation: str, func: Callable):
        wait = self.buckets.take(self.seller_id, operation)
        if wait > 0:
            self._event(operation, "throttled")
            raise Throttled(operation, wait)
        for attempt in (1, 2):
            try:
                result = func()
            except SellingApiRequestThrottledException as exc:
                self._event(operation, "throttled")
                raise Throttled(operation, 2.0) from exc
            except SellingApiForbiddenException as exc:
                if attempt == 1 and getattr(exc, "amzn_code", "") == "Unauthorized":
                    access_token_client.cache.clear()  # the access token expired: refresh it
                    continue
                raise _error(operation, exc) from exc
            except UNSURE_EXCEPTIONS as exc:
                raise AmazonUnsure(operation, getattr(exc, "amzn_code", "") or "ServerError",
                                   getattr(exc, "message", "") or type(exc).__name__,
                                   getattr(exc, "code", None)) from exc
            except SellingApiException as exc:
                raise _error(operation, exc) from exc
            except AuthorizationError as exc:
                raise self._refused(operation, exc) from exc
            except (httpx.TransportError, OSError) as exc:
                # Sent or not, answered or not: we cannot tell.
                raise AmazonUnsure(operation, "NoAnswer", f"{type(exc).__name__}: {exc}") \
                    from exc
            self._event(operation, "ok")
            return result
        raise AssertionError("unreachable")

    def _refused(self, operation: str, exc: AuthorizationError) -> CredentialsRefused:
        code = str(getattr(exc, "error_code", "") or "refused")
        self._event(operation, f"refused:{code}")
        return CredentialsRefused(operation, code, str(getattr(exc, "message", "") or code),
                                  getattr(exc, "status_code", None))

    def sign_in(self) -> None:
        """Ask LWA for a fresh access token with these credentials, past any cached one:
        CredentialsRefused when LWA says no; transport errors when it does not answer."""
        config = CredentialProvider(credentials=self.credentials).credentials
        client = self.token_client(credentials=config)
        try:
            client._request(client.scheme + client.host + client.path, client.data,
                            client.headers)
        except AuthorizationError as exc:
            raise self._refused("signIn", exc) from exc

    def _download(self, url: str, compression: str | None) -> bytes:
        try:
            response = httpx.get(url, timeout=self.timeout)
        except httpx.TransportError as exc:
            raise AmazonUnsure("download", "NoAnswer", f"{type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise AmazonError("download", "DocumentUnavailable",
                              f"HTTP {response.status_code}: {response.text[:200]}",
                              response.status_code)
        data = response.content
        if compression == "GZIP":
            data = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else \
                zlib.decompress(data, 15 + 32)
        return data

    # --- feeds ------------------------------------------------------------------------------

    def upload_feed(self, marketplace_id: str, document: bytes,
                    content_type: str = feed_xml.CONTENT_TYPE) -> str:
        import io

        client = self._client(Feeds, marketplace_id)
        response = self.call("createFeedDocument", lambda: client.create_feed_document(
            io.BytesIO(document), content_type))
        return response.payload["feedDocumentId"]

    def create_vat_invoice_feed(self, marketplace_id: str, document_id: str,
                                options: dict[str, str]) -> str:
        """createFeed for an ``UPLOAD_VAT_INVOICE`` PDF with its ``feedOptions`` (the
        ``metadata:`` keys Amazon documents for invoices and credit notes)."""
        client = self._client(Feeds, marketplace_id)
        response = self.call("createFeed", lambda: client.create_feed(
            VAT_INVOICE_FEED, document_id, marketplaceIds=[marketplace_id],
            feedOptions=dict(options)))
        feed_id = (response.payload or {}).get("feedId") if isinstance(response.payload, dict) \
            else None
        if not feed_id:
            raise AmazonUnsure("createFeed", "UnreadableAnswer", "no feedId in the answer")
        return str(feed_id)

    def create_feed(self, marketplace_id: str, document_id: str) -> str:
        client = self._client(Feeds, marketplace_id)
        response = self.call("createFeed", lambda: client.create_feed(
            feed_xml.FEED_TYPE, document_id, marketplaceIds=[marketplace_id]))
        feed_id = (response.payload or {}).get("feedId") if isinstance(response.payload, dict) \
            else None
        if not feed_id:  # e.g. a 5xx page without Amazon's error body
            raise AmazonUnsure("createFeed", "UnreadableAnswer", "no feedId in the answer")
        return str(feed_id)

    def get_feed(self, marketplace_id: str, feed_id: str) -> dict:
        client = self._client(Feeds, marketplace_id)
        return self.call("getFeed", lambda: client.get_feed(feed_id)).payload

    def recent_feeds(self, marketplace_id: str, since: datetime,
                     feed_type: str = feed_xml.FEED_TYPE) -> list[dict]:
        """Every feed of ``feed_type`` (by default the adjustment feed) created since
        ``since``, all pages (a partial list would let a feed go unseen)."""
        client = self._client(Feeds, marketplace_id)
        feeds: list[dict] = []
        params = {"feedTypes": [feed_type], "pageSize": 100,
                  "createdSince": since.strftime("%Y-%m-%dT%H:%M:%SZ")}
        while True:
            payload = self.call("getFeeds", lambda p=params: client.get_feeds(**p)).payload
            if not isinstance(payload, dict):
                raise AmazonUnsure("getFeeds", "UnreadableAnswer", "no feed list in the answer")
            feeds.extend(payload.get("feeds", []))
            if not payload.get("nextToken"):
                return feeds
            params = {"nextToken": payload["nextToken"]}

    def feed_result(self, marketplace_id: str, document_id: str) -> bytes:
        client = self._client(Feeds, marketplace_id)
        path = f"/feeds/2021-06-30/documents/{document_id}"
        meta = self.call("getFeedDocument", lambda: client._request(
            path, params={}, add_marketplace=False)).payload
        return self._download(meta["url"], meta.get("compressionAlgorithm"))

    # --- finances, reports, orders ----------------------------------------------------------

    def order_financial_events(self, marketplace_id: str, order_id: str) -> dict:
        client = self._client(Finances, marketplace_id)
        return self.call("listFinancialEventsByOrderId",
                         lambda: client.get_financial_events_for_order(order_id)).payload

    def financial_events(self, marketplace_id: str, after: datetime, before: datetime,
                         next_token: str | None = None) -> dict:
        client = self._client(Finances, marketplace_id)
        params = {"NextToken": next_token} if next_token else {
            "PostedAfter": after.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "PostedBefore": before.strftime("%Y-%m-%dT%H:%M:%SZ"), "MaxResultsPerPage": 100}
        return self.call("listFinancialEvents",
                         lambda: client.list_financial_events(**params)).payload

    def create_report(self, marketplace_id: str, report_type: str, start: datetime,
                      end: datetime) -> str:
        client = self._client(Reports, marketplace_id)
        response = self.call("createReport", lambda: client.create_report(
            reportType=report_type, marketplaceIds=[marketplace_id],
            dataStartTime=start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            dataEndTime=end.strftime("%Y-%m-%dT%H:%M:%SZ")))
        return str(response.payload["reportId"])

    def get_report(self, marketplace_id: str, report_id: str) -> dict:
        client = self._client(Reports, marketplace_id)
        return self.call("getReport", lambda: client.get_report(report_id)).payload

    def list_reports(self, marketplace_id: str, report_type: str, since: datetime) -> list[dict]:
        client = self._client(Reports, marketplace_id)
        response = self.call("getReports", lambda: client.get_reports(
            reportTypes=[report_type], createdSince=since.strftime("%Y-%m-%dT%H:%M:%SZ"),
            pageSize=100))
        return response.payload.get("reports", [])

    def report_document(self, marketplace_id: str, document_id: str) -> bytes:
        client = self._client(Reports, marketplace_id)
        meta = self.call("getReportDocument",
                         lambda: client.get_report_document(document_id)).payload
        return self._download(meta["url"], meta.get("compressionAlgorithm"))

    def order(self, marketplace_id: str, order_id: str, *, with_email: bool = False
              ) -> dict | None:
        """getOrder, or None when Amazon does not know the order. The buyer's e-mail is
        personal data: asked for (through a Restricted Data Token) only when ``with_email``."""
        client = self._client(Orders, marketplace_id)
        extra = {"RestrictedResources": ["buyerInfo"]} if with_email else {}
        if with_email:
            wait = self.buckets.take(self.seller_id, "createRestrictedDataToken")
            if wait > 0:
                raise Throttled("createRestrictedDataToken", wait)
        try:
            return self.call("getOrder", lambda: client.get_order(order_id, **extra)).payload
        except AmazonError as exc:
            if exc.status == 404 or exc.code == "NotFound":
                return None
            raise

    def business_buyer(self, marketplace_id: str, order_id: str) -> dict | None:
        """getOrder with a Restricted Data Token for the buyer's PO number, company and tax
        ids only (dataElements buyerInfo and buyerTaxInformation; no shipping address).
        None when Amazon does not know the order."""
        client = self._client(Orders, marketplace_id)
        wait = self.buckets.take(self.seller_id, "createRestrictedDataToken")
        if wait > 0:
            raise Throttled("createRestrictedDataToken", wait)
        try:
            return self.call("getOrder", lambda: client.get_order(
                order_id, RestrictedResources=list(BUSINESS_DATA_ELEMENTS))).payload
        except AmazonError as exc:
            if exc.status == 404 or exc.code == "NotFound":
                return None
            raise

    def order_items(self, marketplace_id: str, order_id: str) -> list[dict]:
        client = self._client(Orders, marketplace_id)
        return self.call("getOrderItems",
                         lambda: client.get_order_items(order_id)).payload.get("OrderItems", [])


    def catalog_identifiers(self, marketplace_id: str, asin: str) -> list[dict] | None:
        """getCatalogItem (2022-04-01) with includedData=identifiers: the item's identifiers
        in ``marketplace_id`` ([{"identifierType": "EAN", "identifier": ...}]), or None when
        Amazon does not know the ASIN there."""
        client = self._client(lambda mp, **kw: CatalogItems(
            mp, version=CatalogItemsVersion.V_2022_04_01, **kw), marketplace_id)
        try:
            item = self.call("getCatalogItem", lambda: client.get_catalog_item(
                asin, marketplaceIds=marketplace_id, includedData="identifiers")).payload
        except AmazonError as exc:
            if exc.status == 404 or exc.code in ("NotFound", "NOT_FOUND"):
                return None
            raise
        if not isinstance(item, dict):
            raise AmazonUnsure("getCatalogItem", "UnreadableAnswer", "no item in the answer")
        for group in item.get("identifiers") or []:
            if group.get("marketplaceId") == marketplace_id:
                return [i for i in group.get("identifiers") or [] if isinstance(i, dict)]
        return []


def _error(operation: str, exc: SellingApiException) -> AmazonError:
    return AmazonError(operation, getattr(exc, "amzn_code", "") or type(exc).__name__,
                       getattr(exc, "message", "") or str(exc), getattr(exc, "code", None))


def decode_text(data: bytes) -> str:
    """Amazon's documents declare no encoding; UTF-8 first, then the Windows code page most
    marketplaces' files use (the fall-back never fails, so nothing is lost)."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")
