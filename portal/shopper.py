"""The shopper portal (no login): find the order, pick units and reasons, pick a store, get the
voucher, follow the status. Thin views over hub.returns.service; portal.shopper_text says the
domain's results in the reader's language.

The way back to a return: its status link (in every e-mail; its key is an HMAC of the return
number, not the voucher), or the order number with its postal code or e-mail again, which
lists the order's returns."""

from __future__ import annotations

import hmac
import time

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _

from hub.amazon import orders as amazon_orders
from hub.audit.service import Actor
from hub.business import service as business
from hub.extensions import db, limiter
from hub.models import utcnow
from hub.orders.models import Order
from hub.policy import service as policy_service
from hub.policy.document import vendor_takeback
from hub.returns import queries as returns_queries
from hub.returns import service
from hub.returns.eligibility import SOLD_BY_AMAZON
from hub.returns.models import ReturnAuthorization
from hub.returns.status import OPEN_REFUND, status_of
from hub.stores.geo import resolve_postal_code
from hub.stores.models import Store
from hub.stores.routing import coordinates
from hub.validation import InvalidInput
from hub.vouchers import render
from hub.vouchers.keys import keyring
from hub.web.i18n import problem_text
from portal import shopper_text as text

bp = Blueprint("shopper", __name__, url_prefix="/return")
SHOPPER = Actor("shopper", None, "portal")


def _lookup_limit() -> str:
    return current_app.config["RATELIMIT_CODE_LOOKUP"]


def access_key(number: str) -> str:
    """The secret part of a status link: knowing an RMA number alone shows nothing."""
    return service.status_key(current_app.config["SECRET_KEY"], number)


@bp.app_template_global()
def shopper_text():
    return text


