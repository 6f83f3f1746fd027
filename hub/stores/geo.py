"""Turning a postal code into a point: offline for US ZIP codes (the zipcodes package's
bundled data), through a geopy geocoder only when an operator configured one."""

from __future__ import annotations

import logging
from functools import lru_cache

log = logging.getLogger(__name__)


@lru_cache(maxsize=4096)
def resolve_postal_code(postal_code: str, country: str) -> tuple[float, float] | None:
    """The centre of a postal code from offline data, or None when it is not known here."""
    if country.upper() != "US":
        return None
    import zipcodes

    code = postal_code.strip()[:5]
    try:
        matches = zipcodes.matching(code)
    except (TypeError, ValueError):
        return None
    for match in matches:
        try:
            return float(match["lat"]), float(match["long"])
        except (KeyError, TypeError, ValueError):
            continue
    return None


def geocode_with(geocoder, query: str) -> tuple[float, float] | None:
    """Ask a configured geopy geocoder; a failing service means 'not found', not a crash."""
    from geopy.exc import GeopyError

    try:
        location = geocoder.geocode(query, exactly_one=True)
    except GeopyError as exc:
        log.warning("geocoder %s failed: %s", type(geocoder).__name__, type(exc).__name__)
        return None
    return (location.latitude, location.longitude) if location else None
