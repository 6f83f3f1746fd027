from __future__ import annotations

import io
import json

from flask import g, jsonify, request

from hub.api import bp
from hub.api.common import idempotent, int_arg, require
from hub.audit.service import Actor
from hub.extensions import db
from hub.stores import service
from hub.web.errors import Problem


@bp.get("/api/v1/stores")
@require()
def list_stores():
    active = request.args.get("active")
    if active not in (None, "", "true", "false"):
        raise Problem(400, "invalid_parameter", "Invalid parameter",
                      "'active' must be true or false.", parameter="active")
    query = service.store_query(
        country=request.args.get("country"), region=request.args.get("region"),
        postal_code=request.args.get("postal_code"), text=request.args.get("q"),
        active=None if active in (None, "") else active == "true",
    )
    page = db.paginate(query, page=int_arg("page", 1, lo=1, hi=1_000_000),
                       per_page=int_arg("per_page", 50, lo=1, hi=500), error_out=False)
    return jsonify({
        "items": [service.store_to_dict(s) for s in page.items],
        "page": page.page, "per_page": page.per_page, "total": page.total,
        "pages": page.pages,
    })


@bp.get("/api/v1/stores/<code>")
@require()
def get_store(code: str):
    store = service.get_store(db.session, code)
    if store is None:
        raise Problem(404, "store_not_found", "Store not found", f"No store has code {code!r}.")
    return jsonify(service.store_to_dict(store))


@bp.post("/api/v1/stores/import")
@require("admin")
@idempotent()
def import_stores():
    """Import a CSV or JSON store export: multipart ``file``, or the raw body as text/csv or
    application/json. ``column_map`` (JSON object, our field -> their header) is optional."""
    text, fmt = _upload_text()
    column_map = _column_map()
    principal = g.principal
    actor = Actor("api_key", principal.id, principal.label)
    summary = service.import_stores(db.session, io.StringIO(text), fmt=fmt, actor=actor,
                                    column_map=column_map)
    return jsonify(summary.as_dict()), 200


def _upload_text() -> tuple[str, str]:
    upload = request.files.get("file")
    if upload is not None:
        raw = upload.read()
        fmt = "json" if (upload.filename or "").lower().endswith(".json") else "csv"
    else:
        raw = request.get_data()
        fmt = "json" if request.mimetype == "application/json" else "csv"
        if request.mimetype not in ("text/csv", "application/json", "text/plain"):
            raise Problem(415, "unsupported_media_type", "Unsupported media type",
                          "Send a multipart 'file', or a text/csv or application/json body.")
    fmt = request.args.get("format", fmt)
    if fmt not in ("csv", "json"):
        raise Problem(400, "invalid_parameter", "Invalid parameter",
                      "'format' must be csv or json.", parameter="format")
    if not raw:
        raise Problem(400, "empty_file", "Empty file", "The upload has no content.")
    try:
        return raw.decode("utf-8-sig"), fmt
    except UnicodeDecodeError as exc:
        raise Problem(400, "bad_encoding", "Not UTF-8",
                      f"The file is not UTF-8 (byte {exc.start}). Export it as UTF-8.") from exc


def _column_map() -> dict[str, str] | None:
    raw = request.args.get("column_map") or request.form.get("column_map")
    if not raw:
        return None
    try:
        mapping = json.loads(raw)
    except json.JSONDecodeError:
        mapping = None
    if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise Problem(400, "invalid_parameter", "Invalid parameter",
                      "'column_map' must be a JSON object of field -> column header.",
                      parameter="column_map")
    return mapping
