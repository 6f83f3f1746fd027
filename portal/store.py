"""The store tablet: enrol the device, sign in with a PIN, scan, inspect each unit on its own
screen, approve, complete, print the receipt, see today's intake. Views stay thin: the intake
service does the work; every mutating form carries an idempotency key, so a double tap or an
offline replay never acts twice."""

from __future__ import annotations

import functools
import json
import re
import uuid
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_babel import format_currency
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from hub.audit.service import Actor
from hub.auth.models import User
from hub.auth.service import AuthError, authenticate_device, authenticate_pin
from hub.business import service as business
from hub.extensions import db, limiter
from hub.intake import inspection, photos
from hub.intake import service as intakes
from hub.intake.models import Intake, Photo
from hub.models import utcnow
from hub.orders.models import Order, OrderLine
from hub.orders.service import AMAZON_ORDER_ID
from hub.policy.approvals import ROLE_LABELS
from hub.policy.service import REASONS
from hub.returns import queries as returns_queries
from hub.returns.models import ReturnAuthorization, ReturnLine
from hub.returns.states import TransitionError
from hub.stores.models import Store
from hub.validation import InvalidInput
from hub.vendor.service import sold_by_amazon
from hub.vouchers.crypto import VoucherError
from hub.vouchers.keys import keyring
from hub.web.errors import Problem
from hub.web.idempotency import fingerprint, run_once
from hub.web.limits import caller_key
from hub.web.session import DEVICE_COOKIE, current_device

bp = Blueprint("store", __name__, url_prefix="/store")


def voucher_problem(code: str) -> str:
    return {
        "malformed": _("This is not a Homing return code. Scan again or type the code."),
        "bad_signature": _("This code was not issued by us or has been altered. Do not accept "
                           "the items; ask the shopper to open the code from their e-mail."),
        "unknown_key": _("This code was signed with a key this hub does not know."),
        "unknown": _("No return has this code. Check the letters and try again."),
        "expired": _("This return code has expired. The shopper can start a new return."),
        "cancelled": _("The shopper cancelled this return."),
        "already_used": _("This return code was already used."),
        "wrong_store": _("This return must be handed in at the store it was issued for."),
        "in_progress_elsewhere": _("This return is being checked in at another counter."),
    }.get(code, _("This return code cannot be used."))


def tier_problem(needed: str) -> str:
    """An approval refused because the approver's tier is too low, naming who may."""
    return _("Your approval tier does not cover this. Who may approve it: %(who)s.",
             who=_(ROLE_LABELS.get(needed, needed)))


# --- who is at the counter -----------------------------------------------------------------------

def _device_store() -> Store:
    device = current_device()
    if device is None:
        abort(redirect(url_for("store.enroll")))
    return db.session.get(Store, device.store_id)


