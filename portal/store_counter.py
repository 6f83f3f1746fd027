"""The counter at the speed of the best: walk-in returns (no voucher), the one-tap "unopened,
as new" fast path, and one visit with one receipt for several returns. Registered on the
store app's blueprint (imported where it is registered); the same thin views as
portal.store: parse the form, call hub.counter, render."""

from __future__ import annotations

import time

from flask import current_app, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from hub.amazon import orders as amazon_orders
from hub.counter import fast, visits, walkin
from hub.extensions import db, limiter
from hub.intake import service as intakes
from hub.models import utcnow
from hub.orders.models import Order, OrderLine
from hub.returns import service as returns
from hub.returns.models import ReturnAuthorization, ReturnLine
from hub.validation import InvalidInput
from hub.vouchers.keys import keyring
from hub.web.i18n import problem_text
from hub.web.limits import caller_key
from hub.web.session import current_device
from portal.store import _intake, _once, bp, clerk_required


def _not_found() -> str:
    return _("No order matches this order number and postal code or e-mail. Check both with "
             "the shopper.")


@bp.errorhandler(429)
def too_many_from_this_tablet(exc):
    limit = limiter.current_limit
    wait = max(1, int(limit.reset_at - time.time())) if limit is not None else 60
    return render_template(
        "store/walk_in.html", store=g.get("store"), order_id=request.form.get("order_id", ""),
        error=_("Too many look-ups from this tablet. Try again in %(n)d minutes.",
                n=max(1, -(-wait // 60)))), 429


# --- walk-in: find the order ---------------------------------------------------------------

@bp.get("/walk-in")
@clerk_required
def walk_in():
    return render_template("store/walk_in.html", store=g.store,
                           order_id=request.args.get("order_id", "")[:40])


@bp.post("/walk-in")
@clerk_required
@limiter.limit(lambda: current_app.config["RATELIMIT_WALK_IN_MISSES"], key_func=caller_key,
               deduct_when=lambda response: response.status_code == 404)
def walk_in_find():
    order_id = request.form.get("order_id", "")
    proof = request.form.get("proof", "")
    if not order_id.strip() or not proof.strip():
        return render_template("store/walk_in.html", store=g.store, order_id=order_id[:40],
                               error=_("Type the order number and the shopper's postal code "
                                       "or e-mail address.")), 422

    def from_amazon(number: str, with_email: bool):
        return amazon_orders.lookup_from_app(current_app, db.session, number, with_email,
                                             utcnow())

    try:
        order = walkin.find_order(db.session, order_id, proof, from_amazon)
    except amazon_orders.LookupUnavailable:
        db.session.rollback()
        return render_template("store/walk_in.html", store=g.store, order_id=order_id[:40],
                               error=_("Amazon cannot be reached to look up this order. Try "
                                       "again in a few minutes.")), 503
    if order is None:
        db.session.rollback()
        return render_template("store/walk_in.html", store=g.store, order_id=order_id[:40],
                               error=_not_found()), 404
    session["counter_order"] = order.id
    return redirect(url_for("store.walk_in_order"), 303)


def _walk_in_order() -> Order | None:
    return db.session.get(Order, session.get("counter_order") or 0)


def _offer_page(order: Order, errors=(), form=None, status: int = 200):
    lines = walkin.offer(db.session, order)
    reasons = list(returns.shopper_reasons(db.session).values())
    return render_template("store/walk_in_order.html", store=g.store, order=order,
                           lines=lines, reasons=reasons, errors=list(errors),
                           form=form or {}), status


@bp.get("/walk-in/order")
@clerk_required
def walk_in_order():
    order = _walk_in_order()
    if order is None:
        return redirect(url_for("store.walk_in"))
    return _offer_page(order)


def _chosen(order: Order) -> tuple[dict[int, list[str]], frozenset[int]]:
    chosen, overrides = {}, set()
    for line in order.lines:
        try:
            quantity = max(0, min(int(request.form.get(f"qty-{line.id}") or 0), line.quantity))
        except ValueError:
            quantity = 0
        if quantity:
            chosen[line.id] = [request.form.get(f"reason-{line.id}", "")] * quantity
            if request.form.get(f"override-{line.id}") == "yes":
                overrides.add(line.id)
    return chosen, frozenset(overrides)


@bp.post("/walk-in/order")
@clerk_required
def walk_in_issue():
    order = _walk_in_order()
    if order is None:
        return redirect(url_for("store.walk_in"))
    chosen, overrides = _chosen(order)
    reason = request.form.get("override_reason", "").strip()
    errors = []
    if not chosen:
        errors.append(_("Choose at least one unit to return."))
    if any(not code for codes in chosen.values() for code in codes):
        errors.append(_("Pick the shopper's reason for each item."))
    if overrides and not reason:
        errors.append(_("Say why items outside the policy are taken; a supervisor approves."))
    if errors:
        return _offer_page(order, errors, request.form, 422)

    def run() -> str:
        intake = walkin.issue(db.session, order, chosen, g.store, g.actor, keyring(),
                              current_app.config["SECRET_KEY"], override_reason=reason,
                              override_lines=overrides, device_id=current_device().id)
        visits.join(db.session, _visit(), intake)
        return url_for("store.intake", intake_id=intake.id)

    try:
        location = _once(run)
    except InvalidInput as exc:
        db.session.rollback()
        return _offer_page(order, [problem_text(e) for e in exc.errors], request.form, 422)
    except returns.ReturnConflict:
        db.session.rollback()
        return _offer_page(order, [_("Some of these units were just returned elsewhere.")],
                           request.form, 409)
    session.pop("counter_order", None)
    return redirect(location, 303)


# --- the fast path: one tap per unit -----------------------------------------------------------

@bp.post("/intakes/<int:intake_id>/units/<int:unit_id>/as-new")
@clerk_required
def unit_as_new(intake_id: int, unit_id: int):
    """"Unopened, as new": every check passed, grade A, the policy's default disposition."""
    intake = _intake(intake_id)
    line = db.session.get(ReturnLine, unit_id)
    if line is None or line.rma_id != intake.rma_id:
        return redirect(url_for("store.intake", intake_id=intake.id))
    category = db.session.get(OrderLine, line.order_line_id).category
    policy = db.session.get(ReturnAuthorization, intake.rma_id).policy_snapshot

    def run() -> str:
        intakes.record_unit(db.session, intake, unit_id, fast.as_new(category, policy), g.actor)
        return url_for("store.intake", intake_id=intake.id)

    try:
        return redirect(_once(run), 303)
    except intakes.IntakeConflict:
        db.session.rollback()
        return redirect(url_for("store.intake", intake_id=intake.id), 303)


# --- one visit, one receipt ----------------------------------------------------------------------

def _visit():
    """The visit this tablet's session is serving (started with its first return)."""
    visit = visits.current(db.session, session.get("counter_visit"), g.store.id)
    if visit is None:
        visit = visits.start(db.session, g.store, current_device().id, g.actor)
        session["counter_visit"] = visit.id
    return visit


def join_visit(intake) -> None:
    """Called by the scan view: a voucher scanned during a visit joins it."""
    visits.join(db.session, _visit(), intake)


@bp.get("/visit")
@clerk_required
def visit():
    current = visits.current(db.session, session.get("counter_visit"), g.store.id)
    if current is None:
        return redirect(url_for("store.scan"))
    return render_template("store/visit.html", store=g.store,
                           visit=current, rows=visits.rows(db.session, current))


@bp.post("/visit/close")
@clerk_required
def close_visit():
    current = visits.current(db.session, session.get("counter_visit"), g.store.id)
    if current is None:
        return redirect(url_for("store.scan"), 303)

    def run() -> str:
        visits.close(db.session, current, g.actor)
        return url_for("store.visit_receipt", visit_id=current.id)

    try:
        location = _once(run)
    except visits.VisitOpen:
        db.session.rollback()
        return render_template("store/visit.html", store=g.store, visit=current,
                               rows=visits.rows(db.session, current),
                               error=_("Finish or stop every return of this visit first.")), 409
    session.pop("counter_visit", None)
    return redirect(location, 303)


@bp.get("/visits/<int:visit_id>/receipt")
@clerk_required
def visit_receipt(visit_id: int):
    found = visits.get(db.session, visit_id, g.store.id)
    if found is None or found.status != "closed":
        return redirect(url_for("store.scan"))
    return render_template("store/visit.html", store=g.store, visit=found,
                           rows=visits.rows(db.session, found), receipt=True)
