"""HTTP face of the SP-API sandbox: Amazon's paths and shapes, plus the test-control API
under ``/_emu/``. Thin: every decision is in ``hub.sandbox.emulator``."""

from __future__ import annotations

import contextlib
import socket
import uuid
from functools import wraps

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from hub.sandbox.emulator import (
    RATES,
    ApiError,
    Dropped,
    Emulator,
    Fault,
    LwaError,
    make_fault,
)

bp = Blueprint("sandbox", __name__)


def emulator() -> Emulator:
    return current_app.extensions["homing_sandbox"]


def _answer(body: dict | None, status: int, operation: str | None) -> Response:
    response = jsonify(body) if body is not None else Response(status=status)
    response.status_code = status
    response.headers["x-amzn-RequestId"] = str(uuid.uuid4())
    if operation and (200 <= status < 300 or status in (400, 404)):
        response.headers["x-amzn-RateLimit-Limit"] = str(RATES.get(operation, (5, 15))[0])
    return response


def operation(name: str, status: int = 200):
    """An SP-API operation: authorise, throttle, run, and answer in Amazon's error shape;
    an injected fault may strike before the work or after it (see ``emu_faults``)."""

    def wrap(func):
        @wraps(func)
        def view(*args, **kwargs):
            try:
                seller, after = emulator().authorize_call(
                    request.headers.get("x-amz-access-token"), name, _spapi_path())
            except Dropped:
                return _drop_connection()
            except ApiError as exc:
                return _error_answer(exc, name)
            try:
                body, code = func(seller, *args, **kwargs), status
            except ApiError as exc:
                body, code = None, exc
            if after is not None:
                return _after_work(name, after, body)
            return _error_answer(code, name) if body is None else _answer(body, code, name)

        return view

    return wrap


def _error_answer(exc: ApiError, operation: str) -> Response:
    return _answer({"errors": [{"code": exc.code, "message": exc.message, "details": ""}]},
                   exc.status, operation)


def _after_work(operation: str, fault: Fault, body: dict | None) -> Response:
    """The work is done (or refused on its merits); the caller hears an error or nothing."""
    if operation == "createFeed" and body and "feedId" in body:
        emulator().answer_lost(body["feedId"], fault.kind)
    if fault.lose_answer:
        return _drop_connection()
    return _answer({"errors": [{"code": "InternalFailure" if fault.status == 500 else
                                "ServiceUnavailable", "message": "We encountered an internal "
                                "error. Please try again.", "details": ""}]},
                   fault.status, operation)


class _NoAnswer:
    """A response body that tells the server the peer is gone: werkzeug's dev server then
    drops the request quietly (it treats ConnectionError as a client that hung up)."""

    def __iter__(self):
        return self

    def __next__(self):
        raise BrokenPipeError("the sandbox dropped the connection (injected fault)")


def _drop_connection() -> Response:
    """Shut the request's TCP connection without an answer, as a load balancer or a network
    failure would: the client sees the connection closed before any byte of a response.

    python-amazon-sp-api 2.1.35 sends through httpx, which raises
    ``httpx.RemoteProtocolError("Server disconnected without sending a response.")`` (an
    ``httpx.TransportError``, not a ``SellingApiException``: it reaches the caller unwrapped).
    The socket is shut down here; werkzeug closes it when the handler returns (closing it
    here would make werkzeug log an error on the closed descriptor)."""
    sock = request.environ.get("werkzeug.socket") or request.environ.get("gunicorn.socket")
    if sock is None:  # Flask's test client: no socket to drop, raise as the client would
        raise ConnectionResetError("the sandbox dropped the connection (injected fault)")
    with contextlib.suppress(OSError):  # already gone
        sock.shutdown(socket.SHUT_RDWR)
    return Response(_NoAnswer(), status=500)


def _spapi_path() -> str:
    """The request's path as Amazon's (without where the sandbox is mounted)."""
    prefix = current_app.extensions.get("homing_sandbox_prefix", "")
    return request.path[len(prefix):] if request.path.startswith(prefix) else request.path


def _body() -> dict:
    return request.get_json(silent=True) or {}


