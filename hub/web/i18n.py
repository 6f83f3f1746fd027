"""Locale choice: an explicit ?lang= (remembered in a cookie), else the browser's preference
(BCP-47 tags negotiated by hub.locales). Templates get the formatting helpers as globals."""

from __future__ import annotations

from collections.abc import Mapping

from flask import current_app, request
from flask_babel import gettext

from hub.locales import (  # noqa: F401  (re-exported for the portal and the tests)
    distance,
    local_date,
    local_datetime,
    locale_name,
    money,
    negotiate,
)


def supported_locales() -> list[str]:
    return list(current_app.config["LANGUAGES"])


def select_locale() -> str | None:
    supported = supported_locales()
    chosen = negotiate((request.args.get("lang"), request.cookies.get("lang")), supported)
    if chosen:
        return chosen
    # Accept-Language in the browser's order of preference (quality, then position).
    return negotiate((tag for tag, _quality in request.accept_languages), supported)


def translated(template: str | None, params: Mapping | None = None) -> str:
    """Translate an English template the domain marked with ``N_`` and fill its params."""
    if not template:
        return ""
    return gettext(template, **dict(params or {}))


def problem_text(problem: Mapping) -> str:
    """A domain problem ({"message"} plus optional "template" and "params"), translated."""
    if problem.get("template"):
        return translated(problem["template"], problem.get("params"))
    return problem["message"]


def init_i18n(app) -> None:
    from flask_babel import get_locale, refresh

    # The locale is cached on the app context; a request must never inherit another's
    # (tests and CLI code run many requests inside one app context).
    app.before_request(refresh)

    @app.after_request
    def _remember_choice(response):
        chosen = negotiate([request.args.get("lang")], supported_locales())
        if chosen and request.cookies.get("lang") != chosen:
            response.set_cookie("lang", chosen, max_age=365 * 24 * 3600, samesite="Lax",
                                secure=request.is_secure, httponly=True)
        return response

    app.jinja_env.globals["current_locale"] = lambda: str(get_locale() or "en")
    app.jinja_env.globals["translated"] = translated
    app.jinja_env.globals["money"] = money
    app.jinja_env.globals["problem_text"] = problem_text
    app.jinja_env.globals["local_datetime"] = local_datetime
    app.jinja_env.globals["local_date"] = local_date
    app.jinja_env.globals["distance"] = distance
    app.jinja_env.add_extension("jinja2.ext.i18n")
