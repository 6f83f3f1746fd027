from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, jsonify, request

from hub.api import bp
from hub.api.common import float_arg, int_arg, require
from hub.extensions import db
from hub.stores import geo, service
from hub.web.errors import Problem


@bp.get("/api/v1/routing")
@require()
def routing():
    """The best stores for a return from a point (lat/lon, or postal_code + country)."""
    lat = float_arg("lat", lo=-90, hi=90)
    lon = float_arg("lon", lo=-180, hi=180)
    if (lat is None) != (lon is None):
        raise Problem(400, "missing_parameter", "Missing parameter",
                      "Give both 'lat' and 'lon', or a 'postal_code'.")
    if lat is None:
        lat, lon = _resolve_postal_code()
    limit = int_arg("limit", current_app.config["ROUTING_DEFAULT_LIMIT"], lo=1, hi=50)
    ranked = service.route(db.session, lat, lon, category=request.args.get("category"),
                           size_class=request.args.get("size_class"), at=_at(), limit=limit)
    return jsonify({"origin": {"lat": lat, "lon": lon},
                    "stores": [service.ranked_to_dict(r) for r in ranked]})


def _resolve_postal_code() -> tuple[float, float]:
    postal_code = (request.args.get("postal_code") or "").strip()
    if not postal_code:
        raise Problem(400, "missing_parameter", "Missing parameter",
                      "Give 'lat' and 'lon', or a 'postal_code'.")
    country = (request.args.get("country") or "US").upper()
    point = geo.resolve_postal_code(postal_code, country) or _online_geocode(postal_code, country)
    if point is None:
        raise Problem(422, "unknown_postal_code", "Unknown postal code",
                      f"Postal code {postal_code!r} in {country} could not be located.",
                      parameter="postal_code")
    return point


def _online_geocode(postal_code: str, country: str) -> tuple[float, float] | None:
    """Only when an operator configured a geocoder (HOMING_GEOCODER): the offline table
    covers US ZIP codes; other countries need an online service."""
    name = current_app.config.get("GEOCODER")
    if not name:
        return None
    from geopy.geocoders import get_geocoder_for_service

    geocoder = get_geocoder_for_service(name)(user_agent="homing-returns-hub", timeout=3)
    return geo.geocode_with(geocoder, f"{postal_code}, {country}")


def _at() -> datetime:
    raw = request.args.get("at")
    if not raw:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise Problem(400, "invalid_parameter", "Invalid parameter",
                      "'at' must be an ISO 8601 date-time with an offset, e.g. "
                      "2026-11-23T15:00:00Z.", parameter="at") from None
    if at.tzinfo is None:
        raise Problem(400, "invalid_parameter", "Invalid parameter",
                      "'at' needs a time-zone offset (e.g. Z or +01:00).", parameter="at")
    return at.astimezone(UTC)
