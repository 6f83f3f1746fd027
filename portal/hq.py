"""HQ console: sign in with a password, watch intake across the stores, act on the queues,
drill into any return, run the chain's configuration and read the audit log. Views stay
thin: the hq services check permissions and stores themselves and write the audit events;
a view parses the form, calls one service, commits once and redirects."""

from __future__ import annotations

import csv
import functools
import io
import json
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from babel.dates import format_datetime
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from markupsafe import Markup

from hub.audit import present
from hub.audit import service as audit
from hub.audit.service import Actor
from hub.auth.models import ROLES, ApiKey, Device, User
from hub.auth.service import AuthError, authenticate_password
from hub.extensions import db, limiter
from hub.hq import admin, charts, dashboard, detail, queues
from hub.hq.access import HQ_ROLES, Forbidden, Scope
from hub.intake.inspection import DISPOSITION_LABELS
from hub.intake.models import Photo
from hub.jobs.runner import PERIODIC
from hub.models import utcnow
from hub.policy.models import BlocklistEntry
from hub.policy.service import BLOCK_KINDS, current_policy
from hub.stores.hours import WeeklyHours
from hub.stores.models import Store
from hub.stores.service import get_store, import_stores
from hub.text import N_
from hub.validation import InvalidInput
from hub.web.i18n import money
from hub.web.session import require_role

bp = Blueprint("hq", __name__, url_prefix="/hq")
PAGE = 50


def hq_required(view):
    """A signed-in person with an HQ role (sign-in and role check: the shared
    ``require_role``); g.scope and g.actor describe them to the services."""

    @functools.wraps(view)
    @require_role(*HQ_ROLES, login_endpoint="hq.login")
    def wrapper(*args, **kwargs):
        g.scope = Scope(current_user.id, current_user.role, current_user.store_id,
                        current_user.name)
        g.actor = Actor("user", current_user.id, current_user.name,
                        store_id=current_user.store_id)
        return view(*args, **kwargs)

    return wrapper


@bp.errorhandler(Forbidden)
def _forbidden(exc: Forbidden):
    db.session.rollback()
    return render_template("error.html", status=403, title=_("Not allowed"),
                           detail=_("Your role cannot do this.")), 403


@bp.app_template_filter("hours")
def _hours_filter(seconds_or_hours: float | None) -> str:
    return "—" if seconds_or_hours is None else f"{seconds_or_hours:.1f} h"


@bp.app_template_global("age_label")
def _age_label(bucket: str) -> str:
    for low, high, name in dashboard.AGE_BUCKETS:
        if name == bucket:
            return (_("%(low)s to %(high)s days", low=low, high=high) if high is not None
                    else _("%(days)s days or more", days=low))
    return bucket


@bp.app_template_filter("zip")
def _zip_filter(left, right):
    return zip(left, right, strict=False)


def _tz() -> str:
    return current_app.config.get("HQ_TIMEZONE", "UTC")


@bp.app_template_global("when")
def _when(at: datetime | None, tz: str | None = None) -> str:
    """A stored (UTC) time in the zone of the store it happened at (HQ's otherwise), in the
    reader's locale, with the zone's abbreviation so no one guesses."""
    if at is None:
        return ""
    zone = ZoneInfo(tz or _tz())
    local = at.astimezone(zone)
    text = format_datetime(local, "medium", tzinfo=zone, locale=str(get_locale() or "en"))
    return f"{text} {local.tzname()}"


def _value_text(value: present.Value | None, names: dict[int, str],
                units: dict[int, str]) -> str:
    if value is None:
        return ""
    if value.kind == "money":
        return money(value.raw, value.currency)
    if value.kind == "user":
        return names.get(int(value.raw), _("person #%(id)s", id=value.raw))
    if value.kind == "unit":
        return units.get(int(value.raw), f"#{value.raw}")
    if value.kind == "label":
        return _(value.raw)
    if value.kind == "flag":
        return _("yes") if value.raw else _("no")
    if value.kind == "list":
        return ", ".join(_value_text(v, names, units) for v in value.raw)
    return str(value.raw)


