"""Security headers on every response, https awareness behind a proxy, and the session cookie.

The Content-Security-Policy allows scripts only from this origin, plus the inline scripts and
event handlers written literally in our own templates (by their SHA-256 hashes, computed once
from the template sources), plus ``'wasm-unsafe-eval'`` for the vendored zxing-wasm decoder.
Anything injected into a page (a shopper's name, a store's notes) can therefore not run.
Styles may be inline: htmx adds its indicator style and the HQ charts are inline SVG."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

_HANDLER = re.compile(r"""\son[a-z]+="([^"{}]*)\"""")
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>(.*?)</script>", re.S)


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    """The session cookie is ``Secure`` whenever the request came over https (directly, or
    through a trusted proxy), not only when SESSION_COOKIE_SECURE says so."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def template_hashes(app: Flask) -> list[str]:
    """Hashes of the literal inline scripts and on*="..." handlers in our templates (those
    with template expressions inside cannot be hashed and would be refused by the browser)."""
    found: set[str] = set()
    loader = app.jinja_env.loader
    for name in app.jinja_env.list_templates(extensions=["html"]):
        source, _filename, _uptodate = loader.get_source(app.jinja_env, name)
        found.update(_HANDLER.findall(source))
        found.update(s for s in _INLINE_SCRIPT.findall(source) if "{{" not in s and "{%" not in s)
    return sorted(_sha256(text) for text in found if text.strip())


def content_security_policy(hashes: list[str], nonce: str) -> str:
    scripts = " ".join(["'self'", f"'nonce-{nonce}'", "'wasm-unsafe-eval'",
                        *(["'unsafe-hashes'", *hashes] if hashes else [])])
    return "; ".join([
        "default-src 'self'",
        f"script-src {scripts}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def csp_nonce() -> str:
    """This response's nonce, for a template that needs an inline script with values in it:
    ``<script nonce="{{ csp_nonce() }}">``."""
    return request.environ.setdefault("homing.csp_nonce", secrets.token_urlsafe(16))


def init_security(app: Flask) -> None:
    app.session_interface = HttpsAwareSessionInterface()
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies:
        # Behind N reverse proxies: believe the client address, scheme and host they forward
        # (rate limits per address, Secure cookies and HSTS behind https, absolute URLs).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies,
                                x_host=proxies, x_port=proxies)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    hashes: list[str] = []
    loaded = False

    @app.after_request
    def _security_headers(response):
        nonlocal hashes, loaded
        if not loaded:
            hashes, loaded = template_hashes(app), True
        headers = response.headers
        headers.setdefault("Content-Security-Policy", content_security_policy(hashes,
                                                                             csp_nonce()))
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy",
                           "camera=(self), geolocation=(self), microphone=(), payment=()")
        hsts = int(app.config.get("HSTS_SECONDS") or 0)
        if request.is_secure and hsts > 0:
            headers.setdefault("Strict-Transport-Security", f"max-age={hsts}")
        return response
