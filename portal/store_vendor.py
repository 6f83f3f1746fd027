"""Vendor returns at the counter: a VRET shipment from Amazon, received on the store tablet.
The clerk types (or scans with a hand scanner) the VRET and RMA numbers from the packing
slip, counts and grades the units per ASIN, takes photos, picks where they go and closes the
shipment; HQ matches it against Amazon's debit notes. Thin views on ``hub.vendor.service``."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _

from hub.extensions import db, limiter
from hub.intake import photos
from hub.models import utcnow
from hub.policy.document import vendor_takeback
from hub.text import N_
from hub.validation import InvalidInput
from hub.vendor import queries
from hub.vendor import service as vendor
from hub.vendor.matching import NOT_OURS
from hub.vendor.models import VendorPhoto, VendorReceipt
from hub.web.limits import caller_key
from portal.store import bp, clerk_required

FIELD_PROBLEMS = {
    "not_a_vret": N_("Type the VRET number as printed on the packing slip (letters, digits "
                     "and dashes)."),
    "not_an_rma": N_("The RMA number has letters, digits and dashes only."),
    "bad_asin": N_("An ASIN is 10 letters and digits, e.g. B07XJ8C8F5."),
    "bad_units": N_("Count at least one unit."),
    "bad_grade": N_("Choose a grade."),
    "bad_disposition": N_("Choose where the units go."),
}
CONFLICTS = {
    "other_store": N_("This VRET shipment was already received at another store."),
    "already_received": N_("This VRET shipment is already received and closed."),
    "nothing_counted": N_("Count at least one line before closing the shipment."),
    "unknown_line": N_("That line is no longer on this shipment."),
}
NOT_OURS_LABEL = N_("Not the brand's product")


@bp.app_context_processor
def _sold_by_amazon():
    return {"vendor_takeback": vendor_takeback}


def _receipt(receipt_id: int) -> VendorReceipt:
    receipt = db.session.get(VendorReceipt, receipt_id)
    if receipt is None or receipt.store_id != g.store.id:
        abort(404)  # another store's shipment does not exist here
    return receipt


def _problems(exc: InvalidInput) -> list[str]:
    return [_(FIELD_PROBLEMS.get(e["message"], e["message"])) for e in exc.errors]


@bp.get("/vendor")
@clerk_required
def vendor_returns():
    return render_template("store/vendor_start.html", store=g.store,
                           receipts=queries.receipts(db.session, g.store.id, limit=20))


@bp.post("/vendor")
@clerk_required
@limiter.limit(lambda: current_app.config["RATELIMIT_CODE_LOOKUP_STORE"], key_func=caller_key)
def open_vendor_return():
    try:
        receipt = vendor.open_receipt(db.session, g.store.id, g.actor,
                                      request.form.get("vret", ""), request.form.get("rma", ""))
    except InvalidInput as exc:
        db.session.rollback()
        return _start_error(_problems(exc))
    except vendor.VendorConflict as exc:
        db.session.rollback()
        return _start_error([_(CONFLICTS[exc.code])], 409)
    return redirect(url_for("store.vendor_return", receipt_id=receipt.id), 303)


def _start_error(errors: list[str], status: int = 422):
    return render_template("store/vendor_start.html", store=g.store, errors=errors,
                           vret=request.form.get("vret", "")[:40],
                           rma=request.form.get("rma", "")[:40],
                           receipts=queries.receipts(db.session, g.store.id, limit=20)), status


def _page(receipt: VendorReceipt, errors: list[str] | None = None, status: int = 200):
    return render_template("store/vendor_receipt.html", store=g.store, receipt=receipt,
                           lines=vendor.lines_of(db.session, receipt),
                           photos=queries.receipt_photos(db.session, [receipt.id]),
                           grades=vendor.COUNT_GRADES, not_ours=NOT_OURS,
                           not_ours_label=NOT_OURS_LABEL, errors=errors or [],
                           form=request.form if errors else {}), status


@bp.get("/vendor/<int:receipt_id>")
@clerk_required
def vendor_return(receipt_id: int):
    return _page(_receipt(receipt_id))


@bp.post("/vendor/<int:receipt_id>/lines")
@clerk_required
def count_vendor_units(receipt_id: int):
    receipt = _receipt(receipt_id)
    try:
        vendor.count_line(db.session, receipt, g.actor, asin=request.form.get("asin", ""),
                          units=request.form.get("units", ""),
                          grade=request.form.get("grade", ""),
                          disposition=request.form.get("disposition", ""),
                          amazon_damage=request.form.get("amazon_damage") == "1")
    except InvalidInput as exc:
        db.session.rollback()
        return _page(receipt, _problems(exc), 422)
    except vendor.VendorConflict as exc:
        db.session.rollback()
        return _page(receipt, [_(CONFLICTS[exc.code])], 409)
    return redirect(url_for("store.vendor_return", receipt_id=receipt.id), 303)


@bp.post("/vendor/<int:receipt_id>/lines/<int:line_id>/remove")
@clerk_required
def uncount_vendor_units(receipt_id: int, line_id: int):
    receipt = _receipt(receipt_id)
    try:
        vendor.remove_line(db.session, receipt, g.actor, line_id)
    except vendor.VendorConflict as exc:
        db.session.rollback()
        return _page(receipt, [_(CONFLICTS[exc.code])], 409)
    return redirect(url_for("store.vendor_return", receipt_id=receipt.id), 303)


@bp.post("/vendor/<int:receipt_id>/photo")
@clerk_required
def vendor_photo_upload(receipt_id: int):
    receipt = _receipt(receipt_id)
    upload = request.files.get("photo")
    try:
        stored = photos.store(upload.read() if upload else b"",
                              current_app.config["PHOTO_DIR"], utcnow())
        vendor.add_photo(db.session, receipt, g.actor, stored)
    except photos.PhotoError as exc:
        db.session.rollback()
        return _page(receipt, [str(exc)], 422)
    except vendor.VendorConflict as exc:
        db.session.rollback()
        return _page(receipt, [_(CONFLICTS[exc.code])], 409)
    return redirect(url_for("store.vendor_return", receipt_id=receipt.id), 303)


@bp.get("/vendor/photos/<int:photo_id>")
@clerk_required
def vendor_photo(photo_id: int):
    row = db.session.get(VendorPhoto, photo_id)
    if row is None:
        abort(404)
    _receipt(row.receipt_id)  # only this store's photos
    return send_from_directory(current_app.config["PHOTO_DIR"], row.path,
                               mimetype=row.content_type, max_age=3600)


@bp.post("/vendor/<int:receipt_id>/close")
@clerk_required
def close_vendor_return(receipt_id: int):
    receipt = _receipt(receipt_id)
    try:
        vendor.close_receipt(db.session, receipt, g.actor)
    except vendor.VendorConflict as exc:
        db.session.rollback()
        return _page(receipt, [_(CONFLICTS[exc.code])], 409)
    return redirect(url_for("store.vendor_return", receipt_id=receipt.id), 303)
