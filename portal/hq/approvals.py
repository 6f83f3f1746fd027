"""HQ's approval queue: requests beyond the stores' tiers (hub.policy.approvals), oldest
deadline first, each with its clock; an HQ approver approves (and so completes the intake)
or sends it back to the store."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from hub.counter import approvals
from hub.counter.models import ApprovalRequest
from hub.extensions import db
from hub.intake import service as intakes
from hub.intake.models import Intake
from hub.models import utcnow
from hub.returns.models import ReturnAuthorization
from portal.hq.base import bp, hq_required


@bp.get("/approvals")
@hq_required
def approvals_page():
    g.scope.require("queues.operations")
    rows = [(req, store, db.session.get(ReturnAuthorization,
                                        db.session.get(Intake, req.intake_id).rma_id))
            for req, store in approvals.hq_queue(db.session)
            if g.scope.chain_wide or store.id == g.scope.store_id]
    return render_template("hq/approvals.html", rows=rows, now=utcnow())


@bp.post("/approvals/<int:request_id>")
@hq_required
def decide_hq_approval(request_id: int):
    g.scope.require("queues.operations")
    found = db.session.get(ApprovalRequest, request_id)
    if found is None or found.status != "pending":
        abort(404)
    intake = db.session.get(Intake, found.intake_id)
    approve = request.form.get("approve") == "yes"
    try:
        intakes.decide_approval(db.session, intake, _current_user(), approve)
    except intakes.IntakeConflict as exc:
        db.session.rollback()
        who = getattr(exc, "needed", None)
        flash(_("Your approval tier does not cover this. Who may approve it: %(who)s.",
                who=_(approvals.tiers.ROLE_LABELS.get(who, who))) if who else str(exc), "bad")
        return redirect(url_for("hq.approvals_page"), 303)
    flash(_("Approved; the refund is on its way.") if approve else
          _("Sent back to the store."), "ok")
    return redirect(url_for("hq.approvals_page"), 303)


def _current_user():
    from flask_login import current_user

    return current_user._get_current_object()
