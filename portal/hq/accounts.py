"""HQ's Amazon accounts page: each selling account's credentials reference and health, what
waits on it, and the admin's actions. Thin: parse the form, call hub.hq.accounts, commit."""

from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from hub.amazon.accounts import AccountInputError
from hub.amazon.models import ACCOUNT_KINDS, ACCOUNT_REGIONS
from hub.extensions import db
from hub.hq import accounts as hq_accounts
from portal.hq.base import bp, hq_required

# The health words, as the page and the flash show them.
HEALTH_WORDS = {"unchecked": lambda: _l("not checked yet"), "ok": lambda: _l("working"),
                "missing": lambda: _l("credentials missing"),
                "refused": lambda: _l("credentials refused by Amazon"),
                "unreachable": lambda: _l("Amazon not reachable")}


@bp.get("/accounts")
@hq_required
def accounts_page():
    rows = hq_accounts.overview(db.session, g.scope)
    return render_template("hq/accounts.html", rows=rows, kinds=ACCOUNT_KINDS,
                           regions=ACCOUNT_REGIONS, market=hq_accounts.marketplace_name,
                           can_manage=g.scope.can("accounts.manage"),
                           health_words={k: v() for k, v in HEALTH_WORDS.items()})


def _done(run, message):
    """Run one service call (the request commits it) and say ``message(result)``, or say
    what was wrong."""
    try:
        result = run()
    except AccountInputError as exc:
        db.session.rollback()
        flash(_(exc.template, **exc.params), "bad")
        return redirect(url_for("hq.accounts_page"))
    flash(message(result), "ok")
    return redirect(url_for("hq.accounts_page"))


@bp.post("/accounts")
@hq_required
def save_account():
    form = request.form
    return _done(lambda: hq_accounts.save_account(
        db.session, g.scope, g.actor, seller_id=form.get("seller_id", ""),
        kind=form.get("kind", ""), region=form.get("region", ""),
        marketplaces=form.get("marketplaces", ""),
        credentials_ref=form.get("credentials_ref", ""), name=form.get("name", "")),
        lambda _account: _("Account saved. Check it to see whether Amazon accepts its "
                           "credentials."))


@bp.post("/accounts/<seller_id>/check")
@hq_required
def check_account(seller_id: str):
    app = current_app._get_current_object()
    return _done(lambda: hq_accounts.check_now(app, db.session, g.scope, g.actor, seller_id),
                 lambda health: _("Checked: %(health)s.", health=HEALTH_WORDS[health]()))


@bp.post("/accounts/<seller_id>/active")
@hq_required
def set_account_active(seller_id: str):
    active = request.form.get("active") == "1"
    return _done(lambda: hq_accounts.set_active(db.session, g.scope, g.actor, seller_id,
                                                active),
                 lambda _none: _("The account's jobs run again.") if active else
                 _("The account is switched off: its jobs do not run."))
