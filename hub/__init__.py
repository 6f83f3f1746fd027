"""Homing: a self-hostable returns hub."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def bundled_path(name: str) -> Path:
    """``migrations`` or ``static``: inside the installed package (a wheel, the image) or, for
    a checkout and an editable install, the top-level folder (setup.py bundles them)."""
    inside = Path(__file__).resolve().parent / "_bundled" / name
    return inside if inside.is_dir() else ROOT / name


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application. No side effects: no migrations, no network, no files written."""
    from hub import config as cfg

    app = Flask(
        "hub",
        instance_path=cfg.instance_path_from_env(),
        instance_relative_config=True,
        static_folder=str(bundled_path("static")),
        static_url_path="/static",
        template_folder=str(ROOT / "portal" / "templates"),
    )
    from hub.web.converters import DatabaseIdConverter
    from hub.web.json import DecimalJSONProvider

    app.url_map.converters["int"] = DatabaseIdConverter  # before any route is added

    app.json = DecimalJSONProvider(app)
    app.config.from_object(cfg.Defaults)
    app.config.from_prefixed_env("HOMING")
    if config:
        app.config.update(config)
    app.config["SQLALCHEMY_DATABASE_URI"] = cfg.database_uri(
        app.config.get("DATABASE_URL"), app.instance_path
    )
    if app.config["JOBS_INLINE"] is None:
        app.config["JOBS_INLINE"] = not app.config.get("REDIS_URL")
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("PHOTO_DIR", str(Path(app.instance_path) / "photos"))

    _init_extensions(app)
    _register_blueprints(app)
    from hub.jobs.runner import load_periodic_jobs

    load_periodic_jobs()  # imports only: every outbox handler and periodic job is known
    from hub.unit_of_work import init_request_unit_of_work
    from hub.web.errors import register_error_handlers

    init_request_unit_of_work(app)
    register_error_handlers(app)
    from hub.web.security import init_security

    init_security(app)
    from hub.web.assets import init_assets

    init_assets(app)
    from hub.cli import register_cli

    register_cli(app)
    return app


def _init_extensions(app: Flask) -> None:
    import hub.model_registry  # noqa: F401  (every model known before first use)
    from hub.extensions import babel, csrf, db, limiter, login_manager, migrate
    from hub.web.i18n import init_i18n, select_locale

    db.init_app(app)
    from hub.scan.revisions import track_writes

    track_writes()  # every write behind a kept scan answer marks it stale
    from hub.stores.versions import track_store_writes

    track_store_writes()  # every store write bumps the routing index's version
    from hub.database import ping_when_idle, sqlite_folder_on_connect

    with app.app_context():
        ping_when_idle(db.engine, app.config["DB_PING_AFTER_IDLE"])
        sqlite_folder_on_connect(db.engine)
    migrate.init_app(app, db, directory=str(bundled_path("migrations")))
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(ROOT / "hub" / "translations"))
    limiter.init_app(app)
    init_i18n(app)
    from hub.web.session import init_session

    init_session(app)


def _register_blueprints(app: Flask) -> None:
    from hub.api import bp as api_bp
    from portal.home import bp as home_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(home_bp)
    from portal.shopper import bp as shopper_bp

    app.register_blueprint(shopper_bp)
    import portal.store_counter  # noqa: F401  (its views join the store blueprint)
    import portal.store_items  # noqa: F401 - item verification, on the store blueprint
    import portal.store_vendor  # noqa: F401  (the vendor returns' views on the store blueprint)
    from portal.store import bp as store_bp

    app.register_blueprint(store_bp)
    from portal.hq import bp as hq_bp

    app.register_blueprint(hq_bp)
    if app.config.get("MOUNT_SANDBOX"):
        try:
            from hub.sandbox import mount_sandbox
        except ImportError:  # the sandbox package is optional in a slimmed image
            return
        mount_sandbox(app)


class UnsafeSettings(RuntimeError):
    """The settings are not safe to serve with; the message lists each and its fix."""


def refuse_unsafe_settings(app: Flask) -> Flask:
    """The start-up check of a real server (gunicorn via hub.wsgi, `homing worker`): refuse
    the settings `homing check` refuses. Debug, testing, the demo and the benchmarks skip it."""
    from hub import config as cfg

    if app.debug or app.testing or app.config.get("ENV_NAME") in cfg.UNCHECKED_ENVIRONMENTS:
        return app
    problems = cfg.check_settings(app.config)
    if problems:
        import sys

        report = cfg.settings_report(problems)
        print(report, file=sys.stderr, flush=True)
        raise UnsafeSettings(report)
    return app
