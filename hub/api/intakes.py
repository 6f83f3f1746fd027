"""Store intake over the REST API, for store systems and POS integrations. A clerk or
supervisor key is scoped to its store; HQ keys name the store. Every POST honours an
Idempotency-Key header (a retried request answers the same and changes nothing more)."""

from __future__ import annotations

from flask import current_app, g, jsonify, request

from hub.api import bp
from hub.api.common import is_row_id, json_body, read_only, require, voucher_problem
from hub.audit.service import Actor
from hub.auth.service import AuthError, authenticate_pin
from hub.extensions import db, limiter
from hub.intake import inspection, photos
from hub.intake import service as intakes
from hub.intake.models import Intake
from hub.models import utcnow
from hub.returns.states import TransitionError
from hub.scan import service as scan
from hub.stores.models import Store
from hub.stores.service import get_store
from hub.validation import InvalidInput
from hub.vouchers.crypto import VoucherError
from hub.vouchers.keys import keyring
from hub.web.errors import Problem
from hub.web.idempotency import fingerprint, run_once
from hub.web.limits import caller_key

STORE_ROLES = ("clerk", "supervisor", "admin", "hq_ops")


def _actor() -> Actor:
    return Actor("api_key", g.principal.id, g.principal.label, store_id=g.principal.store_id)


def _scope() -> str:
    return f"apikey:{g.principal.id}"


def _idempotent(run, *parts):
    body, status = run_once(db.session, _scope(), request.headers.get("Idempotency-Key"),
                            fingerprint(request.path, *parts), run)
    return jsonify(body), status


def _store(code: str | None) -> Store:
    if g.principal.store_id is not None:
        store = db.session.get(Store, g.principal.store_id)
        if code and code != store.code:
            raise Problem(403, "wrong_store", "Not your store",
                          f"This key belongs to store {store.code}.")
        return store
    if not code:
        raise Problem(422, "store_required", "Store required",
                      "Name the store ('store': code) when the key is not scoped to one.")
    store = get_store(db.session, code)
    if store is None or not store.active:
        raise Problem(404, "store_not_found", "Store not found", f"No active store {code!r}.")
    return store


def _intake(intake_id: int) -> Intake:
    intake = db.session.get(Intake, intake_id)
    # Another store's intake does not exist for this caller: same answer as a wrong id.
    if intake is None or not g.principal.can_act_for_store(intake.store_id):
        raise Problem(404, "intake_not_found", "Intake not found", f"No intake {intake_id}.")
    return intake


def _conflict(exc: intakes.IntakeConflict) -> Problem:
    extra = {"may_approve": exc.needed} if exc.code == "tier_too_low" else {}
    return Problem(409, exc.code, "Conflict", str(exc), **extra)


@bp.post("/api/v1/intakes")
@require(*STORE_ROLES)
@limiter.limit(lambda: current_app.config["RATELIMIT_CODE_LOOKUP_STORE"], key_func=caller_key)
def open_intake():
    """Open (or resume) the intake for a scanned voucher token or a typed short code."""
    body = json_body()
    text = body.get("voucher")
    if not isinstance(text, str) or not text.strip():
        raise Problem(422, "voucher_required", "Voucher required",
                      "Send the scanned voucher text or the short code as 'voucher'.")
    store = _store(body.get("store"))

    def run():
        try:
            intake, offsite = intakes.open_intake(
                db.session, keyring(), text, store, _actor(), api_key_id=g.principal.id)
        except VoucherError as exc:
            raise voucher_problem(exc) from None
        except intakes.IntakeConflict as exc:
            raise _conflict(exc) from None
        return intakes.intake_to_dict(db.session, intake), 201

    return _idempotent(run, text, store.code)


@bp.get("/api/v1/intakes/<int:intake_id>")
@read_only
@require(*STORE_ROLES, "finance")
def get_intake(intake_id: int):
    body = scan.intake_page(db.session, intake_id, g.principal.can_act_for_store,
                            current_app.json.dumps, keep=current_app.config["SCAN_ANSWERS"])
    if body is None:  # as _intake: another store's intake does not exist for this caller
        raise Problem(404, "intake_not_found", "Intake not found", f"No intake {intake_id}.")
    return current_app.response_class(body, mimetype="application/json")