@bp.post("/auth/o2/token")
def token():
    try:
        return jsonify(emulator().issue_token(request.form.to_dict()))
    except LwaError as exc:
        return jsonify({"error": exc.error, "error_description": exc.description}), 400


# --- feeds -------------------------------------------------------------------------------------

@bp.post("/feeds/2021-06-30/documents")
@operation("createFeedDocument", 201)
def create_feed_document(seller):
    doc = emulator().create_feed_document(_body().get("contentType", ""))
    return {"feedDocumentId": doc.id,
            "url": url_for("sandbox.upload", doc_id=doc.id, _external=True)}


@bp.put("/_upload/<doc_id>")
def upload(doc_id):
    try:
        emulator().upload(doc_id, request.content_type or "", request.get_data())
    except ApiError as exc:
        return _s3_error(exc)
    return Response(status=200)


@bp.get("/_docs/<doc_id>")
def download(doc_id):
    try:
        doc = emulator().download(doc_id)
    except ApiError as exc:
        return _s3_error(exc)
    # S3 serves what was stored; for reports no charset is declared (as often at Amazon).
    return Response(doc.data, content_type=doc.content_type)


def _s3_error(exc: ApiError) -> Response:
    body = f"<Error><Code>{exc.code}</Code><Message>{exc.message}</Message></Error>"
    return Response(body, status=exc.status, content_type="application/xml")


@bp.post("/feeds/2021-06-30/feeds")
@operation("createFeed", 202)
def create_feed(seller):
    return {"feedId": emulator().create_feed(seller, _body())}


@bp.get("/feeds/2021-06-30/feeds")
@operation("getFeeds")
def get_feeds(seller):
    return emulator().feeds(seller, request.args.to_dict())


@bp.get("/feeds/2021-06-30/feeds/<feed_id>")
@operation("getFeed")
def get_feed(seller, feed_id):
    return emulator().feed(seller, feed_id)


@bp.delete("/feeds/2021-06-30/feeds/<feed_id>")
@operation("cancelFeed")
def cancel_feed(seller, feed_id):
    emulator().cancel(seller, "feed", feed_id)
    return {}


@bp.get("/feeds/2021-06-30/documents/<doc_id>")
@operation("getFeedDocument")
def get_feed_document(seller, doc_id):
    return _document_answer(doc_id)


def _document_answer(doc_id: str) -> dict:
    answer = emulator().result_document(doc_id)
    answer["url"] = url_for("sandbox.download", doc_id=doc_id, _external=True)
    return answer


# --- reports -----------------------------------------------------------------------------------

@bp.post("/reports/2021-06-30/reports")
@operation("createReport", 202)
def create_report(seller):
    return {"reportId": emulator().create_report(seller, _body())}


@bp.get("/reports/2021-06-30/reports")
@operation("getReports")
def get_reports(seller):
    args = {k: ",".join(request.args.getlist(k)) for k in request.args}
    return emulator().reports(seller, args)


@bp.get("/reports/2021-06-30/reports/<report_id>")
@operation("getReport")
def get_report(seller, report_id):
    return emulator().report(seller, report_id)


@bp.delete("/reports/2021-06-30/reports/<report_id>")
@operation("cancelReport")
def cancel_report(seller, report_id):
    emulator().cancel(seller, "report", report_id)
    return {}


@bp.get("/reports/2021-06-30/documents/<doc_id>")
@operation("getReportDocument")
def get_report_document(seller, doc_id):
    return _document_answer(doc_id)


# --- finances and orders -----------------------------------------------------------------------

@bp.get("/finances/v0/financialEvents")
@operation("listFinancialEvents")
def list_financial_events(seller):
    return emulator().financial_events(request.args.to_dict())


@bp.get("/finances/v0/orders/<order_id>/financialEvents")
@operation("listFinancialEventsByOrderId")
def order_financial_events(seller, order_id):
    return emulator().financial_events(request.args.to_dict(), order_id=order_id)


@bp.get("/orders/v0/orders/<order_id>")
@operation("getOrder")
def get_order(seller, order_id):
    granted = emulator().granted_elements(request.headers.get("x-amz-access-token"),
                                          _spapi_path())
    return emulator().order(seller, order_id, granted)


