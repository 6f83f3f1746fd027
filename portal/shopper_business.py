"""The business buyer's upload in the shopper portal: a CSV of order, item, quantity and
reason for units of many of their Amazon Business orders, answered with one RMA number.
The buyer proves one business order first (order number and postal code or e-mail, as any
shopper); the upload may name only orders of the same buyer. Thin views over
hub.business.batch."""

from __future__ import annotations

from flask import abort, current_app, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from hub.business import batch as batches
from hub.extensions import db, limiter
from hub.validation import InvalidInput
from hub.vouchers.keys import keyring
from hub.web.i18n import problem_text
from portal.shopper import SHOPPER, _order, access_key, bp

MAX_UPLOAD = 256 * 1024


def _business_order():
    order = _order()
    if order.channel != "amazon-business":
        abort(404)
    return order


@bp.get("/business/upload")
def business_upload():
    return render_template("shopper/business_upload.html", order=_business_order())


def _problem_lines(errors: list[dict]) -> list[str]:
    out = []
    for error in errors:
        text = problem_text(error)
        field = str(error.get("field", ""))
        if field.startswith("line") and not error.get("template", "").startswith("Line"):
            text = _("%(where)s: %(problem)s", where=_("Line %(line)s",
                                                        line=field.split(" ", 1)[-1]),
                     problem=text)
        out.append(text)
    return out


@bp.post("/business/upload")
@limiter.limit(lambda: current_app.config["RATELIMIT_CODE_LOOKUP"])
def business_upload_post():
    order = _business_order()
    upload = request.files.get("file")
    data = upload.read(MAX_UPLOAD + 1) if upload else b""
    problems: list[str] = []
    if not data:
        problems = [_("Choose a CSV file to upload.")]
    elif len(data) > MAX_UPLOAD:
        problems = [_("The file is too large (at most 256 KB).")]
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            problems = [_("The file is not UTF-8 text. Save it as CSV (UTF-8).")]
    if problems:
        return render_template("shopper/business_upload.html", order=order,
                               problems=problems), 422
    try:
        batch = batches.create_batch(
            db.session, batches.parse_csv(text), actor=SHOPPER, keyring=keyring(),
            secret=current_app.config["SECRET_KEY"], store_code=request.form.get("store_code")
            or None, locale=str(get_locale() or "en"), link_base=request.url_root,
            buyer_email=order.buyer_email)
    except InvalidInput as exc:
        db.session.rollback()
        return render_template("shopper/business_upload.html", order=order,
                               problems=_problem_lines(exc.errors)), 422
    returns = [{"number": r.number, "link": url_for("shopper.status", number=r.number,
                                                    k=access_key(r.number))}
               for r in batches.batch_returns(db.session, batch)]
    return render_template("shopper/business_upload.html", order=order, batch=batch,
                           returns=returns), 201
