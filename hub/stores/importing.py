"""Parse a chain's store export (CSV or JSON) into validated store records.

Every chain's export differs, so headers are matched leniently (``lat``/``latitude``,
``zip``/``postal_code``, …) or mapped explicitly. Each row is validated completely and comes
out either as a StoreRecord or as a RowError naming the line and the reason; nothing here
writes anywhere. Pure domain code: no Flask, no database.

Defaults for missing optional fields (documented in the README):
  code          derived: ``<country>-<postal code>-<6 hex of a hash of name, address, lat/lon>``
  country       from the time zone (offline CLDR data), else ``US``
  timezone      from the coordinates (offline, timezonefinder), else the country's only zone
  hours         ``Mon-Sat 09:00-18:00; Sun closed``
  categories    ``general``;  size_classes ``small|medium|large``
  daily_capacity 200;  active true
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import IO
from zoneinfo import available_timezones

from hub.stores.hours import HoursError, WeeklyHours
from hub.stores.zones import country_code, fixed_zone, named_zone, offsets_in, zone_offsets

FIELDS = ("code", "name", "address", "address2", "city", "region", "postal_code", "country",
          "latitude", "longitude", "timezone", "hours", "categories", "size_classes",
          "daily_capacity", "active")

ALIASES = {
    "code": ("code", "storecode", "storeid", "storenumber", "storeno", "storenr", "sitecode",
             "siteid", "locationid", "locationcode", "id", "number", "ref"),
    "name": ("name", "storename", "title", "label", "displayname", "locationname"),
    "address": ("address", "address1", "addressline1", "street", "streetaddress", "line1"),
    "address2": ("address2", "addressline2", "line2"),
    "city": ("city", "town", "locality"),
    "region": ("region", "state", "province", "county", "stateprovince"),
    "postal_code": ("postalcode", "postcode", "zip", "zipcode", "plz", "postal"),
    "country": ("country", "countrycode", "countryiso", "iso2"),
    "latitude": ("latitude", "lat", "gpslat"),
    "longitude": ("longitude", "lon", "lng", "long", "gpslon", "gpslng"),
    "timezone": ("timezone", "tz", "timezonename", "tzid", "iana"),
    "hours": ("hours", "openinghours", "openhours", "businesshours", "storehours"),
    "categories": ("categories", "category", "acceptedcategories", "returncategories"),
    "size_classes": ("sizeclasses", "sizeclass", "sizes", "acceptedsizes"),
    "daily_capacity": ("dailycapacity", "capacity", "dailyreturns", "maxreturns",
                       "intakecapacity"),
    "active": ("active", "enabled", "isactive", "status", "open"),
}
SIZE_CLASSES = ("small", "medium", "large", "bulky")
DEFAULT_HOURS = "Mon-Sat 09:00-18:00; Sun closed"
DEFAULT_CATEGORIES = ("general",)
DEFAULT_SIZE_CLASSES = ("small", "medium", "large")
DEFAULT_CAPACITY = 200
DEFAULT_COUNTRY = "US"
MAX_CAPACITY = 100_000
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
_TOKEN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_TRUE = {"1", "true", "yes", "y", "active", "open", "enabled"}
_FALSE = {"0", "false", "no", "n", "inactive", "closed", "disabled"}


@dataclass(frozen=True)
class StoreRecord:
    code: str
    name: str
    address: str
    city: str
    region: str
    postal_code: str
    country: str
    latitude: float
    longitude: float
    timezone: str
    hours: WeeklyHours
    categories: frozenset[str]
    size_classes: frozenset[str]
    daily_capacity: int
    active: bool


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str
    code: str


@dataclass(frozen=True)
class RowWarning:
    """The row was imported, but something in it had to be interpreted or derived."""

    line: int
    reason: str
    code: str


class ImportFormatError(ValueError):
    """The file as a whole cannot be read (not CSV/JSON, no usable header)."""


class _Reject(Exception):
    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code, self.reason = code, reason


def _norm(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def resolve_columns(headers: Iterable[str], column_map: dict[str, str] | None = None) \
        -> dict[str, str]:
    """field -> header in the file. Explicit mappings win over the lenient aliases."""
    headers = list(headers)
    by_norm = {_norm(h): h for h in reversed(headers)}
    columns: dict[str, str] = {}
    for field_name, header in (column_map or {}).items():
        if field_name not in FIELDS:
            raise ImportFormatError(f"unknown field {field_name!r} in the column map "
                                    f"(fields: {', '.join(FIELDS)})")
        if header not in headers:
            raise ImportFormatError(f"the file has no column {header!r}")
        columns[field_name] = header
    taken = set(columns.values())
    for field_name, aliases in ALIASES.items():
        if field_name in columns:
            continue
        for alias in aliases:
            header = by_norm.get(alias)
            if header is not None and header not in taken:
                columns[field_name] = header
                taken.add(header)
                break
    return columns


def parse_stores(stream: IO[str], *, fmt: str,
                 column_map: dict[str, str] | None = None) -> Iterator[StoreRecord | RowError]:
    """Yield one StoreRecord or RowError per row, in file order."""
    rows = _csv_rows(stream) if fmt == "csv" else _json_rows(stream) if fmt == "json" else None
    if rows is None:
        raise ImportFormatError(f"unknown format {fmt!r} (csv or json)")
    columns: dict[str, str] | None = None
    seen: dict[str, int] = {}
    for line, row in rows:
        if columns is None:
            columns = resolve_columns(row.keys(), column_map)
            missing = [f for f in ("name", "latitude", "longitude") if f not in columns]
            if missing:
                raise ImportFormatError(
                    f"no column for {', '.join(missing)}; name it or map it with "
                    f"--map FIELD=HEADER")
        notes: list[tuple[str, str]] = []
        try:
            record = _record({f: _cell(row.get(h)) for f, h in columns.items()}, notes)
        except _Reject as reject:
            yield RowError(line, reject.reason, reject.code)
            continue
        if record.code in seen:
            yield RowError(line, f"duplicate store code {record.code!r} "
                                 f"(first on line {seen[record.code]})", "duplicate_code")
            continue
        seen[record.code] = line
        for code, reason in notes:
            yield RowWarning(line, reason, code)
        yield record


def _csv_rows(stream: IO[str]) -> Iterator[tuple[int, dict]]:
    reader = csv.DictReader(stream)
    if not reader.fieldnames:
        raise ImportFormatError("the file is empty or has no header row")
    for row in reader:
        if None in row:
            row.pop(None)  # extra cells beyond the header are ignored
        # line_num is the row's last physical line; quoted cells may span lines.
        line_of_row = reader.line_num - sum((v or "").count("\n") for v in row.values())
        if not any((v or "").strip() for v in row.values()):
            continue  # blank line
        yield line_of_row, row


def _json_rows(stream: IO[str]) -> Iterator[tuple[int, dict]]:
    try:
        data = json.load(stream)
    except json.JSONDecodeError as exc:
        raise ImportFormatError(f"not valid JSON: {exc}") from None
    if isinstance(data, dict):
        data = data.get("stores")
    if not isinstance(data, list):
        raise ImportFormatError("JSON must be a list of stores or {\"stores\": [...]}")
    keys: dict[str, None] = {}
    for item in data:
        if isinstance(item, dict):
            keys.update(dict.fromkeys(item))
    for number, item in enumerate(data, start=1):
        row = dict.fromkeys(keys)
        row.update(item if isinstance(item, dict) else {})
        yield number, row


def _cell(value) -> str | list | bool | int | float | None:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _record(cells: dict, notes: list[tuple[str, str]] | None = None) -> StoreRecord:
    notes = [] if notes is None else notes
    name = _text(cells, "name", 200, required=True)
    latitude = _coordinate(cells, "latitude", 90)
    longitude = _coordinate(cells, "longitude", 180)
    country = _country(cells.get("country"), notes)
    timezone = _timezone(cells.get("timezone"), latitude, longitude, country, notes)
    country = country or country_of_timezone(timezone) or DEFAULT_COUNTRY
    postal_code = _postal_code(cells.get("postal_code"), country)
    address = ", ".join(filter(None, (_text(cells, "address", 300),
                                      _text(cells, "address2", 300))))[:300]
    code = _code(cells.get("code")) or derive_code(country, postal_code, name, address,
                                                   latitude, longitude)
    return StoreRecord(
        code=code, name=name, address=address, city=_text(cells, "city", 120),
        region=_text(cells, "region", 120), postal_code=postal_code, country=country,
        latitude=latitude, longitude=longitude, timezone=timezone,
        hours=_hours(cells.get("hours")),
        categories=_tokens(cells.get("categories"), "categories", DEFAULT_CATEGORIES),
        size_classes=_tokens(cells.get("size_classes"), "size_classes", DEFAULT_SIZE_CLASSES,
                             allowed=SIZE_CLASSES),
        daily_capacity=_capacity(cells.get("daily_capacity")),
        active=_active(cells.get("active")),
    )


def derive_code(country: str, postal_code: str, name: str, address: str,
                latitude: float, longitude: float) -> str:
    """A stable code for files without one: the same row always gets the same code."""
    key = "|".join((name.lower(), address.lower(), f"{latitude:.5f}", f"{longitude:.5f}"))
    digest = hashlib.sha256(key.encode()).hexdigest()[:6].upper()
    postal = re.sub(r"[^A-Z0-9]", "", postal_code.upper())[:10] or "X"
    return f"{country}-{postal}-{digest}"


def _text(cells: dict, name: str, max_len: int, required: bool = False) -> str:
    value = cells.get(name)
    if value is None or value == "":
        if required:
            raise _Reject("missing_field", f"missing {name}")
        return ""
    value = str(value).strip()
    if len(value) > max_len:
        raise _Reject("invalid_value", f"{name} is longer than {max_len} characters")
    return value


def _coordinate(cells: dict, name: str, limit: float) -> float:
    raw = cells.get(name)
    if raw is None:
        raise _Reject("invalid_coordinates", f"missing {name}")
    try:
        value = float(str(raw).replace(",", ".")) if not isinstance(raw, bool) else None
    except ValueError:
        value = None
    if value is None or value != value:
        raise _Reject("invalid_coordinates", f"{name} {raw!r} is not a number")
    if not -limit <= value <= limit:
        raise _Reject("invalid_coordinates", f"{name} {value} is outside -{limit}..{limit}")
    return value


def _country(raw, notes: list) -> str | None:
    if raw is None:
        return None
    code = country_code(str(raw))
    if code is None:
        raise _Reject("invalid_value", f"country {raw!r} is neither an ISO code nor a "
                                       "country's name")
    if code != str(raw).strip().upper():
        notes.append(("country_read", f"country {raw!r} read as {code}"))
    return code


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


@cache
def _finder():
    from timezonefinder import TimezoneFinder

    return TimezoneFinder()


@cache
def _zone_territories() -> dict[str, str]:
    from babel.core import get_global

    return dict(get_global("zone_territories"))


@cache
def _territory_zones() -> dict[str, tuple[str, ...]]:
    from babel.core import get_global

    return {k: tuple(v) for k, v in get_global("territory_zones").items()}


def country_of_timezone(zone: str) -> str | None:
    return _zone_territories().get(zone)


def _timezone(raw, latitude: float, longitude: float, country: str | None,
              notes: list) -> str:
    """The zone as written when it names one; else what the coordinates give (checked
    against an offset or abbreviation, when that is what was written); else the country's
    only zone. Unreadable text is a warning, not a rejection, when the zone can be derived."""
    text = None if raw is None else str(raw).strip()
    if text:
        named = named_zone(text)
        if named is not None:
            if named != text:
                notes.append(("timezone_read", f"time zone {text!r} read as {named}"))
            return named
    derived = _finder().timezone_at(lat=latitude, lng=longitude)
    derived = derived if derived in _zones() else None
    if derived is None:
        zones = _territory_zones().get(country or "", ())
        derived = zones[0] if len(zones) == 1 else None
    offsets = offsets_in(text) if text else None
    if offsets is not None:
        if derived is not None and zone_offsets(derived) & set(offsets):
            notes.append(("timezone_read", f"time zone {text!r} read as {derived} "
                                           "(from the coordinates)"))
            return derived
        fixed = fixed_zone(offsets[0]) if derived is None else None
        if fixed is not None:
            notes.append(("timezone_read", f"time zone {text!r} read as {fixed} (no zone "
                                           "at these coordinates)"))
            return fixed
    if derived is None:
        raise _Reject("unknown_timezone",
                      f"unknown time zone {text!r} and none found at these coordinates"
                      if text else "no time zone given and none found at these coordinates")
    if text:
        notes.append(("timezone_derived", f"time zone {text!r} not understood"
                      + (" or not the one at these coordinates" if offsets else "")
                      + f"; {derived} taken from the coordinates"))
    return derived


def _postal_code(raw, country: str) -> str:
    if raw is None:
        return ""
    value = str(raw).strip().upper()
    if country == "US" and re.fullmatch(r"\d{3,4}", value):
        value = value.zfill(5)  # spreadsheets drop the leading zeros of ZIP codes
    if len(value) > 20:
        raise _Reject("invalid_value", "postal code is longer than 20 characters")
    return value


def _code(raw) -> str | None:
    if raw is None:
        return None
    value = str(raw).strip()
    if not _CODE.match(value):
        raise _Reject("invalid_value", f"store code {value!r} must be 1-40 letters, digits, "
                                       "'.', '_' or '-'")
    return value


def _hours(raw) -> WeeklyHours:
    if raw is None:
        return WeeklyHours.from_text(DEFAULT_HOURS)
    try:
        if isinstance(raw, dict):
            return WeeklyHours.from_dict(raw)
        return WeeklyHours.from_text(str(raw))
    except (HoursError, ValueError, TypeError) as exc:
        raise _Reject("invalid_hours", f"hours {raw!r}: {exc}") from None


def _tokens(raw, name: str, default: tuple[str, ...],
            allowed: tuple[str, ...] | None = None) -> frozenset[str]:
    if raw is None:
        return frozenset(default)
    items = raw if isinstance(raw, list) else re.split(r"[|;,\s]+", str(raw))
    values = {str(item).strip().lower() for item in items if str(item).strip()}
    for value in values:
        if not _TOKEN.match(value) or (allowed and value not in allowed):
            expected = f" (one of {', '.join(allowed)})" if allowed else ""
            raise _Reject("invalid_value", f"{name}: {value!r} is not valid{expected}")
    return frozenset(values) if values else frozenset(default)


def _capacity(raw) -> int:
    if raw is None:
        return DEFAULT_CAPACITY
    try:
        value = int(str(raw).strip()) if not isinstance(raw, bool) else -1
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_CAPACITY:
        raise _Reject("invalid_value", f"daily capacity {raw!r} must be a whole number "
                                       f"from 0 to {MAX_CAPACITY}")
    return value


def _active(raw) -> bool:
    if raw is None:
        return True
    if isinstance(raw, bool):
        return raw
    value = str(raw).strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _Reject("invalid_value", f"active {raw!r} must be yes/no, true/false or 1/0")
