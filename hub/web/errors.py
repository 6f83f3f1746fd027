"""Errors: RFC 9457 problem details for the API, friendly pages for people."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException


class Problem(Exception):
    """An error an API caller should see, with a stable machine-readable code."""

    def __init__(self, status: int, code: str, title: str, detail: str = "", **extra):
        super().__init__(detail or title)
        self.status, self.code, self.title, self.detail, self.extra = (
            status, code, title, detail, extra)

    def to_response(self):
        body = {"type": f"https://homing.dev/problems/{self.code}", "title": self.title,
                "status": self.status, "code": self.code}
        if self.detail:
            body["detail"] = self.detail
        body.update(self.extra)
        response = jsonify(body)
        response.status_code = self.status
        response.mimetype = "application/problem+json"
        return response


def _is_api() -> bool:
    return request.path.startswith("/api/")


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


def _invalid(exc) -> Problem:
    return Problem(422, exc.code, "The input was refused",
                   "; ".join(f"{e['field']}: {e['message']}" for e in exc.errors),
                   errors=exc.errors)


@functools.cache
def _rules() -> tuple[tuple[type[Exception], Callable[[Exception], Problem]], ...]:
    """Each error the domain raises and its one answer, whichever adapter meets it."""
    from hub.amazon.orders import LookupUnavailable
    from hub.hq.access import Forbidden
    from hub.hq.detail import NotFound
    from hub.hq.queues import QueueError
    from hub.intake.service import ApprovalRequired, IntakeConflict
    from hub.machine import TransitionError
    from hub.policy.service import NoPolicy
    from hub.returns.service import ReturnConflict
    from hub.validation import InvalidInput
    from hub.vouchers.crypto import VoucherError

    return (
        (InvalidInput, _invalid),
        (VoucherError, voucher_problem),
        (IntakeConflict, lambda e: Problem(409, e.code, "Conflict", str(e), **(
            {"may_approve": e.needed} if getattr(e, "needed", None) else {}))),
        (QueueError, lambda e: Problem(409, e.code, "Conflict", str(e))),
        (TransitionError, lambda e: Problem(409, "invalid_transition", "Conflict", str(e),
                                            current=e.current, target=e.target)),
        (ReturnConflict, lambda e: Problem(
            409, "units_taken", "Units already being returned",
            "Another request authorised these units first; fetch the order again.")),
        (ApprovalRequired, lambda e: Problem(403, "approval_required",
                                             "Supervisor approval required", str(e),
                                             reasons=e.reasons)),
        (Forbidden, lambda e: Problem(403, "forbidden", "Not allowed", str(e))),
        (NotFound, lambda e: Problem(404, "not_found", "Not found", str(e))),
        (LookupUnavailable, lambda e: Problem(503, "amazon_unavailable",
                                              "Amazon unavailable", str(e))),
        (NoPolicy, lambda e: Problem(503, "no_policy", "Not set up", str(e))),
    )


def domain_problem(exc: Exception) -> Problem | None:
    """The API's answer to a domain error (pages show the same status, explained)."""
    for error_class, build in _rules():
        if isinstance(exc, error_class):
            return build(exc)
    return None


def _page_text(status: int) -> tuple[str, str]:
    """What a person reads for a domain error on a page (the API's detail is for integrators)."""
    from flask_babel import gettext as _

    return {
        403: (_("Not allowed"), _("Your role cannot do this.")),
        404: (_("Not found"), _("There is nothing here, or not for you.")),
        409: (_("This changed meanwhile"),
              _("Someone or something else changed this first. Nothing was changed by you; "
                "reload and try again.")),
        422: (_("Check the input"), _("Some of what was sent was refused; nothing was changed.")),
        503: (_("Not available right now"),
              _("A service this needs cannot be reached. Please try again in a few minutes.")),
    }.get(status, (_("Something went wrong"), _("Nothing was changed. Please try again.")))


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(Problem)
    def problem(exc: Problem):
        from hub.extensions import db

        db.session.rollback()  # a refused request changes nothing
        return exc.to_response()

    def domain_error(exc: Exception):
        from hub.extensions import db

        db.session.rollback()  # a refused request changes nothing
        problem = domain_problem(exc)
        if _is_api():
            return problem.to_response()
        title, detail = _page_text(problem.status)
        return render_template("error.html", status=problem.status, title=title,
                               detail=detail), problem.status

    for error_class, _build in _rules():
        app.register_error_handler(error_class, domain_error)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        if _is_api():
            return Problem(exc.code or 500, code, exc.name, exc.description or "").to_response()
        return render_template("error.html", status=exc.code, title=exc.name,
                               detail=exc.description), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        from hub.extensions import db

        db.session.rollback()  # whatever the request half-wrote is not committed
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if _is_api():
            return Problem(500, "internal_error", "Internal error",
                           "Something went wrong on our side; nothing was changed.").to_response()
        title, detail = _page_text(500)
        return render_template("error.html", status=500, title=title, detail=detail), 500