def readable(items, *, currency: str = "", units: dict[int, str] | None = None) -> list[dict]:
    """Audit events or timeline moments as people read them: what happened, translated, and
    each change with amounts in their currency and people by name (one query for all)."""
    def parts(item) -> tuple[str, dict, dict]:
        if isinstance(item, detail.Moment):
            return item.what, item.before, item.detail
        return item.action, item.before, item.after  # an AuditEvent

    readings = [present.describe(*parts(i), currency=currency) for i in items]
    ids = present.people(readings)
    names = dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(ids)))
                 .all()) if ids else {}
    units = units or {}
    return [{"title": _(r.title) if r.title in present.ACTIONS.values() else r.title,
             "changes": [(_(c.label) if c.label in present.FIELD_LABELS else c.label,
                          _value_text(c.before, names, units),
                          _value_text(c.after, names, units)) for c in r.changes]}
            for r in readings]


@bp.app_context_processor
def _presentation():
    from hub.vouchers.crypto import format_short_code

    return {"present_actions": present.ACTIONS, "journal_step": detail.journal_step,
            "format_code": format_short_code}


@bp.app_template_global("label_of")
def _label_of(kind: str, value: str | None) -> str:
    label = present.LABELS.get(kind, {}).get(value or "")
    return _(label) if label else (value or "")


@bp.app_template_global("status_label")
def _status_label(status: str | None) -> str:
    label = present.STATUSES.get(status or "")
    return _(label) if label else (status or "")


def _fail_flash(exc: InvalidInput) -> None:
    db.session.rollback()
    for error in exc.errors:
        flash(f"{error['field']}: {error['message']}", "bad")


