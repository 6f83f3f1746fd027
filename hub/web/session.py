"""Who is using the browser: Flask-Login for people, a device cookie for store tablets, and an
inactivity timeout so a shared tablet does not stay signed in."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import abort, redirect, request, session, url_for
from flask_login import current_user, logout_user

from hub.auth.models import User
from hub.auth.service import AuthError, Principal, authenticate_device, user_principal
from hub.extensions import db, login_manager
from hub.models import utcnow

DEVICE_COOKIE = "homing_device"


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None


def init_session(app) -> None:
    login_manager.login_view = "store.login"
    app.config.setdefault("IDLE_TIMEOUT_STORE", 5 * 60)
    app.config.setdefault("IDLE_TIMEOUT_HQ", 30 * 60)

    @app.before_request
    def _expire_idle_sessions():
        if not current_user.is_authenticated:
            return None
        limit = app.config["IDLE_TIMEOUT_STORE" if current_user.store_id else "IDLE_TIMEOUT_HQ"]
        now = int(utcnow().timestamp())  # an int: the session's JSON reads fractions as Decimal
        last = int(session.get("seen", now))
        if now - last > limit:
            logout_user()
            session.clear()
            return None
        session["seen"] = now
        session.permanent = True
        return None


def current_device():
    """The enrolled tablet this request comes from, or None."""
    # Cached per request (not on g, which lives as long as the app context).
    if "homing.device" not in request.environ:
        token = request.cookies.get(DEVICE_COOKIE)
        try:
            device = authenticate_device(db.session, token) if token else None
        except AuthError:
            device = None
        request.environ["homing.device"] = device
    return request.environ["homing.device"]


def current_principal() -> Principal | None:
    return user_principal(current_user) if current_user.is_authenticated else None


def require_role(*roles: str, login_endpoint: str = "hq.login") -> Callable:
    """Allow only signed-in users with one of ``roles``; send others to sign in."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for(login_endpoint, next=request.full_path))
            if roles and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate

