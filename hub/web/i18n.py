"""Locale choice: an explicit ?lang= (remembered in a cookie), else the browser's preference."""

from __future__ import annotations

from collections.abc import Mapping

from flask import current_app, request
from flask_babel import format_currency, gettext

from hub.money import Money


def supported_locales() -> list[str]:
    return list(current_app.config["LANGUAGES"])


def select_locale() -> str | None:
    supported = supported_locales()
    for candidate in (request.args.get("lang"), request.cookies.get("lang")):
        if candidate in supported:
            return candidate
    # Browsers send zh-CN / zh-Hans; our catalogue is zh_Hans.
    aliases = {"zh": "zh_Hans", "zh_CN": "zh_Hans", "zh_SG": "zh_Hans"}
    best = request.accept_languages.best_match(supported + list(aliases))
    return aliases.get(best, best) if best else None


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


def money(minor: int, currency: str) -> str:
    """An amount in minor units, formatted for the reader's locale ($1,234.50 / 1.234,50 €)."""
    return format_currency(Money.from_minor(minor, currency).amount, currency)


def init_i18n(app) -> None:
    from flask_babel import get_locale, refresh

    # The locale is cached on the app context; a request must never inherit another's
    # (tests and CLI code run many requests inside one app context).
    app.before_request(refresh)

    @app.after_request
    def _remember_choice(response):
        chosen = request.args.get("lang")
        if chosen in supported_locales() and request.cookies.get("lang") != chosen:
            response.set_cookie("lang", chosen, max_age=365 * 24 * 3600, samesite="Lax",
                                secure=request.is_secure, httponly=True)
        return response

    app.jinja_env.globals["current_locale"] = lambda: str(get_locale() or "en")
    app.jinja_env.globals["translated"] = translated
    app.jinja_env.globals["money"] = money
    app.jinja_env.globals["problem_text"] = problem_text
    app.jinja_env.add_extension("jinja2.ext.i18n")
