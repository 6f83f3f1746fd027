"""Errors: RFC 9457 problem details for the API, friendly pages for people."""

from __future__ import annotations

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


def register_error_handlers(app: Flask) -> None:
    from hub.validation import InvalidInput

    @app.errorhandler(Problem)
    def problem(exc: Problem):
        from hub.extensions import db

        db.session.rollback()  # a refused request changes nothing
        return exc.to_response()

    @app.errorhandler(InvalidInput)
    def invalid_input(exc: InvalidInput):
        from hub.extensions import db

        db.session.rollback()
        return Problem(422, exc.code, "The input was refused",
                       "; ".join(f"{e['field']}: {e['message']}" for e in exc.errors),
                       errors=exc.errors).to_response()

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
        return render_template("error.html", status=500, title="Something went wrong",
                               detail="Nothing was changed. Please try again."), 500
