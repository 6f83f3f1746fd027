"""Vendor Central in HQ: import Vendor Central's exports, work the dispute queue (what Amazon
charged against what arrived), download each debit note's evidence pack, and follow the
returns credit notes sent to Amazon. Thin views on ``hub.vendor``."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from hub.extensions import db, limiter
from hub.text import N_
from hub.vendor import evidence, importing, queries
from hub.vendor import service as vendor
from hub.vendor.matching import DIFFERENCE_LABELS
from hub.vendor.models import VendorCreditNote, VendorDispute, VendorImport, VendorReceipt
from hub.vendor.states import TransitionError
from hub.web.limits import caller_key
from portal.hq.base import bp, hq_required

KIND_LABELS = {"return": N_("Return"), "debit_note": N_("Debit note"),
               "chargeback": N_("Chargeback"), "shortage": N_("Shortage claim"),
               "coop": N_("Co-op claim")}
DISPUTE_STATUS = {"open": N_("To dispute"), "disputed": N_("Disputed, waiting for Amazon"),
                  "won": N_("Won"), "lost": N_("Lost"), "dismissed": N_("Dropped")}
CREDIT_STATUS = {"draft": N_("Written"), "queued": N_("Waiting to send"),
                 "submitting": N_("Sending"), "submitted": N_("Sent, Amazon is processing"),
                 "accepted": N_("Accepted by Amazon"), "rejected": N_("Rejected by Amazon"),
                 "unsure": N_("No answer from Amazon: check Vendor Central"),
                 "superseded": N_("Corrected and sent again")}
CONFLICTS = {
    "not_received": N_("The shipment is not received yet."),
    "has_credit_note": N_("This shipment already has a credit note."),
    "no_charge": N_("No debit note for this VRET has been imported yet."),
    "nothing_to_credit": N_("None of the units counted is the brand's and charged."),
    "not_rejected": N_("Only a rejected credit note can be corrected."),
    "not_unsure": N_("This credit note is not waiting for a check."),
}
FORMAT_PROBLEMS = {
    "empty": N_("The file has no header row."),
    "no_columns": N_("The file has no debit note number or amount column (headers such as "
                     "\"Debit Note Number\" and \"Amount\")."),
    "unreadable": N_("The file is not a readable XLSX workbook."),
    "too_large": N_("The file is larger than 10 MB."),
    "bad_kind": N_("Unknown export type."),
}


@bp.app_context_processor
def _vendor_labels():
    return {"vendor_kind_labels": KIND_LABELS, "dispute_status_labels": DISPUTE_STATUS,
            "credit_status_labels": CREDIT_STATUS, "difference_labels": DIFFERENCE_LABELS,
            "vendor_problem_text": lambda p: _(importing.PROBLEMS[p["code"]]) % p["params"]}


def _scope() -> None:
    g.scope.require("vendor.manage")


@bp.get("/vendor")
@hq_required
def vendor_page():
    _scope()
    return render_template("hq/vendor.html", disputes=queries.open_disputes(db.session),
                           imports=queries.recent_imports(db.session),
                           receipts=queries.receipts(db.session, limit=30),
                           credit_notes=queries.credit_notes(db.session, limit=30),
                           kinds=importing.CHARGE_KINDS)


@bp.post("/vendor/imports")
@hq_required
@limiter.limit("20 per minute", key_func=caller_key)
def vendor_import():
    _scope()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose the export file first."), "bad")
        return redirect(url_for("hq.vendor_page"))
    try:
        run = vendor.import_export(db.session, g.actor, upload.filename, upload.read(),
                                   request.form.get("kind", "debit_note"))
    except importing.ExportFormatError as exc:
        db.session.rollback()
        flash(_(FORMAT_PROBLEMS.get(exc.code, FORMAT_PROBLEMS["empty"])), "bad")
        return redirect(url_for("hq.vendor_page"))
    return redirect(url_for("hq.vendor_import_page", import_id=run.id), 303)


@bp.get("/vendor/imports/<int:import_id>")
@hq_required
def vendor_import_page(import_id: int):
    _scope()
    run = db.session.get(VendorImport, import_id)
    if run is None:
        abort(404)
    return render_template("hq/vendor_import.html", run=run, notices=vendor.NOTICES)


@bp.get("/vendor/debit-notes/<number>")
@hq_required
def vendor_debit_note(number: str):
    _scope()
    found = queries.debit_note(db.session, number)
    if found is None:
        abort(404)
    notes = {n.receipt_id: n for n in queries.credit_notes(db.session, limit=500)
             if n.status != "superseded"}
    return render_template("hq/vendor_debit_note.html", d=found, credit_notes=notes)


def _pack(number: str) -> evidence.Pack:
    pack = queries.evidence_pack(db.session, number, current_app.config["PHOTO_DIR"],
                                 current_app.config.get("VENDOR_CODE", ""))
    if pack is None:
        abort(404)
    return pack


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    return Response(data, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/vendor/debit-notes/<number>/evidence.pdf")
@hq_required
@limiter.limit("30 per minute", key_func=caller_key)
def vendor_evidence_pdf(number: str):
    _scope()
    return _download(evidence.pdf(_pack(number)), "application/pdf",
                     f"evidence-{number}.pdf")


@bp.get("/vendor/debit-notes/<number>/evidence.zip")
@hq_required
@limiter.limit("30 per minute", key_func=caller_key)
def vendor_evidence_zip(number: str):
    _scope()
    return _download(evidence.zip_pack(_pack(number)), "application/zip",
                     f"evidence-{number}.zip")


@bp.post("/vendor/disputes/<int:dispute_id>")
@hq_required
def vendor_decide_dispute(dispute_id: int):
    _scope()
    dispute = db.session.get(VendorDispute, dispute_id)
    if dispute is None:
        abort(404)
    try:
        vendor.decide_dispute(db.session, dispute, g.actor, request.form.get("action", ""),
                              request.form.get("note", "").strip())
    except TransitionError:
        db.session.rollback()
        flash(_("This dispute line has moved on meanwhile; nothing was changed."), "bad")
    else:
        flash(_("Saved."), "ok")
    return redirect(url_for("hq.vendor_debit_note", number=dispute.debit_note_number), 303)


@bp.post("/vendor/receipts/<int:receipt_id>/credit-note")
@hq_required
def vendor_write_credit_note(receipt_id: int):
    _scope()
    receipt = db.session.get(VendorReceipt, receipt_id)
    if receipt is None:
        abort(404)
    try:
        note = vendor.credit_note_for(db.session, receipt, g.actor,
                                      request.form.get("debit_note_number", ""))
    except vendor.VendorConflict as exc:
        db.session.rollback()
        flash(_(CONFLICTS[exc.code]), "bad")
        return redirect(request.referrer if (request.referrer or "").startswith(
            request.host_url) else url_for("hq.vendor_page"), 303)
    return redirect(url_for("hq.vendor_credit_note", note_id=note.id), 303)


@bp.get("/vendor/credit-notes/<int:note_id>")
@hq_required
def vendor_credit_note(note_id: int):
    _scope()
    note = db.session.get(VendorCreditNote, note_id)
    if note is None:
        abort(404)
    return render_template("hq/vendor_credit_note.html", note=note,
                           receipt=db.session.get(VendorReceipt, note.receipt_id),
                           replaces=db.session.get(VendorCreditNote, note.replaces_id)
                           if note.replaces_id else None)


@bp.post("/vendor/credit-notes/<int:note_id>/resend")
@hq_required
def vendor_resend_credit_note(note_id: int):
    _scope()
    note = db.session.get(VendorCreditNote, note_id)
    if note is None:
        abort(404)
    try:
        new = vendor.correct_and_resend(db.session, note, g.actor,
                                        request.form.get("debit_note_number", ""),
                                        request.form.get("returns_reference", ""))
    except vendor.VendorConflict as exc:
        db.session.rollback()
        flash(_(CONFLICTS[exc.code]), "bad")
        return redirect(url_for("hq.vendor_credit_note", note_id=note.id), 303)
    return redirect(url_for("hq.vendor_credit_note", note_id=new.id), 303)


@bp.post("/vendor/credit-notes/<int:note_id>/checked")
@hq_required
def vendor_checked_credit_note(note_id: int):
    _scope()
    note = db.session.get(VendorCreditNote, note_id)
    if note is None:
        abort(404)
    try:
        vendor.settle_unsure(db.session, note, g.actor,
                             request.form.get("amazon_has_it") == "yes")
    except vendor.VendorConflict as exc:
        db.session.rollback()
        flash(_(CONFLICTS[exc.code]), "bad")
    return redirect(url_for("hq.vendor_credit_note", note_id=note.id), 303)
