"""Locale choice: an explicit ?lang= (remembered in a cookie), else the browser's preference."""

from __future__ import annotations

from flask import current_app, request


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


def init_i18n(app) -> None:
    from flask_babel import get_locale

    app.jinja_env.globals["current_locale"] = lambda: str(get_locale() or "en")
    app.jinja_env.add_extension("jinja2.ext.i18n")
