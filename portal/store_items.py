"""Item verification on the store tablet (registered on the ``store`` blueprint): scan or type
the item's barcode on the unit screen, swap units scanned in another order, a supervisor's PIN
for a mismatch, the serial number where the policy asks. Thin: hub.items.service decides."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from hub.auth.service import AuthError, authenticate_pin
from hub.extensions import db, limiter
from hub.intake.models import Intake
from hub.items import catalog
from hub.items import service as items
from hub.items.gtin import Gtin
from hub.orders.models import OrderLine
from hub.policy.document import serial_required
from hub.returns.models import ReturnAuthorization, ReturnLine
from hub.validation import InvalidInput
from hub.web.i18n import problem_text
from hub.web.limits import caller_key
from portal.store import _intake, _unit_context, bp, clerk_required

SCAN_LIMIT = "120 per minute"  # a clerk scans a few items a minute; a loop scans forever


def _display(digits: str) -> str:
    return Gtin(digits).display if digits else ""


def item_context(intake: Intake, unit_id: int) -> dict:
    """What the unit screen's item card shows."""
    line = db.session.get(ReturnLine, unit_id)
    if line is None or line.rma_id != intake.rma_id:
        abort(404)
    order_line = db.session.get(OrderLine, line.order_line_id)
    rma = db.session.get(ReturnAuthorization, intake.rma_id)
    check = items.checks_for(db.session, intake).get(unit_id)
    other = (db.session.get(OrderLine, check.other_order_line_id)
             if check is not None and check.other_order_line_id else None)
    return {"intake_id": intake.id, "unit_id": unit_id, "open": intake.status == "open",
            "expected": _display(order_line.gtin), "check": check,
            "scanned": _display(check.scanned_gtin) if check else "",
            "other_title": (other.title or other.sku) if other else "",
            "serial_wanted": serial_required(rma.policy_snapshot, order_line.category)
            or bool(order_line.serial_numbers)}


@bp.app_context_processor
def _item_helpers():
    return {"item_check": lambda intake, unit: item_context(intake, unit["unit_id"])}


def _card(intake: Intake, unit_id: int, status: int = 200, **extra):
    """The item card (htmx swaps it in place); a plain form post goes back to the unit."""
    if request.headers.get("HX-Request") != "true":
        if status >= 400:
            return render_template("store/unit.html", **_unit_context(intake, unit_id),
                                   **extra), status
        return redirect(url_for("store.unit", intake_id=intake.id, unit_id=unit_id), 303)
    return render_template("store/_item_check.html", item=item_context(intake, unit_id),
                           **extra), status


def _refused(intake: Intake, unit_id: int, exc: InvalidInput, status: int = 422):
    db.session.rollback()
    return _card(intake, unit_id, status, item_errors=[problem_text(e) for e in exc.errors])


@bp.post("/intakes/<int:intake_id>/units/<int:unit_id>/item/scan")
@clerk_required
@limiter.limit(SCAN_LIMIT, key_func=caller_key)
def item_scan(intake_id: int, unit_id: int):
    intake = _intake(intake_id)
    try:
        outcome = items.scan(db.session, intake, unit_id, request.form.get("barcode", ""),
                             request.form.get("format", "typed"), g.actor,
                             catalog.connector_lookup(current_app))
    except InvalidInput as exc:
        return _refused(intake, unit_id, exc)
    return _card(intake, unit_id, amazon_unsure=outcome.amazon_unsure)


@bp.post("/intakes/<int:intake_id>/units/<int:unit_id>/item/approve")
@clerk_required
@limiter.limit("30 per minute", key_func=caller_key)
def item_approve(intake_id: int, unit_id: int):
    intake = _intake(intake_id)
    try:
        supervisor = authenticate_pin(db.session, intake.store_id,
                                      request.form.get("supervisor_staff", "").strip(),
                                      request.form.get("supervisor_pin", ""))
    except AuthError as exc:
        message = (_("Too many wrong PINs. Wait 15 minutes.") if exc.code == "locked"
                   else _("The supervisor's staff number or PIN is wrong."))
        return _card(intake, unit_id, 403, item_errors=[message])
    try:
        items.approve_mismatch(db.session, intake, unit_id, supervisor, g.actor)
    except InvalidInput as exc:
        return _refused(intake, unit_id, exc, 403)
    return _card(intake, unit_id)


@bp.post("/intakes/<int:intake_id>/units/<int:unit_id>/item/swap")
@clerk_required
def item_swap(intake_id: int, unit_id: int):
    intake = _intake(intake_id)
    try:
        target = items.swap(db.session, intake, unit_id, g.actor)
    except InvalidInput as exc:
        return _refused(intake, unit_id, exc, 409)
    location = url_for("store.unit", intake_id=intake.id, unit_id=target)
    if request.headers.get("HX-Request") == "true":
        response = make_response("", 204)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location, 303)


@bp.post("/intakes/<int:intake_id>/units/<int:unit_id>/item/serial")
@clerk_required
@limiter.limit(SCAN_LIMIT, key_func=caller_key)
def item_serial(intake_id: int, unit_id: int):
    intake = _intake(intake_id)
    try:
        items.record_serial(db.session, intake, unit_id, request.form.get("serial", ""),
                            g.actor)
    except InvalidInput as exc:
        return _refused(intake, unit_id, exc)
    return _card(intake, unit_id)
