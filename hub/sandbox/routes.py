"""HTTP face of the SP-API sandbox: Amazon's paths and shapes, plus the test-control API
under ``/_emu/``. Thin: every decision is in ``hub.sandbox.emulator``."""

from __future__ import annotations

import uuid
from functools import wraps

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from hub.sandbox.emulator import RATES, ApiError, Emulator, LwaError

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
    """An SP-API operation: authorise, throttle, run, and answer in Amazon's error shape."""

    def wrap(func):
        @wraps(func)
        def view(*args, **kwargs):
            try:
                seller = emulator().authorize(request.headers.get("x-amz-access-token"), name,
                                              _spapi_path())
                return _answer(func(seller, *args, **kwargs), status, name)
            except ApiError as exc:
                return _answer({"errors": [{"code": exc.code, "message": exc.message,
                                            "details": ""}]}, exc.status, name)

        return view

    return wrap


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


@bp.post("/tokens/2021-03-01/restrictedDataToken")
@operation("createRestrictedDataToken")
def create_restricted_data_token(seller):
    return emulator().restricted_token(seller, _body())


@bp.get("/orders/v0/orders/<order_id>/orderItems")
@operation("getOrderItems")
def get_order_items(seller, order_id):
    return emulator().order_items(seller, order_id)


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
                    "returns": emu.add_returns(body.get("returns", [])),
                    "fba_returns": emu.add_returns(body.get("fba_returns", []), fba=True)})


@bp.post("/_emu/faults")
def emu_faults():
    """``{"operation": "createFeed", "status": 429, "times": 2}`` answers the next calls with
    that status; flags (stuck_feeds, fatal_feeds, fatal_reports, gzip, encoding, expire_urls),
    ``expire_tokens``, ``rate_multiplier`` and ``delays`` change behaviour from now on."""
    body, emu = _body(), emulator()
    with emu.lock:
        if "operation" in body:
            emu.inject(body["operation"], int(body.get("status", 429)),
                       int(body.get("times", 1)))
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
        return jsonify({"flags": emu.flags, "faults": emu.faults, "delays": emu.delays})


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
