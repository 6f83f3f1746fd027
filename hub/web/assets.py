"""Static files: content hash in the URL, a year's cache lifetime, compression.

``url_for('static', filename=...)`` gets ``?v=<content hash>`` for every real file (not for
a folder prefix such as Workbox's module path). A request carrying the file's current hash is
answered ``public, max-age=31536000, immutable``: a change to the file changes its URL, so a
browser never needs to re-check it. Anything else (no hash, an old hash) keeps ``no-cache``.
Text, scripts, styles and WebAssembly are sent brotli- or gzip-compressed by the client's
Accept-Encoding, each file compressed once per content and kept in memory."""

from __future__ import annotations

import gzip
import hashlib
import threading
from pathlib import Path

from flask import Flask, request
from werkzeug.security import safe_join

try:  # brotli is a declared dependency; gzip alone still works without it
    import brotli
except ImportError:  # pragma: no cover
    brotli = None

YEAR = 365 * 24 * 3600
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "application/wasm",
                "application/manifest+json", "image/svg+xml")
ENCODINGS = ("br", "gzip") if brotli else ("gzip",)


class Assets:
    def __init__(self, root: str):
        self.root = root
        self._digests: dict[str, tuple[tuple[int, int], str]] = {}
        self._encoded: dict[tuple[str, str, str], bytes] = {}
        self._lock = threading.Lock()

    def _path(self, filename: str) -> Path | None:
        joined = safe_join(self.root, filename) if filename else None
        path = Path(joined) if joined else None
        return path if path and path.is_file() else None

    def fingerprint(self, filename: str) -> str | None:
        """The first 16 hex digits of the file's SHA-256, or None for no such file."""
        path = self._path(filename)
        if path is None:
            return None
        stat = path.stat()
        key = (stat.st_mtime_ns, stat.st_size)
        known = self._digests.get(filename)
        if known and known[0] == key:
            return known[1]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        self._digests[filename] = (key, digest)
        return digest

    def encoded(self, filename: str, digest: str, encoding: str) -> bytes:
        key = (filename, digest, encoding)
        if key not in self._encoded:
            raw = self._path(filename).read_bytes()
            body = (brotli.compress(raw, quality=5) if encoding == "br"
                    else gzip.compress(raw, compresslevel=6, mtime=0))
            with self._lock:
                self._encoded[key] = body
        return self._encoded[key]


def init_assets(app: Flask) -> None:
    assets = Assets(app.static_folder)
    app.extensions["homing_assets"] = assets

    @app.url_defaults
    def _fingerprint(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values:
            digest = assets.fingerprint(values.get("filename", ""))
            if digest:
                values["v"] = digest

    @app.after_request
    def _static_delivery(response):
        if request.endpoint != "static" or response.status_code != 200:
            return response
        filename = (request.view_args or {}).get("filename", "")
        digest = assets.fingerprint(filename)
        if digest is None:
            return response
        if request.args.get("v") == digest:
            response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
            response.expires = None
        else:
            response.headers["Cache-Control"] = "no-cache"
        if response.mimetype.startswith(COMPRESSIBLE) and "Range" not in request.headers:
            _compress(response, assets, filename, digest)
        return response


def _compress(response, assets: Assets, filename: str, digest: str) -> None:
    """One representation per encoding, each with its own ETag; a client that already holds
    the one it would get is answered 304."""
    response.vary.add("Accept-Encoding")
    encoding = next((e for e in ENCODINGS if request.accept_encodings[e]), None)
    etag = f"{digest}-{encoding or 'identity'}"
    response.set_etag(etag)
    if etag in request.if_none_match:
        response.close()
        response.direct_passthrough = False
        response.set_data(b"")
        response.status_code = 304
        return
    if encoding:
        response.headers.pop("Accept-Ranges", None)  # ranges would be of the other bytes
        response.close()  # the file Flask opened for the uncompressed body
        response.direct_passthrough = False
        response.set_data(assets.encoded(filename, digest, encoding))
        response.headers["Content-Encoding"] = encoding
