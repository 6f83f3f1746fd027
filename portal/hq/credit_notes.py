"""VAT credit notes in HQ: the list with Amazon's verdict, one note with its VAT per rate and
its PDF as issued, and the correction of a note Amazon rejected (resent under a new number).
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from hub.creditnotes import service as notes
from hub.creditnotes.models import CreditNote
from hub.extensions import db
from hub.orders.models import Order
from hub.refunds.models import Refund
from hub.returns.models import ReturnAuthorization
from hub.text import N_
from portal.hq.base import bp, hq_required, hq_timezone

STATUSES = ("issued", "uploading", "unsure", "submitted", "accepted", "rejected",
            "superseded")


def _require(permission: str) -> None:
    if not g.scope.can(permission):
        abort(403)


def _note(note_id: int) -> CreditNote:
    note = db.session.get(CreditNote, note_id)
    if note is None:
        abort(404)
    return note


@bp.get("/credit-notes")
@hq_required
def credit_notes_page():
    _require("queues.finance")
    status = request.args.get("status", "")
    query = sa.select(CreditNote).order_by(CreditNote.id.desc()).limit(200)
    if status in STATUSES:
        query = query.where(CreditNote.status == status)
    found = list(db.session.scalars(query))
    orders = dict(db.session.execute(sa.select(Order.id, Order.external_id).where(
        Order.id.in_({n.order_id for n in found}))).all()) if found else {}
    return render_template("hq/credit_notes.html", notes=found, orders=orders,
                           status=status, statuses=STATUSES, hq_tz=hq_timezone())


@bp.get("/credit-notes/<int:note_id>")
@hq_required
def credit_note_page(note_id: int):
    _require("queues.finance")
    note = _note(note_id)
    order = db.session.get(Order, note.order_id)
    refund = db.session.get(Refund, note.refund_id)
    rma = db.session.get(ReturnAuthorization, refund.rma_id)
    replaced_by = db.session.scalar(sa.select(CreditNote).where(
        CreditNote.replaces_id == note.id))
    intact = hashlib.sha256(note.pdf).hexdigest() == note.sha256
    return render_template("hq/credit_note.html", note=note, order=order, rma=rma,
                           replaced_by=replaced_by, intact=intact, hq_tz=hq_timezone())


@bp.get("/credit-notes/<int:note_id>/pdf")
@hq_required
def credit_note_pdf(note_id: int):
    _require("queues.finance")
    note = _note(note_id)
    return Response(note.pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{note.number}.pdf"',
        "X-Content-SHA256": note.sha256})


@bp.post("/credit-notes/<int:note_id>/correct")
@hq_required
def correct_credit_note(note_id: int):
    _require("refunds.retry")
    note = db.session.get(CreditNote, note_id, with_for_update=True)
    if note is None:
        abort(404)
    form = request.form
    try:
        new = notes.correct(db.session, note, company=form.get("company", ""),
                            buyer_vat_id=form.get("buyer_vat_id", ""),
                            po_number=form.get("po_number", ""), actor=g.actor)
    except notes.CorrectionError as exc:
        db.session.rollback()
        flash(_(CORRECTION_MESSAGES.get(str(exc)) or N_("This credit note cannot be corrected.")),
              "bad")
        return redirect(url_for("hq.credit_note_page", note_id=note_id))
    flash(_("Credit note %(number)s issued; it replaces %(old)s and is sent to Amazon.",
            number=new.number, old=note.number), "ok")
    return redirect(url_for("hq.credit_note_page", note_id=new.id))


# The service's reasons, as people read them (the service raises plain English).
CORRECTION_MESSAGES = {
    "only a rejected credit note can be corrected":
        N_("Only a credit note Amazon rejected can be corrected."),
    "a field is too long": N_("A field is too long."),
    "a VAT id starts with its country code, e.g. DE123456789":
        N_("A VAT id starts with its country code, e.g. DE123456789."),
}

STATUS_LABELS = {
    "issued": N_("issued, to upload"), "uploading": N_("uploading"),
    "unsure": N_("upload unconfirmed, checking with Amazon"),
    "submitted": N_("with Amazon"), "accepted": N_("accepted by Amazon"),
    "rejected": N_("rejected by Amazon"), "superseded": N_("replaced by a correction"),
}


@bp.app_template_global("cn_status")
def _credit_note_status(status: str) -> str:
    label = STATUS_LABELS.get(status)
    return _(label) if label else status
