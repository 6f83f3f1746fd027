"""What every API view needs: the caller, role checks, JSON input, pagination."""

from __future__ import annotations

import functools
from collections.abc import Callable

import sqlalchemy as sa
from flask import g, request

from hub.auth.service import AuthError, Principal, authenticate_api_key
from hub.extensions import db
from hub.web.errors import Problem


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


# One answer per voucher fault, whichever endpoint meets it (verify, open an intake, ...):
# the code is always ``voucher_<fault>``; the status says what kind of fault it is.
VOUCHER_STATUS = {
    "malformed": 422,  # not a voucher, or a short code with a typo
    "bad_signature": 422,  # altered, or not signed by us
    "unknown_key": 422,  # signed with a key this hub does not have
    "unknown": 404,  # genuine shape, but no such voucher here
    "expired": 409,  # a real voucher in a state that refuses the action
    "cancelled": 409,
    "already_used": 409,
    "wrong_store": 409,
}


def voucher_problem(exc) -> Problem:
    """The Problem for a VoucherError, the same from every endpoint."""
    return Problem(VOUCHER_STATUS.get(exc.code, 422), f"voucher_{exc.code}",
                   "Voucher not valid", str(exc), fault=exc.code)
