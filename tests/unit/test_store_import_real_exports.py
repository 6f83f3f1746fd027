"""A store export as real chains write them, from seven countries (tests/unit/data): time zones
as ``GMT+01:00 Europe/Paris``, Windows names, ``UTC+9``, abbreviations, lower case, and one
unreadable; countries as names in several languages, alpha-2 and alpha-3 codes; numeric and
lettered state codes; a quoted address with a line break; a duplicate store number. Lenient
where the meaning is clear, derived where it can be, warned with the line as an editor shows
it, rejected only when the row cannot be a store."""

from __future__ import annotations

from pathlib import Path

from hub.stores.importing import RowError, RowWarning, StoreRecord, parse_stores

DATA = Path(__file__).parent / "data" / "stores_multi_country.csv"


def _parse():
    with DATA.open(encoding="utf-8", newline="") as stream:
        return list(parse_stores(stream, fmt="csv"))


def test_every_country_reads_with_its_zone():
    items = _parse()
    stores = {r.code: r for r in items if isinstance(r, StoreRecord)}
    zones = {code: (r.country, r.timezone) for code, r in stores.items()}
    assert zones == {
        "0101": ("FR", "Europe/Paris"), "0102": ("FR", "Europe/Paris"),
        "0201": ("DE", "Europe/Berlin"), "0202": ("DE", "Europe/Berlin"),
        "0301": ("JP", "Asia/Tokyo"), "0302": ("JP", "Asia/Tokyo"),
        "0401": ("CA", "America/New_York"), "0402": ("CA", "America/Vancouver"),
        "0501": ("US", "America/New_York"), "0502": ("US", "America/Chicago"),
        "0601": ("GB", "Europe/London"), "0602": ("GB", "Europe/London"),
        "0701": ("AU", "Australia/Sydney"), "0801": ("ES", "Europe/Madrid"),
    }
    assert stores["0101"].address == "12 rue de Rivoli\nBâtiment B"  # quoted line break
    assert stores["0101"].region == "75" and stores["0401"].region == "ON"


def test_what_was_interpreted_is_warned_with_the_editors_line_number():
    warnings = {(w.line, w.code) for w in _parse() if isinstance(w, RowWarning)}
    # Line 2 is the Paris row; its quoted address takes lines 2-3, so Lyon is on line 4.
    assert (2, "timezone_read") in warnings and (2, "country_read") in warnings
    assert (4, "timezone_read") in warnings  # Romance Standard Time
    assert (6, "timezone_read") in warnings  # CET, confirmed by the coordinates
    assert (7, "timezone_read") in warnings  # UTC+9
    assert (12, "timezone_derived") in warnings  # "Central Time (unreadable)"
    assert (16, "timezone_read") in warnings  # UTC+01:00 in Madrid


def test_only_what_cannot_be_a_store_is_rejected():
    errors = [(e.line, e.code) for e in _parse() if isinstance(e, RowError)]
    assert errors == [(17, "duplicate_code"), (18, "invalid_value")]  # Atlantis