def clerk_required(view):
    """An enrolled tablet with a clerk or supervisor of that tablet's store signed in."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        store = _device_store()
        if (not current_user.is_authenticated or current_user.store_id != store.id
                or current_user.role not in ("clerk", "supervisor")):
            return redirect(url_for("store.login", next=request.path))
        g.store = store
        g.actor = Actor("user", current_user.id, current_user.name, store_id=store.id,
                        device_id=current_device().id)
        return view(*args, **kwargs)

    return wrapper


def _intake(intake_id: int) -> Intake:
    intake = db.session.get(Intake, intake_id)
    if intake is None or intake.store_id != g.store.id:
        abort(404)  # another store's intake does not exist here
    return intake


def _once(run) -> str:
    """Run a mutation once per form (its idempotency key); answers where to go next."""
    key = request.form.get("idempotency_key") or None
    scope = f"device:{current_device().id}"
    form = {k: v for k, v in request.form.items(multi=True) if k != "csrf_token"}
    body, _status = run_once(db.session, scope, key, fingerprint(request.path, form),
                             lambda: ({"location": run()}, 303))
    return body["location"]


_REASON_LABELS = {code: label for code, _parent, label, _fault in REASONS}


def _local_time(at: datetime | None, tz: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return at.astimezone(ZoneInfo(tz)).strftime(fmt) if at else ""


@bp.app_context_processor
def _form_helpers():
    return {"new_idempotency_key": lambda: uuid.uuid4().hex,
            "grade_labels": inspection.GRADE_LABELS,
            "disposition_labels": inspection.DISPOSITION_LABELS,
            "reject_labels": inspection.REJECT_REASONS,
            "approval_message": inspection.approval_message,
            "reason_label": lambda code: _REASON_LABELS.get(code, code),
            "money_str": lambda amount, currency: format_currency(Decimal(amount), currency),
            "local_time": _local_time}


# --- enrolment and sign-in -----------------------------------------------------------------------

@bp.route("/enroll", methods=["GET", "POST"])
def enroll():
    """An admin hands the tablet an enrolment link (``homing devices enroll``); opening it
    here stores the device token in a long-lived, HTTP-only cookie."""
    token = (request.form.get("token") or request.args.get("token") or "").strip()
    error = None
    if request.method == "POST":
        try:
            device = authenticate_device(db.session, token)
        except AuthError:
            error = _("This enrolment link is not valid. Ask HQ for a new one.")
        else:
            response = make_response(redirect(url_for("store.login")))
            response.set_cookie(DEVICE_COOKIE, token, max_age=5 * 365 * 24 * 3600,
                                httponly=True, samesite="Lax", secure=request.is_secure)
            current_app.logger.info("device %s enrolled to store %s", device.id, device.store_id)
            return response
    return render_template("store/enroll.html", token=token, error=error), 422 if error else 200


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def login():
    store = _device_store()
    error = None
    if request.method == "POST":
        try:
            user = authenticate_pin(db.session, store.id, request.form.get("staff_number", ""),
                                    request.form.get("pin", ""))
        except AuthError:
            error = _("Staff number or PIN is wrong, or locked for 15 minutes after too many "
                      "wrong PINs (a supervisor can unlock it).")
        else:
            session.clear()
            login_user(user)
            nxt = request.args.get("next", "")
            return redirect(nxt if nxt.startswith("/store/") else url_for("store.scan"))
    return render_template("store/login.html", store=store, error=error), 422 if error else 200


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("store.login"))


# --- scanning ------------------------------------------------------------------------------------

@bp.get("/")
@clerk_required
def scan():
    return render_template("store/scan.html", store=g.store,
                           summary=intakes.today(db.session, g.store))


@bp.post("/scan")
@clerk_required
@limiter.limit(lambda: current_app.config["RATELIMIT_CODE_LOOKUP_STORE"], key_func=caller_key)
def scan_code():
    return _open_from_text(request.form.get("code", ""))


@bp.post("/scan/photo")
@clerk_required
@limiter.limit(lambda: current_app.config["RATELIMIT_CODE_LOOKUP_STORE"], key_func=caller_key)
def scan_photo():
    """Last resort when the camera cannot read the code live: decode a photo of it here."""
    upload = request.files.get("photo")
    text = photos.read_qr(upload.read()) if upload else None
    if text is None:
        return _scan_error(_("No QR code found in the photo. Hold the phone flat and closer, "
                             "or type the code."))
    return _open_from_text(text)


def _scan_error(message: str, status: int = 422):
    return render_template("store/scan.html", store=g.store, error=message,
                           summary=intakes.today(db.session, g.store)), status


SOLD_BY_AMAZON_TEXT = _l("Amazon sold this order itself: Amazon refunds the shopper, not the "
                         "store. Pay nothing out; the shopper returns it through Your Orders "
                         "on Amazon.")


def _open_from_text(text: str):
    if not text.strip():
        return _scan_error(_("Type the code printed under the QR (10 letters and digits)."))
    if sold_by_amazon(db.session, text):  # its order number, typed or from the slip
        return _scan_error(SOLD_BY_AMAZON_TEXT)
    if re.fullmatch(AMAZON_ORDER_ID, text.strip()):  # the packing slip's order barcode
        return redirect(url_for("store.walk_in", order_id=text.strip()))
    try:
        intake, offsite = intakes.open_intake(db.session, keyring(), text, g.store, g.actor,
                                              device_id=current_device().id)
    except VoucherError as exc:
        db.session.rollback()
        return _scan_error(voucher_problem(exc.code))
    except intakes.IntakeConflict as exc:
        db.session.rollback()
        return _scan_error(voucher_problem(exc.code), 409)
    from portal.store_counter import join_visit  # registered on this blueprint

    join_visit(intake)
    return redirect(url_for("store.intake", intake_id=intake.id, offsite=int(offsite)))


# --- the intake ----------------------------------------------------------------------------------

def _overview(intake: Intake, **extra):
    data = intakes.intake_to_dict(db.session, intake)
    rma = db.session.get(ReturnAuthorization, intake.rma_id)
    buyer = business.buyer_of(db.session, db.session.get(Order, rma.order_id))
    return render_template("store/intake.html", intake=intake, data=data, rma=rma,
                           store=g.store, buyer=buyer, **extra)


@bp.get("/intakes/<int:intake_id>")
@clerk_required
def intake(intake_id: int):
    return _overview(_intake(intake_id), offsite=request.args.get("offsite") == "1")


def _unit_context(intake: Intake, unit_id: int) -> dict:
    data = intakes.intake_to_dict(db.session, intake)
    unit = next((u for u in data["units"] if u["unit_id"] == unit_id), None)
    if unit is None:
        abort(404)
    position = [u["unit_id"] for u in data["units"]].index(unit_id)
    return {"intake": intake, "data": data, "unit": unit, "position": position + 1,
            "store": g.store}


@bp.get("/intakes/<int:intake_id>/units/<int:unit_id>")
@clerk_required
def unit(intake_id: int, unit_id: int):
    return render_template("store/unit.html", **_unit_context(_intake(intake_id), unit_id))


def _decision_from_form(category: str) -> inspection.UnitDecision:
    form = request.form
    answers = {key: form.get(f"check-{key}") == "yes"
               for key, _label, _major in inspection.checklist_for(category)
               if form.get(f"check-{key}") in ("yes", "no")}
    decision, problems = inspection.decision_from({
        "reception": form.get("reception") or "received", "decision": form.get("decision"),
        "grade": form.get("grade"), "disposition": form.get("disposition"),
        "reject_reason": form.get("reject_reason"), "notes": form.get("notes", ""),
        "reason_confirmed": form.get("reason_confirmed", "yes") != "no", "checklist": answers})
    if problems:
        raise InvalidInput(problems)
    return decision


@bp.post("/intakes/<int:intake_id>/units/<int:unit_id>/preview")
@clerk_required
def preview(intake_id: int, unit_id: int):
    """The refund as it would be with this unit's current answers (an htmx fragment). Runs the
    real decision in a savepoint and rolls it back, so it is the same calculation."""
    intake = _intake(intake_id)
    line = db.session.get(ReturnLine, unit_id)
    category = _category(line)
    breakdown, problems = None, []
    try:
        decision = _decision_from_form(category)
        savepoint = db.session.begin_nested()
        try:
            intakes.record_unit(db.session, intake, unit_id, decision, g.actor)
            breakdown = intakes.live_refund(db.session, intake)
            approval = intakes.pending_approval(db.session, intake, breakdown)
        finally:
            savepoint.rollback()
    except InvalidInput as exc:
        problems, approval = exc.errors, []
    except intakes.IntakeConflict:
        abort(409)
    db.session.rollback()
    return render_template("store/_refund_preview.html", breakdown=breakdown,
                           problems=problems, approval=approval, currency=breakdown.currency
                           if breakdown else None)


def _category(line: ReturnLine | None) -> str:
    if line is None:
        abort(404)
    return db.session.get(OrderLine, line.order_line_id).category


@bp.post("/intakes/<int:intake_id>/units/<int:unit_id>")
@clerk_required
def decide_unit(intake_id: int, unit_id: int):
    intake = _intake(intake_id)
    category = _category(db.session.get(ReturnLine, unit_id))

    def run() -> str:
        intakes.record_unit(db.session, intake, unit_id, _decision_from_form(category), g.actor)
        pending = [u for u, d in intakes.decisions(db.session, intake).items() if d is None]
        if pending:
            return url_for("store.unit", intake_id=intake.id, unit_id=pending[0])
        return url_for("store.intake", intake_id=intake.id)

    try:
        return redirect(_once(run), 303)
    except InvalidInput as exc:
        db.session.rollback()
        context = _unit_context(intake, unit_id)
        return render_template("store/unit.html", errors=exc.errors, form=request.form,
                               **context), 422
    except intakes.IntakeConflict as exc:
        db.session.rollback()
        return _overview(intake, error=str(exc)), 409


@bp.post("/intakes/<int:intake_id>/units/<int:unit_id>/photo")
@clerk_required
def unit_photo(intake_id: int, unit_id: int):
    intake = _intake(intake_id)
    upload = request.files.get("photo")
    data = upload.read() if upload else b""
    try:
        stored = photos.store(data, current_app.config["PHOTO_DIR"], utcnow())
        intakes.add_photo(db.session, intake, unit_id, stored, g.actor)
    except photos.PhotoError as exc:
        db.session.rollback()
        context = _unit_context(intake, unit_id)
        return render_template("store/unit.html", photo_error=str(exc), **context), 422
    return redirect(url_for("store.unit", intake_id=intake.id, unit_id=unit_id), 303)


@bp.get("/photos/<int:photo_id>")
@clerk_required
def photo(photo_id: int):
    row = db.session.get(Photo, photo_id)
    if row is None:
        abort(404)
    _intake(row.intake_id)  # only this store's photos
    return send_from_directory(current_app.config["PHOTO_DIR"], row.path,
                               mimetype=row.content_type, max_age=3600)


def _act(intake: Intake, run):
    """Run an intake action once per form and go where it says; a conflict (closed meanwhile,
    used elsewhere) is shown on the intake page and changes nothing."""
    try:
        return redirect(_once(run), 303)
    except intakes.IntakeConflict as exc:
        db.session.rollback()
        message = (voucher_problem(exc.code) if exc.code == "already_used"
                   else tier_problem(exc.needed) if exc.code == "tier_too_low" else str(exc))
        return _overview(intake, error=message), 409


@bp.post("/intakes/<int:intake_id>/complete")
@clerk_required
def complete(intake_id: int):
    intake = _intake(intake_id)
    supervisor = None
    staff = request.form.get("supervisor_staff", "").strip()
    if staff:
        try:
            supervisor = authenticate_pin(db.session, intake.store_id, staff,
                                          request.form.get("supervisor_pin", ""))
        except AuthError as exc:
            return _overview(
                intake, approval_reasons=intakes.pending_approval(db.session, intake),
                error=_("Too many wrong PINs. Wait 15 minutes.") if exc.code == "locked"
                else _("The supervisor's staff number or PIN is wrong.")), 403

    def run() -> str:
        intakes.complete(db.session, intake, g.actor, supervisor=supervisor)
        return url_for("store.receipt", intake_id=intake.id)

    try:
        return _act(intake, run)
    except intakes.ApprovalRequired as exc:
        db.session.rollback()
        return _overview(intake, approval_reasons=exc.reasons), 403
    except InvalidInput:
        db.session.rollback()
        return _overview(intake, error=_("Decide every unit before completing.")), 409


@bp.post("/intakes/<int:intake_id>/request-approval")
@clerk_required
def request_approval(intake_id: int):
    intake = _intake(intake_id)

    def run() -> str:
        intakes.request_approval(db.session, intake, g.actor)
        return url_for("store.today")

    return _act(intake, run)


@bp.post("/intakes/<int:intake_id>/approval")
@clerk_required
def decide_approval(intake_id: int):
    """A supervisor signed in on the tablet works through the approval queue."""
    intake = _intake(intake_id)
    if current_user.role != "supervisor":
        abort(403)
    approve = request.form.get("approve") == "yes"

    def run() -> str:
        done = intakes.decide_approval(db.session, intake, current_user, approve)
        return (url_for("store.receipt", intake_id=intake.id) if done
                else url_for("store.today"))

    return _act(intake, run)


@bp.post("/intakes/<int:intake_id>/abandon")
@clerk_required
def abandon(intake_id: int):
    intake = _intake(intake_id)

    def run() -> str:
        try:
            intakes.abandon(db.session, intake, g.actor)
        except TransitionError as exc:  # completed or abandoned meanwhile
            raise intakes.IntakeConflict("intake_closed", str(exc)) from None
        return url_for("store.scan")

    return _act(intake, run)


@bp.get("/intakes/<int:intake_id>/receipt")
@clerk_required
def receipt(intake_id: int):
    intake = _intake(intake_id)
    if intake.status != "completed":
        return redirect(url_for("store.intake", intake_id=intake.id))
    return _overview(intake, receipt=True)


@bp.get("/today")
@clerk_required
def today():
    summary = intakes.today(db.session, g.store)
    rmas = returns_queries.by_ids(
        db.session, {i.rma_id for i in summary["intakes"] + summary["waiting"]})
    return render_template("store/today.html", store=g.store, summary=summary, rmas=rmas)


# --- the installable app -------------------------------------------------------------------------

@bp.get("/manifest.webmanifest")
def manifest():
    """The store app's own manifest: scoped to /store/ so it installs as a separate app."""
    body = {
        "id": "/store/", "name": "Homing store", "short_name": "Homing store",
        "start_url": "/store/", "scope": "/store/", "display": "standalone",
        "orientation": "any", "background_color": "#f6f7f9", "theme_color": "#0b6e4f",
        "icons": [
            {"src": url_for("static", filename="img/icons/icon-192.png"), "sizes": "192x192",
             "type": "image/png", "purpose": "any maskable"},
            {"src": url_for("static", filename="img/icons/icon-512.png"), "sizes": "512x512",
             "type": "image/png", "purpose": "any maskable"}],
    }
    response = current_app.response_class(json.dumps(body), mimetype="application/manifest+json")
    response.cache_control.max_age = 3600
    return response


