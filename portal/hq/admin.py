"""The chain's configuration: stores, policy, people and devices, blocklist, Amazon connector."""

from __future__ import annotations

import io
import json

from flask import (
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from hub.auth.models import ROLES, ApiKey, Device, User
from hub.extensions import db
from hub.hq import admin, queues
from hub.hq import queries as hq_queries
from hub.jobs.runner import PERIODIC
from hub.models import utcnow
from hub.policy.models import BlocklistEntry
from hub.policy.service import BLOCK_KINDS, current_policy
from hub.stores.hours import WeeklyHours
from hub.stores.models import Store
from hub.stores.service import get_store, import_stores
from hub.validation import InvalidInput
from portal.hq.base import (
    PAGE,
    bp,
    fail_flash,
    hq_required,
)
from portal.hq.queues import queue_action


@bp.get("/admin/stores")
@hq_required
def stores_page():
    g.scope.require("stores.manage")
    text = request.args.get("q", "").strip()
    page = max(1, request.args.get("page", 1, type=int))
    rows = hq_queries.stores_matching(db.session, text, page, PAGE)
    return render_template("hq/stores.html", stores=rows[:PAGE], more=len(rows) > PAGE,
                           page=page, q=text)


@bp.route("/admin/stores/<code>", methods=["GET", "POST"])
@hq_required
def store_page(code: str):
    g.scope.require("stores.manage")
    store = get_store(db.session, code) or abort(404)
    if request.method == "POST":
        try:
            admin.update_store(db.session, g.scope, g.actor, store,
                               name=request.form.get("name", ""),
                               hours=request.form.get("hours", ""),
                               categories=request.form.get("categories", ""),
                               capacity=request.form.get("daily_capacity", ""),
                               active=request.form.get("active") == "on")
        except InvalidInput as exc:
            fail_flash(exc)
        else:
            flash(_("Store saved."), "ok")
        return redirect(url_for("hq.store_page", code=code))
    return render_template("hq/store.html", store=store,
                           hours_text=WeeklyHours.from_dict(store.hours).to_text())


@bp.post("/admin/stores/import")
@hq_required
def stores_import():
    g.scope.require("stores.manage")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a CSV or JSON file."), "bad")
        return redirect(url_for("hq.stores_page"))
    fmt = "json" if upload.filename.lower().endswith(".json") else "csv"
    text = upload.read().decode("utf-8-sig", errors="replace")
    summary = import_stores(db.session, io.StringIO(text), fmt=fmt, actor=g.actor)
    flash(summary.line(), "ok" if not summary.errors else "warn")
    for error in summary.errors[:10]:
        flash(_("Line %(line)s: %(reason)s", line=error.line, reason=error.reason), "bad")
    return redirect(url_for("hq.stores_page"))


@bp.route("/admin/policy", methods=["GET", "POST"])
@hq_required
def policy_page():
    g.scope.require("policy.manage")
    current = current_policy(db.session)
    text = json.dumps(current.document, indent=2, sort_keys=True)
    errors: list[dict] = []
    if request.method == "POST":
        text = request.form.get("document", "")
        try:
            version = admin.publish_policy_text(db.session, g.scope, g.actor, text,
                                                request.form.get("note", ""))
        except InvalidInput as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            flash(_("Policy version %(v)s is live. Returns already issued keep theirs.",
                    v=version.version), "ok")
            return redirect(url_for("hq.policy_page"))
    versions = hq_queries.recent_policy_versions(db.session)
    return (render_template("hq/policy.html", current=current, text=text, errors=errors,
                            versions=versions), 422 if errors else 200)


@bp.get("/admin/people")
@hq_required
def people_page():
    return _render_people()


def _render_people(secret: str | None = None):
    g.scope.require("users.manage")
    users, keys, devices, stores = hq_queries.people(db.session)
    return render_template("hq/people.html", users=users, keys=keys, devices=devices,
                           stores=stores, roles=ROLES, now=utcnow(), secret=secret)


def _store_from_form(field: str = "store") -> Store | None:
    code = request.form.get(field, "").strip()
    if not code:
        return None
    store = get_store(db.session, code)
    if store is None:
        raise InvalidInput([{"field": field, "message": f"no store with code {code!r}"}])
    return store


def _people_action(run, done: str):
    try:
        result = run()
    except InvalidInput as exc:
        fail_flash(exc)
    else:
        flash(done, "ok")
        if isinstance(result, str):
            # A new key or enrolment link: shown in this response only, never stored (not
            # even in the session cookie) and never shown again.
            response = make_response(_render_people(secret=result))
            response.headers["Cache-Control"] = "no-store"
            return response
    return redirect(url_for("hq.people_page"))


@bp.post("/admin/people/users")
@hq_required
def create_user():
    form = request.form

    def run():
        store = _store_from_form()
        admin.create_user(db.session, g.scope, g.actor, name=form.get("name", ""),
                          role=form.get("role", ""), email=form.get("email", ""),
                          password=form.get("password", ""),
                          store_id=store.id if store else None,
                          staff_number=form.get("staff_number", ""), pin=form.get("pin", ""))

    return _people_action(run, _("User created."))


def _user(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


@bp.post("/admin/people/users/<int:user_id>/active")
@hq_required
def set_user_active(user_id: int):
    active = request.form.get("active") == "1"
    return _people_action(lambda: admin.set_user_active(db.session, g.scope, g.actor,
                                                        _user(user_id), active),
                          _("User activated.") if active else _("User deactivated."))


@bp.post("/admin/people/users/<int:user_id>/unlock")
@hq_required
def unlock_user(user_id: int):
    return _people_action(lambda: admin.unlock_user(db.session, g.scope, g.actor,
                                                    _user(user_id)), _("User unlocked."))


@bp.post("/admin/people/keys")
@hq_required
def create_key():
    def run() -> str:
        _key, plaintext = admin.create_key(db.session, g.scope, g.actor,
                                           name=request.form.get("name", ""),
                                           role=request.form.get("role", ""),
                                           store_code=request.form.get("store", "").strip())
        return plaintext

    return _people_action(run, _("API key created. Copy it now: it is not shown again."))


@bp.post("/admin/people/keys/<int:key_id>/revoke")
@hq_required
def revoke_key(key_id: int):
    key = db.session.get(ApiKey, key_id) or abort(404)
    return _people_action(lambda: admin.revoke_key(db.session, g.scope, g.actor, key),
                          _("API key revoked."))


@bp.post("/admin/people/devices")
@hq_required
def enroll_device():
    def run() -> str:
        store = _store_from_form()
        if store is None:
            raise InvalidInput([{"field": "store", "message": "is required"}])
        _device, token = admin.enroll_device(db.session, g.scope, g.actor, store=store,
                                             name=request.form.get("name", ""))
        return url_for("store.enroll", token=token, _external=True)

    return _people_action(run, _("Tablet enrolled. Open the link on the tablet; it is shown "
                                 "only now."))


@bp.post("/admin/people/devices/<int:device_id>/revoke")
@hq_required
def revoke_device(device_id: int):
    device = db.session.get(Device, device_id) or abort(404)
    return _people_action(lambda: admin.revoke_device(db.session, g.scope, g.actor, device),
                          _("Tablet revoked."))


@bp.route("/admin/blocklist", methods=["GET", "POST"])
@hq_required
def blocklist_page():
    g.scope.require("blocklist.manage")
    if request.method == "POST":
        try:
            admin.add_block(db.session, g.scope, g.actor, current_app.config["SECRET_KEY"],
                            kind=request.form.get("kind", ""),
                            value=request.form.get("value", ""),
                            reason=request.form.get("reason", ""))
        except InvalidInput as exc:
            fail_flash(exc)
        else:
            flash(_("Added to the blocklist."), "ok")
        return redirect(url_for("hq.blocklist_page"))
    entries = hq_queries.blocklist(db.session)
    return render_template("hq/blocklist.html", entries=entries, kinds=BLOCK_KINDS)


@bp.post("/admin/blocklist/<int:entry_id>/remove")
@hq_required
def remove_block(entry_id: int):
    entry = db.session.get(BlocklistEntry, entry_id) or abort(404)
    try:
        admin.remove_block(db.session, g.scope, g.actor, entry, request.form.get("reason", ""))
    except InvalidInput as exc:
        fail_flash(exc)
    else:
        flash(_("Removed from the blocklist."), "ok")
    return redirect(url_for("hq.blocklist_page"))


@bp.route("/admin/connector", methods=["GET", "POST"])
@hq_required
def connector_page():
    g.scope.require("connector.manage")
    if request.method == "POST":
        return queue_action(lambda: queues.set_job_paused(
            db.session, g.scope, g.actor, request.form.get("job", ""),
            request.form.get("paused") == "1"), _("Saved."), back="hq.connector_page")
    statuses = queues.connectors(db.session, g.scope)
    by_name = {row.name: row for row in statuses}
    jobs = [(name, every, by_name.get(f"job:{name}")) for name, every, _f in PERIODIC]
    config = current_app.config
    settings = {
        "AMAZON_MODE": config.get("AMAZON_MODE"),
        "AMAZON_ENDPOINT": config.get("AMAZON_ENDPOINT") or "—",
        "AMAZON_CREDENTIALS_FILE": config.get("AMAZON_CREDENTIALS_FILE") or "—",
        "AMAZON_RATE_MULTIPLIER": config.get("AMAZON_RATE_MULTIPLIER"),
        "FINANCE_WEBHOOK_URL": config.get("FINANCE_WEBHOOK_URL") or "—",
        "REDIS_URL": "set" if config.get("REDIS_URL") else "— (in-process jobs)",
    }
    return render_template("hq/connector.html", jobs=jobs, settings=settings,
                           statuses=[r for r in statuses if not r.name.startswith("job:")])