@bp.get("/orders/v0/orders/<order_id>/buyerInfo")
@operation("getOrderBuyerInfo")
def get_order_buyer_info(seller, order_id):
    # A restricted operation: Amazon answers it only to a Restricted Data Token for the path.
    if not emulator().rdt_covers(request.headers.get("x-amz-access-token"), _spapi_path()):
        raise ApiError(403, "Unauthorized", "Access to requested resource is denied. A "
                                            "Restricted Data Token is required.")
    return emulator().buyer_info(seller, order_id)


@bp.post("/tokens/2021-03-01/restrictedDataToken")
@operation("createRestrictedDataToken")
def create_restricted_data_token(seller):
    return emulator().restricted_token(seller, _body())


@bp.get("/orders/v0/orders/<order_id>/orderItems")
@operation("getOrderItems")
def get_order_items(seller, order_id):
    return emulator().order_items(seller, order_id)


@bp.get("/catalog/2022-04-01/items/<asin>")
@operation("getCatalogItem")
def get_catalog_item(seller, asin):
    return emulator().catalog_item(asin, request.args.to_dict())
# --- Vendor Central: invoices and their transactions ---------------------------------------

@bp.post("/vendor/payments/v1/invoices")
@operation("submitInvoices", 202)
def submit_invoices(seller):
    # SubmitInvoicesResponse: {"payload": TransactionId}
    return {"payload": {"transactionId": emulator().submit_invoices(seller, _body())}}


@bp.get("/vendor/transactions/v1/transactions/<transaction_id>")
@operation("getTransaction")
def get_transaction(seller, transaction_id):
    # GetTransactionResponse: {"payload": TransactionStatus}
    return {"payload": emulator().vendor_transaction(seller, transaction_id)}


@bp.post("/_emu/vendor/reject-next")
def emu_vendor_reject_next():
    """The next vendor transaction processed fails with these errors (a test's rejection)."""
    body = _body()
    emulator().vendor.reject_next.append({"errors": body.get("errors") or [
        {"code": "InvalidDebitNote", "message": "The debit note number is not valid."}]})
    return jsonify({"queued": len(emulator().vendor.reject_next)})


# --- test control (not SP-API) -----------------------------------------------------------------

@bp.get("/_emu/state")
def emu_state():
    return jsonify(emulator().state())


@bp.post("/_emu/reset")
def emu_reset():
    emulator().reset()
    return jsonify({"reset": True})


@bp.post("/_emu/clock")
def emu_clock():
    body, emu = _body(), emulator()
    if "speed" in body:
        emu.set_speed(float(body["speed"]))
    now = emu.advance(float(body.get("advance_seconds", 0)))
    return jsonify({"now": now.isoformat()})


@bp.post("/_emu/fixtures")
def emu_fixtures():
    body, emu = _body(), emulator()
    return jsonify({"orders": emu.add_orders(body.get("orders", [])),
                    "catalog": emu.add_catalog(body.get("catalog", [])),
                    "returns": emu.add_returns(body.get("returns", [])),
                    "fba_returns": emu.add_returns(body.get("fba_returns", []), fba=True)})


@bp.post("/_emu/accounts")
def emu_accounts():
    """Accounts that authorised an app: ``{"accounts": [{"seller_id", "refresh_token",
    "client_id", "client_secret"}]}``; ``{"revoke": [refresh_token, ...]}`` expires tokens."""
    body, emu = _body(), emulator()
    try:
        for account in body.get("accounts") or []:
            emu.add_account(str(account.get("seller_id", "")),
                            str(account.get("refresh_token", "")),
                            str(account.get("client_id", "")),
                            str(account.get("client_secret", "")))
    except ApiError as exc:
        return _error_answer(exc, "_emu/accounts")
    cut = sum(emu.revoke(str(token)) for token in body.get("revoke") or [])
    return jsonify({"accounts": len(body.get("accounts") or []), "access_tokens_cut": cut})