# --- offline: sync down, replay up ------------------------------------------------------------

SYNC_LIMIT = 5000  # vouchers routed to one store that are still open; far above a day's intake


@bp.get("/sync")
@clerk_required
def sync():
    """What the tablet needs to keep working through an outage: the public keys that verify
    vouchers and the open returns routed to this store (no shopper contact data)."""
    data = intakes.expected_at_store(db.session, g.store, limit=SYNC_LIMIT)
    for voucher in data["vouchers"]:
        for unit in voucher["units"]:
            unit["reason_label"] = _(_REASON_LABELS.get(unit["reason"], unit["reason"]))
    data["keys"] = keyring().public_keys()
    data["clerk"] = {"id": current_user.id, "name": current_user.name}
    response = current_app.response_class(json.dumps(data, default=str),
                                          mimetype="application/json")
    response.cache_control.no_store = True
    return response


@bp.post("/offline")
def replay_offline():
    """Replay an intake recorded on the tablet while offline: open, decide every unit and
    complete in one transaction, once per idempotency key. Authenticated by the enrolled
    device and the clerk who recorded it (their session may have timed out meanwhile).
    CSRF-exempt (registered below): it takes JSON only, and the SameSite=Lax device cookie is
    never sent with a cross-site POST."""
    store = _device_store()
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("units"), dict):
        raise Problem(400, "malformed_json", "Malformed request", "Send the queued action.")
    clerk_id = body.get("clerk_id")
    clerk = db.session.get(User, int(clerk_id)) if str(clerk_id).isdigit() else None
    if clerk is None or clerk.store_id != store.id or not clerk.active:
        raise Problem(403, "unknown_clerk", "Unknown clerk",
                      "The clerk who recorded this is not staff of this store.")
    g.store = store
    g.actor = Actor("user", clerk.id, clerk.name, store_id=store.id,
                    device_id=current_device().id)

    def run():
        try:
            result = intakes.replay_offline(
                db.session, keyring(), str(body.get("voucher") or ""), store, g.actor,
                {int(k): v for k, v in body["units"].items() if str(k).isdigit()},
                device_id=current_device().id)
        except VoucherError as exc:
            raise Problem(409, exc.code, "Voucher refused", voucher_problem(exc.code)) from None
        except intakes.IntakeConflict as exc:
            raise Problem(409, exc.code, "Conflict", voucher_problem(exc.code)
                          if exc.code in ("already_used", "in_progress_elsewhere")
                          else str(exc)) from None
        except InvalidInput as exc:
            raise Problem(422, "validation_failed", "The recorded decisions were refused",
                          "; ".join(e["message"] for e in exc.errors)) from None
        return result, 200

    result, status = run_once(db.session, f"device:{current_device().id}",
                              str(body.get("idempotency_key") or "") or None,
                              fingerprint(request.path, body), run)
    return current_app.response_class(json.dumps(result), status=status,
                                      mimetype="application/json")


def _exempt_replay_from_csrf(state) -> None:
    from hub.extensions import csrf

    csrf.exempt(replay_offline)


bp.record_once(_exempt_replay_from_csrf)


@bp.get("/sw.js")
def service_worker():
    """The service worker, served from /store/ so that it controls the store app. Workbox is
    vendored in static/; the precache list carries each file's content hash as revision."""
    body = render_template("store/sw.js", precache=_precache_manifest())
    response = current_app.response_class(body, mimetype="text/javascript")
    response.cache_control.no_cache = True
    return response


APP_SHELL = ("css/homing.css", "js/htmx.min.js", "js/store.js", "img/icons/icon-192.png",
              "img/icons/icon-512.png", "img/icons/favicon.png",
              "vendor/barcode-detector/ponyfill.js", "vendor/barcode-detector/zxing_reader.wasm")


@functools.cache
def _precache_manifest() -> list[dict]:
    import hashlib
    from pathlib import Path

    root = Path(current_app.static_folder)
    return [{"url": url_for("static", filename=name),
             "revision": hashlib.sha256((root / name).read_bytes()).hexdigest()[:16]}
            for name in APP_SHELL]
