"""HQ > Webhooks: the endpoints that hear of returns, intakes, refunds, stock and credit;
each endpoint's deliveries with the answer it gave, and a replay of any event."""

from __future__ import annotations

from flask import abort, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from hub.extensions import db
from hub.validation import InvalidInput
from hub.webhooks import service
from hub.webhooks.events import EVENTS
from hub.webhooks.models import WebhookDelivery, WebhookEndpoint
from portal.hq.base import bp, hq_required

# Why an endpoint was refused, in the admin's language (service codes -> text).
REFUSALS = {
    "invalid_name": _l("Give the endpoint a name of 1 to 120 characters."),
    "invalid_events": _l("Choose at least one event."),
    "invalid_url": _l("This is not a URL Homing can call."),
    "scheme_refused": _l("The URL must start with https://."),
    "unresolvable": _l("The URL's host name does not resolve."),
    "private_address": _l("The URL points to a private or reserved address; Homing calls "
                          "only public addresses."),
}
EVENT_LABELS = {
    "return.issued": _l("A return was issued"),
    "intake.completed": _l("A store completed an intake"),
    "refund.succeeded": _l("Amazon accepted a refund"),
    "refund.failed": _l("Amazon refused a refund"),
    "stock.moved": _l("A store's stock changed"),
    "credit.issued": _l("Store credit was issued"),
    "credit.redeemed": _l("Store credit was redeemed"),
}


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    g.scope.require("webhooks.manage")
    return db.session.get(WebhookEndpoint, endpoint_id) or abort(404)


def _with_secret(page):
    # The signing secret: in this response only, never stored in the clear or shown again.
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(exc: InvalidInput) -> None:
    db.session.rollback()
    for error in exc.errors:
        flash(str(REFUSALS.get(error.get("code", ""), error["message"])), "bad")


@bp.get("/admin/webhooks")
@hq_required
def webhooks_page(secret: str | None = None):
    g.scope.require("webhooks.manage")
    return render_template("hq/webhooks.html", endpoints=service.endpoints(db.session),
                           events=[(name, EVENT_LABELS.get(name, name)) for name in EVENTS],
                           secret=secret)


@bp.post("/admin/webhooks")
@hq_required
def create_webhook():
    g.scope.require("webhooks.manage")
    try:
        _endpoint_row, secret = service.create_endpoint(
            db.session, g.actor, name=request.form.get("name", ""),
            url=request.form.get("url", ""), events=request.form.getlist("events"))
    except InvalidInput as exc:
        _refused(exc)
        return redirect(url_for("hq.webhooks_page"))
    flash(_("Endpoint added. Copy its signing secret now: it is not shown again."), "ok")
    return _with_secret(webhooks_page(secret=secret))


@bp.get("/admin/webhooks/<int:endpoint_id>")
@hq_required
def webhook_page(endpoint_id: int, secret: str | None = None):
    endpoint = _endpoint(endpoint_id)
    return render_template("hq/webhook.html", endpoint=endpoint,
                           deliveries=service.deliveries(db.session, endpoint),
                           waiting=service.waiting(db.session, endpoint),
                           labels=EVENT_LABELS, secret=secret)


@bp.post("/admin/webhooks/<int:endpoint_id>/active")
@hq_required
def set_webhook_active(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    active = request.form.get("active") == "1"
    service.set_active(db.session, g.actor, endpoint, active)
    flash(_("Endpoint activated.") if active else _("Endpoint deactivated."), "ok")
    return redirect(url_for("hq.webhook_page", endpoint_id=endpoint.id))


@bp.post("/admin/webhooks/<int:endpoint_id>/secret")
@hq_required
def rotate_webhook_secret(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    secret = service.rotate_secret(db.session, g.actor, endpoint)
    flash(_("New signing secret. Copy it now: it is not shown again."), "ok")
    return _with_secret(webhook_page(endpoint.id, secret=secret))


@bp.post("/admin/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/replay")
@hq_required
def replay_webhook(endpoint_id: int, delivery_id: int):
    endpoint = _endpoint(endpoint_id)
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint.id:
        abort(404)
    try:
        service.replay(db.session, g.actor, delivery)
    except LookupError:
        db.session.rollback()
        flash(_("This event is no longer kept; it cannot be sent again."), "bad")
    else:
        flash(_("The event will be sent again."), "ok")
    return redirect(url_for("hq.webhook_page", endpoint_id=endpoint.id))