@bp.post("/_emu/faults")
def emu_faults():
    """Fault injection (see README "Fault campaign" and hub.sandbox.emulator.Fault):

    - ``{"operation": "createFeed", "status": 429, "times": 2}``: the next calls answer that
      status BEFORE doing the work (``"operation": "*"`` for any operation);
    - ``{"operation": "createFeed", "status": 500, "times": 1, "after_work": true}``: the
      work is done (the feed IS created), then the call answers 500/503;
    - ``{"operation": "createFeed", "lose_answer": true, "times": 1}``: the work is done,
      then the connection is dropped without an answer;
    - ``{"operation": "createFeed", "drop_request": true, "times": 1}``: the connection is
      dropped without doing the work;
    - ``{"list_lag_seconds": 30}``: a new feed shows in getFeeds only 30 s (sandbox clock)
      after its creation; getFeed by id sees it at once;
    - ``{"processing_jitter": 20, "seed": 7}``: each feed takes delays.processing plus a
      seeded random 0..20 s, so feeds finish out of order;
    - flags (stuck_feeds, fatal_feeds, fatal_reports, gzip, encoding, expire_urls),
      ``expire_tokens``, ``rate_multiplier`` and ``delays`` change behaviour from now on;
    - ``{"clear": true}`` forgets the faults still queued.

    Several keys may come in one body. A bad value is answered 400, and nothing of the
    body is applied."""
    body, emu = _body(), emulator()
    try:
        plan = _fault_plan(body)
    except (TypeError, ValueError) as exc:
        return jsonify({"error": str(exc)}), 400
    with emu.lock:
        if body.get("clear"):
            emu.faults.clear()
        if plan is not None:
            emu.inject(*plan[0], **plan[1])
        for key in emu.flags:
            if key in body:
                emu.flags[key] = body[key]
        if body.get("stuck_feeds") is False:
            emu.release_stuck()
        if body.get("expire_tokens"):
            emu.expire_tokens()
        if "rate_multiplier" in body:
            emu.rate_multiplier = float(body["rate_multiplier"])
        emu.delays.update({k: float(v) for k, v in body.get("delays", {}).items()})
        emu.set_consistency(body.get("list_lag_seconds"), body.get("processing_jitter"),
                            body.get("seed"))
        return jsonify({"flags": emu.flags, "faults": emu.pending_faults(),
                        "delays": emu.delays, "consistency": emu.consistency})


def _fault_plan(body: dict) -> tuple[tuple, dict] | None:
    """Check the body before anything is applied: the inject() call, or None."""
    for key in ("list_lag_seconds", "processing_jitter", "rate_multiplier"):
        if key in body and float(body[key]) < 0:
            raise ValueError(f"{key} must not be negative")
    if "seed" in body:
        int(body["seed"])
    for value in body.get("delays", {}).values():
        float(value)
    if "operation" not in body:
        return None
    operation = body["operation"]
    if not isinstance(operation, str) or not (operation in RATES or operation == "*"):
        raise ValueError(f"unknown operation {operation!r}")
    times = int(body.get("times", 1))
    if times < 1:
        raise ValueError("times must be at least 1")
    options = {key: bool(body.get(key, False))
               for key in ("after_work", "lose_answer", "drop_request")}
    status = body.get("status", 500 if options["after_work"] else 429)
    make_fault(status, **options)  # its checks, before anything is applied
    return (operation, status, times), options


@bp.post("/_emu/settlement/close")
def emu_close_settlement():
    body = _body()
    return jsonify(emulator().close_settlement(body.get("date_format", "iso"),
                                               body.get("encoding")))


@bp.post("/_emu/refund")
def emu_amazon_refund():
    """An Amazon-initiated refund: ``{"order_id", "item_code", "charges": {"Principal": 1999},
    "kind": "a-to-z" | "auto"}`` (amounts in minor units)."""
    body = _body()
    try:
        adjustment = emulator().amazon_refund(body["order_id"], body["item_code"],
                                              body.get("charges", {}), body.get("kind", "a-to-z"))
    except ApiError as exc:
        return jsonify({"error": exc.message}), exc.status
    return jsonify({"adjustment_id": adjustment})