_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _cell(value):
    """A cell a spreadsheet will not run: text starting like a formula gets a quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") \
            and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _csv(filename: str, header: list[str], rows) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# --- sign-in ------------------------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def login():
    error = None
    if request.method == "POST":
        try:
            user = authenticate_password(db.session, request.form.get("email", ""),
                                         request.form.get("password", ""))
        except AuthError:
            db.session.commit()  # the failed attempt counts towards the lock-out
            error = _("E-mail or password is wrong, or the account is locked for 15 minutes "
                      "after too many failed attempts (an admin can unlock it).")
        else:
            if user.role not in HQ_ROLES:
                db.session.rollback()
                error = _("Your role has no access to the HQ console.")
            else:
                audit.record(db.session, Actor("user", user.id, user.name, user.store_id),
                             "user.signed_in", "user", user.id)
                db.session.commit()
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


# --- dashboard ----------------------------------------------------------------------------------

def _figures():
    kind = request.args.get("range", "week")
    try:
        rng = dashboard.date_range(kind, _tz(), utcnow(), request.args.get("from", ""),
                                   request.args.get("to", ""))
    except dashboard.RangeError as exc:
        flash(str(exc), "bad")
        rng = dashboard.date_range("week", _tz(), utcnow())
    return dashboard.figures(db.session, rng, g.scope, utcnow())


def _charts(fig: dashboard.Figures) -> dict[str, Markup]:
    from hub.policy.models import ReturnReason

    reason_labels = {code: _(label) for code, label in
                     db.session.execute(sa.select(ReturnReason.code, ReturnReason.label))}
    return {
        "map": Markup(charts.store_map(
            [charts.MapPoint(s.latitude, s.longitude, s.intakes, f"{s.code} {s.name}")
             for s in fig.map_stores], label=_("Stores by drop-offs in the range"))),
        "volume": Markup(charts.column_chart(
            [(d.strftime("%m-%d"), n) for d, _issued, n in fig.volume],
            label=_("Drop-offs per day"))),
        "issued": Markup(charts.column_chart(
            [(d.strftime("%m-%d"), n) for d, n, _taken in fig.volume],
            label=_("Vouchers issued per day"))),
        "reasons": Markup(charts.bar_chart(
            [(reason_labels.get(code, code), n) for code, n in fig.reasons[:10]],
            label=_("Top return reasons"))),
        "grades": Markup(charts.bar_chart(fig.grades, label=_("Grades"))),
        "dispositions": Markup(charts.bar_chart(
            [(_(DISPOSITION_LABELS.get(code, code)), n) for code, n in fig.dispositions],
            label=_("Dispositions"))),
    }


@bp.get("/")
@hq_required
def dashboard_page():
    fig = _figures()
    return render_template("hq/dashboard.html", fig=fig, charts=_charts(fig),
                           args=request.args)


@bp.get("/dashboard/panel")
@hq_required
def dashboard_panel():
    """The figures alone, for htmx: range changes and the minute refresh swap only this."""
    fig = _figures()
    return render_template("hq/_dashboard_panel.html", fig=fig, charts=_charts(fig),
                           args=request.args)


DASHBOARD_TABLES = ("stores", "volume", "reasons", "grades", "dispositions", "backlog",
                    "capacity")


@bp.get("/dashboard.csv")
@hq_required
def dashboard_csv():
    table = request.args.get("table", "stores")
    if table not in DASHBOARD_TABLES:
        abort(404)
    fig = _figures()
    span = f"{fig.range.first_day}_{fig.range.last_day}"
    if table == "stores":
        return _csv(f"homing-stores-{span}.csv",
                    ["store", "name", "drop_offs", "completed", "units_accepted",
                     "units_rejected", "refund_value", "currency", "daily_capacity"],
                    ([s.code, s.name, s.intakes, s.completed, s.accepted, s.rejected,
                      f"{v}", c, s.capacity]
                     for s in fig.stores for c, v in (_money_rows(s.refund_value) or [("", "")])))
    if table == "volume":
        return _csv(f"homing-volume-{span}.csv", ["day", "vouchers_issued", "drop_offs"],
                    ([d.isoformat(), i, n] for d, i, n in fig.volume))
    if table == "backlog":
        return _csv("homing-backlog.csv", ["what", "age", "count"],
                    [*(["vouchers_not_dropped_off", a, n] for a, n in fig.vouchers_waiting),
                     *(["refunds_pending", a, n] for a, n in fig.refunds_waiting)])
    if table == "capacity":
        return _csv("homing-near-capacity.csv", ["store", "name", "drop_offs_today",
                                                 "daily_capacity"],
                    ([s.code, s.name, n, s.capacity] for s, n in fig.near_capacity))
    rows = {"reasons": fig.reasons, "grades": fig.grades, "dispositions": fig.dispositions}[table]
    return _csv(f"homing-{table}-{span}.csv", [table.rstrip("s"), "units"], rows)


def _money_rows(values: dict[str, int]) -> list[tuple[str, str]]:
    from hub.money import amount_text

    return [(currency, amount_text(minor, currency)) for currency, minor in sorted(values.items())]


# --- queues -------------------------------------------------------------------------------------

@bp.get("/queues")
@hq_required
def queues_page():
    from hub.jobs.deadlines import WAITING_REASONS

    return render_template("hq/queues.html", q=_all_queues(), now=utcnow(),
                           waiting_reasons=WAITING_REASONS)


def _all_queues() -> queues.Queues:
    from hub.jobs.queue import redis_connection

    return queues.all_queues(db.session, g.scope, utcnow(),
                             redis=redis_connection(current_app))


def _queue_rows(q: queues.Queues, name: str) -> tuple[list[str], list]:
    """One queue as a CSV table (header, rows); codes and ISO times, for spreadsheets."""
    def at(moment) -> str:
        return moment.isoformat() if moment else ""

    if name == "approvals":
        return (["return", "store", "waiting_since", "expected_refund", "currency", "reasons"],
                [[rma.number, store.code, at(intake.started_at), rma.expected_refund,
                  rma.currency, " ".join(intake.approval_reasons)]
                 for intake, rma, store in q.approvals])
    if name == "risk":
        return (["return", "score", "flags", "status"],
                [[r.number, r.risk_score, " ".join(f["code"] for f in r.risk_flags), r.status]
                 for r in q.risk])
    if name in ("failed_refunds", "near_deadline"):
        return (["refund", "status", "amount_minor", "currency", "due_at", "failure_code",
                 "failure_message"],
                [[r.id, r.status, r.amount, r.currency, at(r.due_at), r.failure_code,
                  r.failure_message] for r in getattr(q, name)])
    if name == "mismatches":
        return (["settlement", "outcome", "adjustment_item_id", "refund", "currency",
                 "homing_minor", "amazon_minor"],
                [[m.settlement_id, m.outcome, m.adjustment_item_id, m.refund_id or "",
                  m.currency, m.homing_amount, m.amazon_amount] for m in q.mismatches])
    if name == "overdue":
        return (["kind", "ref", "state", "since", "deadline", "owner", "attempts", "last_error",
                 "waiting_reason"],
                [[o.kind, o.ref, o.state, at(o.since), at(o.deadline), o.owner,
                  "" if o.attempts is None else o.attempts, o.last_error, o.waiting_reason]
                 for o in q.overdue])
    if name == "dead_messages":
        return (["message", "topic", "status", "attempts", "last_error"],
                [[m.id, m.topic, m.status, m.attempts, m.last_error] for m in q.dead_messages])
    abort(404)


@bp.get("/queues/<name>.csv")
@hq_required
def queue_csv(name: str):
    header, rows = _queue_rows(_all_queues(), name)
    return _csv(f"homing-{name.replace('_', '-')}.csv", header, rows)


def _queue_action(run, done: str, back: str = "hq.queues_page"):
    try:
        run()
    except queues.QueueError as exc:
        db.session.rollback()
        flash(str(exc), "bad")
    else:
        db.session.commit()
        flash(done, "ok")
    return redirect(url_for(back))


@bp.post("/queues/risk/<number>")
@hq_required
def review_risk(number: str):
    return _queue_action(lambda: queues.review_risk(
        db.session, g.scope, g.actor, number, outcome=request.form.get("outcome", ""),
        note=request.form.get("note", "")), _("Review recorded."))


@bp.post("/queues/refunds/<int:refund_id>/retry")
@hq_required
def retry_refund(refund_id: int):
    return _queue_action(lambda: queues.retry_refund(db.session, g.scope, g.actor, refund_id),
                         _("The refund is queued again."))


@bp.post("/queues/outbox/<int:message_id>/replay")
@hq_required
def replay_message(message_id: int):
    return _queue_action(
        lambda: queues.replay_message(db.session, g.scope, g.actor, message_id),
        _("The message will be delivered again."))


@bp.post("/queues/mismatches/<int:item_id>/resolve")
@hq_required
def resolve_mismatch(item_id: int):
    return _queue_action(lambda: queues.resolve_mismatch(
        db.session, g.scope, g.actor, item_id, request.form.get("note", ""), utcnow()),
        _("Marked as resolved."))


# --- drill-down ---------------------------------------------------------------------------------

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
    return render_template("hq/search.html", query=query, found=found, hq_tz=_tz(),
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


# --- administration -----------------------------------------------------------------------------

@bp.get("/admin/stores")
@hq_required
def stores_page():
    g.scope.require("stores.manage")
    text = request.args.get("q", "").strip()
    query = sa.select(Store).order_by(Store.code)
    if text:
        like = f"%{text}%"
        query = query.where(sa.or_(Store.code.ilike(like), Store.name.ilike(like),
                                   Store.city.ilike(like), Store.postal_code.ilike(like)))
    page = max(1, request.args.get("page", 1, type=int))
    rows = db.session.scalars(query.limit(PAGE + 1).offset((page - 1) * PAGE)).all()
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
            _fail_flash(exc)
        else:
            db.session.commit()
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
    db.session.commit()
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
            db.session.commit()
            flash(_("Policy version %(v)s is live. Returns already issued keep theirs.",
                    v=version.version), "ok")
            return redirect(url_for("hq.policy_page"))
    from hub.policy.models import PolicyVersion

    versions = db.session.scalars(sa.select(PolicyVersion)
                                  .order_by(PolicyVersion.version.desc()).limit(20)).all()
    return (render_template("hq/policy.html", current=current, text=text, errors=errors,
                            versions=versions), 422 if errors else 200)


@bp.get("/admin/people")
@hq_required
def people_page():
    return _render_people()


def _render_people(secret: str | None = None):
    g.scope.require("users.manage")
    users = db.session.scalars(sa.select(User).order_by(User.role, User.name).limit(500)).all()
    keys = db.session.scalars(sa.select(ApiKey).order_by(ApiKey.id.desc()).limit(200)).all()
    devices = db.session.scalars(sa.select(Device).order_by(Device.id.desc()).limit(200)).all()
    store_ids = {u.store_id for u in users} | {k.store_id for k in keys} | \
        {d.store_id for d in devices}
    stores = {s.id: s for s in db.session.scalars(sa.select(Store).where(
        Store.id.in_([i for i in store_ids if i])))}
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
        _fail_flash(exc)
    else:
        db.session.commit()
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
            _fail_flash(exc)
        else:
            db.session.commit()
            flash(_("Added to the blocklist."), "ok")
        return redirect(url_for("hq.blocklist_page"))
    entries = db.session.scalars(sa.select(BlocklistEntry)
                                 .order_by(BlocklistEntry.id.desc()).limit(500)).all()
    return render_template("hq/blocklist.html", entries=entries, kinds=BLOCK_KINDS)


@bp.post("/admin/blocklist/<int:entry_id>/remove")
@hq_required
def remove_block(entry_id: int):
    entry = db.session.get(BlocklistEntry, entry_id) or abort(404)
    try:
        admin.remove_block(db.session, g.scope, g.actor, entry, request.form.get("reason", ""))
    except InvalidInput as exc:
        _fail_flash(exc)
    else:
        db.session.commit()
        flash(_("Removed from the blocklist."), "ok")
    return redirect(url_for("hq.blocklist_page"))


@bp.route("/admin/connector", methods=["GET", "POST"])
@hq_required
def connector_page():
    g.scope.require("connector.manage")
    if request.method == "POST":
        return _queue_action(lambda: queues.set_job_paused(
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


# --- audit log ----------------------------------------------------------------------------------

def _audit_filters() -> dict:
    args = request.args

    def day(name: str, days_after: int = 0) -> datetime | None:
        if not args.get(name):
            return None
        try:
            start = datetime.combine(date.fromisoformat(args[name]), time.min, UTC)
        except ValueError:
            flash(_("Dates are YYYY-MM-DD."), "bad")
            return None
        return start + timedelta(days=days_after)

    return {"action": args.get("action", "").strip(), "subject": args.get("subject", "").strip(),
            "actor": args.get("actor", "").strip(), "store": args.get("store", "").strip(),
            "since": day("from"), "until": day("to", days_after=1)}


@bp.get("/audit")
@hq_required
def audit_page():
    g.scope.require("audit.view")
    filters = _audit_filters()
    before = request.args.get("before", type=int)
    events = audit.search(db.session, **filters, before_id=before, limit=PAGE + 1)
    broken = audit.verify_chain(db.session) if request.args.get("verify") else None
    query = {k: v for k, v in request.args.items() if k not in ("verify", "before")}
    shown = events[:PAGE]
    stores = {e.store_id for e in shown} - {None}
    zones = dict(db.session.execute(sa.select(Store.id, Store.timezone)
                                    .where(Store.id.in_(stores))).all()) if stores else {}
    return render_template("hq/audit.html", events=shown, more=len(events) > PAGE,
                           readings=readable(shown), zones=zones, hq_tz=_tz(),
                           returns=detail.subject_returns(db.session, shown),
                           args=request.args, query=query, verified=request.args.get("verify"),
                           broken=broken)


@bp.get("/audit.csv")
@hq_required
def audit_csv():
    g.scope.require("audit.view")
    events = audit.search(db.session, **_audit_filters(), limit=100_000)
    return _csv("homing-audit.csv",
                ["id", "occurred_at", "actor_type", "actor_id", "actor", "store_id", "action",
                 "subject_type", "subject_id", "before", "after", "hash", "prev_hash"],
                ([e.id, e.occurred_at.isoformat(), e.actor_type, e.actor_id, e.actor_label,
                  e.store_id, e.action, e.subject_type, e.subject_id,
                  json.dumps(e.before, sort_keys=True, default=str),
                  json.dumps(e.after, sort_keys=True, default=str), e.hash, e.prev_hash]
                 for e in events))