@bp.post("/api/v1/intakes/<int:intake_id>/units/<int:unit_id>")
@require(*STORE_ROLES)
def record_unit(intake_id: int, unit_id: int):
    """Record reception, grade, checklist, disposition and the accept/reject decision."""
    body = json_body()
    intake = _intake(intake_id)
    decision, problems = inspection.decision_from(body)
    if problems:
        raise InvalidInput(problems)

    def run():
        try:
            intakes.record_unit(db.session, intake, unit_id, decision, _actor())
        except intakes.IntakeConflict as exc:
            raise _conflict(exc) from None
        return intakes.intake_to_dict(db.session, intake), 200

    return _idempotent(run, body)


@bp.post("/api/v1/intakes/<int:intake_id>/photos")
@require(*STORE_ROLES)
def add_photo(intake_id: int):
    """Attach a photo (multipart field 'photo', optional 'unit_id')."""
    intake = _intake(intake_id)
    upload = request.files.get("photo")
    if upload is None:
        raise Problem(422, "photo_required", "Photo required",
                      "Send the image as the multipart field 'photo'.")
    unit_raw = request.form.get("unit_id")
    if unit_raw is not None and not is_row_id(unit_raw):
        raise Problem(422, "invalid_unit", "Invalid unit", "'unit_id' must be a unit id.")
    data = upload.read()

    def run():
        try:
            stored = photos.store(data, current_app.config["PHOTO_DIR"], utcnow())
            photo = intakes.add_photo(db.session, intake, int(unit_raw) if unit_raw else None,
                                      stored, _actor())
        except photos.PhotoError as exc:
            raise Problem(422, exc.code, "Photo refused", str(exc)) from None
        except intakes.IntakeConflict as exc:
            raise _conflict(exc) from None
        return {"id": photo.id, "unit_id": photo.return_line_id, "width": photo.width,
                "height": photo.height, "size_bytes": photo.size_bytes,
                "sha256": photo.sha256}, 201

    return _idempotent(run, unit_raw, fingerprint(data))


@bp.post("/api/v1/intakes/<int:intake_id>/complete")
@require(*STORE_ROLES)
def complete_intake(intake_id: int):
    """Complete: consumes the voucher and creates the refund intent. When the policy asks for
    approval, send the supervisor's staff number and PIN ('supervisor')."""
    body = json_body() if request.data else {}
    intake = _intake(intake_id)
    supervisor_login = body.get("supervisor")
    if supervisor_login is not None and not isinstance(supervisor_login, dict):
        raise Problem(422, "invalid_supervisor", "Invalid supervisor",
                      "'supervisor' is an object: {\"staff_number\": ..., \"pin\": ...}.")

    def run():
        supervisor = None
        if isinstance(supervisor_login, dict):
            try:
                supervisor = authenticate_pin(db.session, intake.store_id,
                                              str(supervisor_login.get("staff_number", "")),
                                              str(supervisor_login.get("pin", "")))
            except AuthError as exc:
                db.session.commit()  # keep the failed-attempt count (lock-out)
                raise Problem(403, "supervisor_" + exc.code, "Supervisor not recognised",
                              str(exc)) from None
        try:
            done = intakes.complete(db.session, intake, _actor(), supervisor=supervisor)
        except intakes.ApprovalRequired as exc:
            raise Problem(403, "approval_required", "Supervisor approval required", str(exc),
                          reasons=exc.reasons) from None
        except intakes.IntakeConflict as exc:
            raise _conflict(exc) from None
        return intakes.intake_to_dict(db.session, done.intake), 200

    return _idempotent(run, {k: v for k, v in body.items() if k != "supervisor"})


@bp.post("/api/v1/intakes/<int:intake_id>/abandon")
@require(*STORE_ROLES)
def abandon_intake(intake_id: int):
    intake = _intake(intake_id)

    def run():
        try:
            intakes.abandon(db.session, intake, _actor())
        except TransitionError as exc:
            raise Problem(409, "intake_closed", "Conflict", str(exc)) from None
        return {"id": intake.id, "status": intake.status}, 200

    return _idempotent(run)
