"""Reading time zones and countries the way real store exports write them.

Chains' exports write ``Europe/Paris`` but also ``GMT+01:00 Europe/Paris``, ``UTC+9``,
``W. Europe Standard Time`` (Windows), ``CET`` or ``europe/paris``; countries as ``DE``,
``DEU``, ``Germany`` or ``Deutschland``. Each reader answers what it understood and, when it
had to interpret, a note for the import's warnings. Pure: no Flask, no database."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

# Windows time zone ids (what Microsoft tools export) -> the IANA zone CLDR maps them to.
WINDOWS_ZONES = {
    "dateline standard time": "Etc/GMT+12", "hawaiian standard time": "Pacific/Honolulu",
    "alaskan standard time": "America/Anchorage",
    "pacific standard time": "America/Los_Angeles",
    "us mountain standard time": "America/Phoenix",
    "mountain standard time": "America/Denver", "central standard time": "America/Chicago",
    "eastern standard time": "America/New_York",
    "atlantic standard time": "America/Halifax",
    "newfoundland standard time": "America/St_Johns",
    "central standard time (mexico)": "America/Mexico_City",
    "se asia standard time": "Asia/Bangkok", "sa eastern standard time": "America/Cayenne",
    "e. south america standard time": "America/Sao_Paulo",
    "argentina standard time": "America/Buenos_Aires", "utc": "Etc/UTC",
    "gmt standard time": "Europe/London", "greenwich standard time": "Atlantic/Reykjavik",
    "w. europe standard time": "Europe/Berlin",
    "central europe standard time": "Europe/Budapest",
    "romance standard time": "Europe/Paris",
    "central european standard time": "Europe/Warsaw",
    "e. europe standard time": "Europe/Chisinau", "gtb standard time": "Europe/Bucharest",
    "fle standard time": "Europe/Kiev", "turkey standard time": "Europe/Istanbul",
    "russian standard time": "Europe/Moscow", "israel standard time": "Asia/Jerusalem",
    "south africa standard time": "Africa/Johannesburg",
    "arabian standard time": "Asia/Dubai", "india standard time": "Asia/Calcutta",
    "china standard time": "Asia/Shanghai", "singapore standard time": "Asia/Singapore",
    "taipei standard time": "Asia/Taipei", "tokyo standard time": "Asia/Tokyo",
    "korea standard time": "Asia/Seoul",
    "aus eastern standard time": "Australia/Sydney",
    "e. australia standard time": "Australia/Brisbane",
    "cen. australia standard time": "Australia/Adelaide",
    "w. australia standard time": "Australia/Perth",
    "new zealand standard time": "Pacific/Auckland",
}

# Abbreviations are ambiguous (IST, CST); each stands for an offset, and the coordinates
# decide the zone. Standard and daylight offsets in hours.
ABBREVIATIONS = {
    "UTC": (0,), "GMT": (0,), "Z": (0,), "WET": (0, 1), "WEST": (1,), "BST": (1,),
    "CET": (1, 2), "CEST": (2,), "MEZ": (1, 2), "MESZ": (2,), "EET": (2, 3), "EEST": (3,),
    "MSK": (3,), "IST": (5.5, 1, 2), "SGT": (8,), "HKT": (8,), "AWST": (8,), "JST": (9,),
    "KST": (9,), "ACST": (9.5,), "AEST": (10,), "AEDT": (11,), "NZST": (12,), "NZDT": (13,),
    "EST": (-5,), "EDT": (-4,), "CST": (-6, 8), "CDT": (-5,), "MST": (-7,), "MDT": (-6,),
    "PST": (-8,), "PDT": (-7,), "AKST": (-9,), "HST": (-10,), "AST": (-4,),
}

# ISO 3166 alpha-3 codes of the countries where store chains most often export from.
ALPHA3 = {
    "USA": "US", "CAN": "CA", "MEX": "MX", "BRA": "BR", "ARG": "AR", "GBR": "GB",
    "IRL": "IE", "FRA": "FR", "DEU": "DE", "AUT": "AT", "CHE": "CH", "ITA": "IT",
    "ESP": "ES", "PRT": "PT", "NLD": "NL", "BEL": "BE", "LUX": "LU", "DNK": "DK",
    "SWE": "SE", "NOR": "NO", "FIN": "FI", "POL": "PL", "CZE": "CZ", "HUN": "HU",
    "ROU": "RO", "GRC": "GR", "TUR": "TR", "ISR": "IL", "ARE": "AE", "SAU": "SA",
    "IND": "IN", "CHN": "CN", "HKG": "HK", "TWN": "TW", "JPN": "JP", "KOR": "KR",
    "SGP": "SG", "AUS": "AU", "NZL": "NZ", "ZAF": "ZA",
}
_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-−])\s*(\d{1,2})(?::?(\d{2}))?$", re.I)


@cache
def zones() -> frozenset[str]:
    return frozenset(available_timezones())


@cache
def _zones_by_lower() -> dict[str, str]:
    # Region/City zones only: the legacy ones (CET, EST, MST, ...) are abbreviations whose
    # meaning is an offset, and the coordinates say which real zone is meant.
    return {z.lower(): z for z in zones() if "/" in z}


def named_zone(text: str) -> str | None:
    """An IANA or Windows zone named in ``text`` (any case, with other words around)."""
    lower = text.strip().lower()
    if lower in _zones_by_lower():
        return _zones_by_lower()[lower]
    if lower in WINDOWS_ZONES:
        return WINDOWS_ZONES[lower]
    for word in re.split(r"[\s,;()\[\]]+", lower):
        if "/" in word and word in _zones_by_lower():
            return _zones_by_lower()[word]
    return None


def offsets_in(text: str) -> tuple[float, ...] | None:
    """The UTC offsets (hours) that ``UTC+9``, ``GMT-05:30`` or ``CET`` stand for."""
    value = text.strip()
    match = _OFFSET.match(value)
    if match:
        sign = -1 if match.group(1) in "-−" else 1
        return (sign * (int(match.group(2)) + int(match.group(3) or 0) / 60),)
    return ABBREVIATIONS.get(value.upper())


def zone_offsets(zone: str, year: int = 2026) -> set[float]:
    """The offsets a zone uses in a year (standard and daylight time)."""
    tz = ZoneInfo(zone)
    return {datetime(year, month, 15, 12, tzinfo=UTC).astimezone(tz).utcoffset()
            / timedelta(hours=1) for month in (1, 7)}


def fixed_zone(offset: float) -> str | None:
    """Etc/GMT∓N for a whole-hour offset (POSIX signs are inverted)."""
    if offset != int(offset):
        return None
    name = "Etc/GMT" if offset == 0 else f"Etc/GMT{-int(offset):+d}"
    return name if name in zones() else None


@cache
def _country_names() -> dict[str, str]:
    from babel import Locale

    names: dict[str, str] = {}
    for language in ("en", "de", "fr", "es", "it", "nl", "pt", "ja", "zh"):
        for code, name in Locale(language).territories.items():
            if len(code) == 2 and code.isalpha():
                names.setdefault(_fold(name), code)
    names.update({"usa": "US", "unitedstatesofamerica": "US", "uk": "GB",
                  "greatbritain": "GB", "england": "GB", "holland": "NL"})
    return names


def _fold(name: str) -> str:
    return re.sub(r"[\W_]+", "", name.casefold())


def country_code(text: str) -> str | None:
    """DE, de, DEU, Germany, Deutschland, Allemagne -> DE; None if not a country."""
    value = text.strip()
    if re.fullmatch(r"[A-Za-z]{2}", value):
        return value.upper()
    if value.upper() in ALPHA3:
        return ALPHA3[value.upper()]
    return _country_names().get(_fold(value))
