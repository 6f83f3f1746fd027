"""Finding any return and reading it whole (timeline, photos)."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _

from hub.extensions import db
from hub.hq import detail
from hub.intake.models import Photo
from hub.text import N_
from portal.hq.base import (
    bp,
    hq_required,
    hq_timezone,
    readable,
)


@bp.get("/returns")
@hq_required
def find_return():
    """One match opens the return; an order with several returns lists them all."""
    query = request.args.get("q", "")
    found = detail.find_returns(db.session, g.scope, query)
    if len(found) == 1:
        return redirect(url_for("hq.return_page", number=found[0].number))
    if not found:
        flash(_("No return matches %(query)s.", query=query[:40]), "bad")
        back = request.referrer or ""
        return redirect(back if back.startswith(request.host_url) else
                        url_for("hq.dashboard_page"))
    return render_template("hq/search.html", query=query, found=found, hq_tz=hq_timezone(),
                           how=SEARCH_MATCHES)


SEARCH_MATCHES = {"return": N_("return number"), "voucher": N_("voucher code"),
                  "order": N_("order"), "receipt": N_("receipt"), "intake": N_("check-in"),
                  "amazon_rma": N_("Amazon return id")}


@bp.get("/returns/<number>")
@hq_required
def return_page(number: str):
    try:
        found = detail.return_detail(db.session, g.scope, number)
    except detail.NotFound:
        abort(404)
    return render_template("hq/return.html", d=found, units=detail.unit_rows(found),
                           timeline=readable(found.timeline, currency=found.rma.currency,
                                             units=detail.unit_names(found)))


@bp.get("/photos/<int:photo_id>")
@hq_required
def photo(photo_id: int):
    g.scope.require("returns.view")
    row = db.session.get(Photo, photo_id)
    from hub.intake.models import Intake

    intake = db.session.get(Intake, row.intake_id) if row else None
    if row is None or not g.scope.sees_store(intake.store_id):
        abort(404)
    return send_from_directory(current_app.config["PHOTO_DIR"], row.path,
                               mimetype=row.content_type, max_age=3600)
