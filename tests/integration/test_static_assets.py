"""Static files: fingerprinted URLs, a year's immutable caching, brotli/gzip, and the store
app's service worker precaching the fingerprinted names."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import brotli
import pytest
from flask import url_for

SHELL_FILES = ("css/homing.css", "js/htmx.min.js", "js/store.js",
               "vendor/barcode-detector/ponyfill.js", "vendor/barcode-detector/zxing_reader.wasm")


def _digest(app, name: str) -> str:
    return hashlib.sha256((Path(app.static_folder) / name).read_bytes()).hexdigest()[:16]


def test_static_urls_carry_the_content_hash_and_folders_do_not(app):
    with app.test_request_context():
        assert url_for("static", filename="css/homing.css") \
            == f"/static/css/homing.css?v={_digest(app, 'css/homing.css')}"
        assert url_for("static", filename="vendor/workbox/") == "/static/vendor/workbox/"
        assert url_for("static", filename="no/such.css") == "/static/no/such.css"


@pytest.mark.parametrize("name", SHELL_FILES)
def test_a_fingerprinted_file_is_immutable_for_a_year_and_compressed(client, app, name):
    raw = (Path(app.static_folder) / name).read_bytes()
    url = f"/static/{name}?v={_digest(app, name)}"
    br = client.get(url, headers={"Accept-Encoding": "gzip, br"})
    assert br.status_code == 200
    assert br.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert br.headers["Content-Encoding"] == "br" and "Accept-Encoding" in br.headers["Vary"]
    assert brotli.decompress(br.data) == raw and len(br.data) < len(raw)
    gz = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip" and gzip.decompress(gz.data) == raw
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and plain.data == raw
    assert br.headers["ETag"] != gz.headers["ETag"] != plain.headers["ETag"]
    again = client.get(url, headers={"Accept-Encoding": "br",
                                     "If-None-Match": br.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_an_old_or_missing_hash_is_revalidated_and_hostile_paths_are_refused(client):
    for url in ("/static/css/homing.css", "/static/css/homing.css?v=0123456789abcdef"):
        response = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-cache"
    for hostile in ("/static/../hub/config.py", "/static/%2e%2e/hub/config.py",
                    "/static/css/../../hub/config.py?v=1"):
        assert client.get(hostile).status_code == 404
    images = client.get("/static/img/icons/favicon.png", headers={"Accept-Encoding": "br"})
    assert "Content-Encoding" not in images.headers  # already compressed formats stay as is


def test_pages_link_fingerprinted_assets_and_keep_their_csp(client):
    page = client.get("/store/enroll")
    html = page.get_data(as_text=True)
    assert re.search(r'/static/css/homing\.css\?v=[0-9a-f]{16}"', html)
    assert "Content-Security-Policy" in page.headers


def test_the_service_worker_precaches_the_fingerprinted_app_shell(client, app):
    body = client.get("/store/sw.js").get_data(as_text=True)
    for name in SHELL_FILES:
        assert f"/static/{name}?v={_digest(app, name)}" in body
    assert 'modulePathPrefix: "/static/vendor/workbox/"' in body
