"""Signing in to HQ with a password, and out."""

from __future__ import annotations

from flask import (
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from hub.audit import service as audit
from hub.audit.service import Actor
from hub.auth.service import AuthError, authenticate_password
from hub.extensions import db, limiter
from hub.hq.access import HQ_ROLES
from portal.hq.base import (
    bp,
)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def login():
    error = None
    if request.method == "POST":
        try:
            user = authenticate_password(db.session, request.form.get("email", ""),
                                         request.form.get("password", ""))
        except AuthError:
            error = _("E-mail or password is wrong, or the account is locked for 15 minutes "
                      "after too many failed attempts (an admin can unlock it).")
        else:
            if user.role not in HQ_ROLES:
                db.session.rollback()
                error = _("Your role has no access to the HQ console.")
            else:
                audit.record(db.session, Actor("user", user.id, user.name, user.store_id),
                             "user.signed_in", "user", user.id)
                session.clear()
                login_user(user)
                nxt = request.args.get("next", "")
                return redirect(nxt if nxt.startswith("/hq/") else url_for("hq.dashboard_page"))
    return render_template("hq/login.html", error=error), 422 if error else 200


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("hq.login"))


