"""Headers and framing. Promise: every response carries a Content-Security-Policy that allows
only our own scripts (and forbids framing), X-Frame-Options DENY, nosniff and a same-origin
referrer policy; behind https (directly or through HOMING_PROXY_COUNT trusted proxies) the
session cookie is Secure and HSTS is sent; an oversized Idempotency-Key is refused."""

from __future__ import annotations

import pytest

from tests.conftest import make_app

PAGES = ["/", "/return/", "/store/enroll?token=x", "/hq/login", "/api/v1/health",
         "/api/openapi.json", "/no/such/page", "/static/css/homing.css"]


@pytest.mark.parametrize("path", PAGES)
def test_every_response_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1] \
        .split(";")[0]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers  # plain http: HSTS would be ignored


def test_hq_buttons_cannot_be_framed(hq_admin):
    page = hq_admin.get("/hq/queues")
    assert page.status_code == 200
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_inline_handlers_of_our_templates_are_allowed_by_hash(client):
    from hub.web.security import _sha256

    csp = client.get("/return/").headers["Content-Security-Policy"]
    assert _sha256("this.form.submit()") in csp and "'unsafe-hashes'" in csp


def test_https_session_cookie_is_secure_and_hsts_is_sent(client, session):
    from tests.integration.hq_helpers import hq_user

    hq_user(session, "admin", "tls@hq.example")
    response = client.post("/hq/login", base_url="https://homing.example",
                           data={"email": "tls@hq.example", "password": "correct horse battery"})
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_behind_a_trusted_proxy_forwarded_https_counts(pg_url, tmp_path_factory, session):
    proxied = make_app(pg_url, tmp_path_factory, PROXY_COUNT=1)
    with proxied.test_client() as browser:
        over_https = browser.get("/hq/login", headers={"X-Forwarded-Proto": "https",
                                                       "X-Forwarded-For": "203.0.113.9"})
        assert "Strict-Transport-Security" in over_https.headers
    plain = make_app(pg_url, tmp_path_factory)  # no proxy trusted: the header is a claim
    with plain.test_client() as browser:
        spoofed = browser.get("/hq/login", headers={"X-Forwarded-Proto": "https"})
        assert "Strict-Transport-Security" not in spoofed.headers


def test_an_overlong_idempotency_key_is_refused(client, admin):
    body = {"channel": "amazon-mfn", "order_id": "114-1234567-1234567",
            "lines": [{"item_id": "11111111111111", "quantity": 1, "reason": "fit.too_small"}]}
    response = client.post("/api/v1/returns", json=body,
                           headers={**admin, "Idempotency-Key": "k" * 81})
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_idempotency_key"
