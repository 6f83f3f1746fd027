"""What every API view needs: the caller, role checks, JSON input, pagination."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable

import sqlalchemy as sa
from flask import current_app, g, jsonify, request

from hub.auth.service import AuthError, Principal, authenticate_api_key
from hub.extensions import db
from hub.web.errors import Problem, voucher_problem  # noqa: F401  (re-exported)
from hub.web.idempotency import fingerprint, run_once


def current_principal() -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "unauthenticated", "Authentication required",
                      "Send an API key as 'Authorization: Bearer <key>'.")
    try:
        principal = authenticate_api_key(db.session, token.strip())
    except AuthError as exc:
        raise Problem(401, exc.code, "Invalid API key", str(exc)) from exc
    if db.session.dirty:  # "last used" was refreshed: keep it, even if this request is a read
        if _autocommit():
            db.session.flush()  # committed as it runs; the read keeps its connection
        else:
            db.session.commit()
    return principal


def _autocommit() -> bool:
    options = db.session.connection().get_execution_options()
    return options.get("isolation_level") == "AUTOCOMMIT"


def read_only(view: Callable) -> Callable:
    """A view that only reads (besides the API key's "last used"): its statements run
    without BEGIN/ROLLBACK round trips, which matter on the counter's hot path."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        # Only on a fresh session straight from the engine's pool: a session already in a
        # transaction (or bound to one, as in the tests) keeps it.
        session = db.session()
        if not session.in_transaction() and isinstance(session.get_bind(), sa.Engine):
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        return view(*args, **kwargs)

    return wrapper


def require(*roles: str) -> Callable:
    """Authenticate the caller and allow only the given roles (none given: any role)."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            principal = current_principal()
            if roles and principal.role not in roles:
                raise Problem(403, "forbidden_role", "Not allowed for this role",
                              f"This needs one of: {', '.join(roles)}.")
            g.principal = principal
            request.environ["homing.principal"] = principal  # this request's, for limits
            return view(*args, **kwargs)

        return wrapper

    return decorate


def json_body() -> dict:
    if not request.is_json:
        raise Problem(415, "json_required", "JSON required",
                      "Send the body as JSON with 'Content-Type: application/json'.")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Problem(400, "malformed_json", "Malformed JSON",
                      "The body is not a JSON object.")
    return data


def is_row_id(text: str) -> bool:
    """A form field that should name a row: ASCII digits within the id columns' range
    ("²" passes str.isdigit and fails int(); "99999999999" fails the database)."""
    from hub.web.converters import DB_INT_MAX

    return text.isascii() and text.isdigit() and len(text) <= 10 and int(text) <= DB_INT_MAX


def int_arg(name: str, default: int, *, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Problem(400, "invalid_parameter", "Invalid parameter",
                      f"'{name}' must be a whole number.", parameter=name) from None
    if not lo <= value <= hi:
        raise Problem(400, "invalid_parameter", "Invalid parameter",
                      f"'{name}' must be between {lo} and {hi}.", parameter=name)
    return value


def float_arg(name: str, *, lo: float, hi: float, required: bool = False) -> float | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        if required:
            raise Problem(400, "missing_parameter", "Missing parameter",
                          f"'{name}' is required.", parameter=name)
        return None
    try:
        value = float(raw)
    except ValueError:
        raise Problem(400, "invalid_parameter", "Invalid parameter",
                      f"'{name}' must be a number.", parameter=name) from None
    if not lo <= value <= hi:  # also rejects NaN
        raise Problem(400, "invalid_parameter", "Invalid parameter",
                      f"'{name}' must be between {lo} and {hi}.", parameter=name)
    return value


def idempotent(*, ignore: tuple[str, ...] = ()) -> Callable:
    """Every mutating API call runs at most once per ``Idempotency-Key`` (the header, or
    ``idempotency_key`` in a JSON body), kept per caller and bound to the request: a retry
    gets the first answer without a second effect; the same key with another request is
    refused (422 ``idempotency_key_reused``). ``ignore``: body fields left out of the binding
    (a supervisor's PIN, which a retry may type again differently)."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            def run() -> tuple[dict, int]:
                response = current_app.make_response(view(*args, **kwargs))
                # Kept as the caller read it (plain JSON numbers, not the app's Decimals).
                return json.loads(response.get_data() or b"{}"), response.status_code

            body, status = run_once(db.session, f"apikey:{g.principal.id}", _key(),
                                    request_fingerprint(ignore), run)
            return jsonify(body), status

        return wrapper

    return decorate


def _key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if not key and request.is_json:
        body = request.get_json(silent=True)
        key = body.get("idempotency_key") if isinstance(body, dict) else None
    return str(key) if key not in (None, "") else None


def request_fingerprint(ignore: tuple[str, ...] = ()) -> str:
    """What a retry must repeat: method, path, query and content (a JSON body as data, so
    its spacing does not matter; a form's fields and each file's bytes, not its boundary)."""
    if request.is_json:
        data = request.get_json(silent=True)
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if k not in (*ignore, "idempotency_key")}
        content = data
    elif request.files or request.form:
        content = {"form": sorted(request.form.items(multi=True)),
                   "files": sorted((name, f.filename, hashlib.sha256(f.read()).hexdigest())
                                   for name, f in request.files.items(multi=True))}
        for f in request.files.values():
            f.seek(0)
    else:
        content = request.get_data(as_text=True)
    return fingerprint(request.method, request.path, request.query_string.decode(), content)