@bp.errorhandler(429)
def too_many_lookups(exc):
    """The order look-up is rate-limited (guessing postal codes); say when to try again."""
    limit = limiter.current_limit
    reset_at = limit.reset_at if limit is not None else None
    wait = max(1, int(reset_at - time.time())) if reset_at else 60
    return render_template("shopper/slow_down.html", seconds=wait,
                           minutes=max(1, -(-wait // 60)),
                           order_id=request.form.get("order_id", "")), 429


def _order() -> Order:
    order = db.session.get(Order, session.get("shopper_order") or 0)
    if order is None:
        abort(redirect(url_for("shopper.start")))
    return order


@bp.get("/")
def start():
    return render_template("shopper/start.html")


@bp.post("/find")
@limiter.limit(_lookup_limit)
def find():
    order_id = request.form.get("order_id", "")
    proof = request.form.get("proof", "")
    if not order_id.strip() or not proof.strip():
        return render_template("shopper/start.html", order_id=order_id,
                               error=_("Enter your order number and the postal code or e-mail "
                                       "address on the order.")), 422
    order = service.find_order_for_shopper(db.session, order_id, proof)
    if order is None and not service.order_known(db.session, order_id):
        # Not seen yet: an Amazon order can be read from Amazon (when connected) and kept.
        try:
            if amazon_orders.lookup_from_app(current_app, db.session, order_id.strip(),
                                             "@" in proof, utcnow()) is not None:
                order = service.find_order_for_shopper(db.session, order_id, proof)
        except amazon_orders.LookupUnavailable:
            db.session.rollback()
            return render_template("shopper/start.html", order_id=order_id,
                                   error=_("We could not reach Amazon to look up this order. "
                                           "Please try again in a few minutes.")), 503
    if order is None:
        return render_template("shopper/start.html", order_id=order_id,
                               error=_("We could not find an order with this number and postal "
                                       "code or e-mail. Check both and try again.")), 404
    session["shopper_order"] = order.id
    session.pop("shopper_choice", None)
    return redirect(url_for("shopper.items"))


def _items_context(order: Order, selected: dict | None = None, errors=None) -> dict:
    policy = policy_service.current_policy(db.session).document
    verdicts = service.eligibility(db.session, order, policy, utcnow())
    reasons = service.shopper_reasons(db.session)
    earlier = [{"number": r.number, "status": r.status, "created_at": r.created_at,
                "link": url_for("shopper.status", number=r.number, k=access_key(r.number))}
               for r in service.returns_of_order(db.session, order)]
    return {"order": order, "verdicts": verdicts, "reasons": list(reasons.values()),
            "selected": selected or {}, "errors": errors or [], "returns": earlier,
            "postal_code": session.get("shopper_postal", order.ship_postal_code),
            "sold_by_amazon": order.channel == SOLD_BY_AMAZON,
            "vendor_takeback": vendor_takeback(policy)}


@bp.get("/items")
def items():
    return render_template("shopper/items.html", **_items_context(_order()))


def _selection_from_form(order: Order) -> dict[int, list[str]]:
    chosen: dict[int, list[str]] = {}
    for line in order.lines:
        try:
            quantity = int(request.form.get(f"qty-{line.id}", "0") or 0)
        except ValueError:
            quantity = 0
        reason = request.form.get(f"reason-{line.id}", "")
        if quantity > 0:
            chosen[line.id] = [reason] * quantity
    return chosen


@bp.post("/quote")
def quote():
    """The expected refund for the current selection (an htmx fragment)."""
    order = _order()
    breakdown, problems = service.quote_return(db.session, order, _selection_from_form(order))
    return render_template("shopper/_quote.html", breakdown=breakdown,
                           problems=[problem_text(p) for p in problems], currency=order.currency,
                           rows=text.component_rows(breakdown.components(), order.currency)
                           if breakdown else [],
                           why=text.explanations(breakdown.explanations, _titles(order),
                                                 order.currency) if breakdown else [])


def _titles(order: Order) -> dict[str, str]:
    return {str(line.id): line.title or line.sku for line in order.lines}


@bp.post("/items")
def choose_items():
    order = _order()
    chosen = _selection_from_form(order)
    postal = request.form.get("postal_code", "").strip()[:20]
    lat, lon = request.form.get("lat"), request.form.get("lon")
    errors = []
    if not chosen:
        errors.append(_("Choose at least one item to return."))
    if any(not code for codes in chosen.values() for code in codes):
        errors.append(_("Tell us why you are returning each item."))
    if errors:
        return render_template("shopper/items.html", **_items_context(order, chosen, errors)), 422
    session["shopper_choice"] = {str(k): v for k, v in chosen.items()}
    session["shopper_postal"] = postal
    session["shopper_point"] = None
    if lat and lon:
        try:
            # Kept as text: the session cookie's JSON would bring floats back as Decimal.
            session["shopper_point"] = [repr(c) for c in coordinates(lat, lon)]
        except ValueError:
            errors.append(_("We could not use your location. Enter a postal code instead."))
            return render_template("shopper/items.html",
                                   **_items_context(order, chosen, errors)), 422
    return redirect(url_for("shopper.stores"))


def _request(order: Order, store_code: str | None = None) -> service.ReturnRequest:
    choice = {int(k): v for k, v in (session.get("shopper_choice") or {}).items()}
    if not choice:
        abort(redirect(url_for("shopper.items")))
    point = _point()
    return service.ReturnRequest(
        lines=choice, email=order.buyer_email, locale=str(get_locale() or "en"),
        latitude=point[0] if point else None, longitude=point[1] if point else None,
        postal_code=session.get("shopper_postal", ""), store_code=store_code, source="portal")


def _point() -> tuple[float, float] | None:
    point = session.get("shopper_point")
    try:
        return coordinates(*point) if point else None
    except (TypeError, ValueError):
        return None  # a cookie from before, or tampered with: route from the postal code


@bp.get("/stores")
def stores():
    order = _order()
    req = _request(order)
    origin = service.origin_for(req, order)
    routed = service.route_for(db.session, order, set(req.lines), origin, utcnow())
    unknown_postal = origin is None
    if req.postal_code and not resolve_postal_code(req.postal_code, order.ship_country or "US"):
        unknown_postal = True
    return render_template("shopper/stores.html", order=order, routed=routed,
                           unknown_postal=unknown_postal, postal_code=req.postal_code,
                           located=req.latitude is not None)


@bp.post("/confirm")
def confirm():
    order = _order()
    req = _request(order, request.form.get("store_code") or None)
    # A business order's PO number, company and VAT id (one read, through an RDT); the
    # return goes ahead without them when Amazon cannot be asked now.
    business.read_buyer_from_app(current_app, db.session, order)
    try:
        rma = service.create_return(db.session, order, req, actor=SHOPPER, keyring=keyring(),
                                    secret=current_app.config["SECRET_KEY"],
                                    link_base=request.url_root)
    except InvalidInput as exc:
        db.session.rollback()
        messages = [problem_text(e) for e in exc.errors]
        return render_template("shopper/items.html",
                               **_items_context(order, req.lines, messages)), 422
    except service.ReturnConflict:
        db.session.rollback()
        return render_template("shopper/items.html", **_items_context(order, req.lines, [
            _("Some of these items were just returned in another session.")])), 409
    session.pop("shopper_choice", None)
    return redirect(url_for("shopper.status", number=rma.number, k=access_key(rma.number)))


def _rma_for_status(number: str) -> ReturnAuthorization:
    if not hmac.compare_digest(request.args.get("k", ""), access_key(number)):
        abort(404)
    rma = returns_queries.by_number(db.session, number)
    if rma is None:
        abort(404)
    return rma


@bp.get("/r/<number>")
def status(number: str):
    rma = _rma_for_status(number)
    data = service.return_to_dict(db.session, rma)
    intake = returns_queries.completed_intake(db.session, rma)
    refunds = returns_queries.refunds_of(db.session, rma)
    due = min((r.due_at for r in refunds if r.status in OPEN_REFUND + ("failed",) and r.due_at),
              default=None)
    state = status_of(rma, intake, refunds, due)
    store = db.session.get(Store, intake.store_id if intake else rma.chosen_store_id or 0)
    order = db.session.get(Order, rma.order_id)
    lines = {ln.id: ln for ln in rma.lines}
    units = [{**u, "grade": lines[u["id"]].grade,
              "decision_reason": lines[u["id"]].decision_reason}
             for u in _units_with_ids(data, rma)]
    return render_template(
        "shopper/status.html", rma=rma, data=data, key=access_key(number), state=state,
        zone=store.timezone if store else None, store=store, units=units,
        country=order.ship_country or (store.country if store else None),
        buyer=business.buyer_of(db.session, order),
        why=text.explanations(state.explanations, _titles(order), rma.currency))


def _units_with_ids(data: dict, rma: ReturnAuthorization) -> list[dict]:
    """return_to_dict's units in return-line order, with each line's id."""
    return [{**unit, "id": line.id} for unit, line in
            zip(data["units"], sorted(rma.lines, key=lambda ln: ln.id), strict=True)]


@bp.get("/r/<number>/qr.<fmt>")
def qr(number: str, fmt: str):
    rma = _rma_for_status(number)
    voucher = returns_queries.voucher_of(db.session, rma)
    if voucher is None or fmt not in ("png", "svg"):
        abort(404)
    body = render.qr_png(voucher.token) if fmt == "png" else render.qr_svg(voucher.token)
    return Response(body, mimetype="image/png" if fmt == "png" else "image/svg+xml",
                    headers={"Cache-Control": "private, max-age=86400"})

from portal import shopper_business as _business_upload  # noqa: E402,F401  (its views on bp)
