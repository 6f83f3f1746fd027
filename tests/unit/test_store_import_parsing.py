from __future__ import annotations

import io
import json

import pytest

from hub.stores.importing import (
    ImportFormatError,
    RowError,
    StoreRecord,
    derive_code,
    parse_stores,
)


def _parse(text: str, fmt: str = "csv", **kwargs) -> list[StoreRecord | RowError]:
    return list(parse_stores(io.StringIO(text), fmt=fmt, **kwargs))


def test_lenient_headers_and_documented_defaults():
    [store] = _parse("Store Name,LAT,Lng,ZIP,State\nCorner Shop,40.7128,-74.0060,2134,MA\n")
    assert store.name == "Corner Shop" and store.region == "MA"
    assert store.postal_code == "02134"  # spreadsheet-dropped leading zero restored
    assert (store.country, store.timezone) == ("US", "America/New_York")
    assert store.hours.to_text() == "Mon-Sat 09:00-18:00; Sun closed"
    assert store.categories == {"general"} and store.size_classes == {"small", "medium", "large"}
    assert (store.daily_capacity, store.active) == (200, True)
    assert store.code == derive_code("US", "02134", "Corner Shop", "", 40.7128, -74.006)


def test_derived_code_is_stable_and_distinguishes_stores():
    first = derive_code("US", "10001", "A", "1 Main St", 40.0, -74.0)
    assert first == derive_code("US", "10001", "A", "1 Main St", 40.0, -74.0)
    assert first != derive_code("US", "10001", "A", "2 Main St", 40.0, -74.0)
    assert first.startswith("US-10001-")


def test_country_follows_the_time_zone_when_missing():
    [store] = _parse("name,latitude,longitude\nMitte,52.52,13.405\n")
    assert (store.timezone, store.country) == ("Europe/Berlin", "DE")


def test_each_bad_row_is_reported_with_its_line_and_reason():
    text = ("code,name,lat,lon,hours,capacity,active,size_classes\n"
            "A,Ok,1,1,,,,\n"
            "B,Bad lat,-91,1,,,,\n"
            "C,Bad hours,1,1,Mon 9-5,,,\n"
            "D,Bad capacity,1,1,,-4,,\n"
            "E,Bad active,1,1,,,maybe,\n"
            "F,Bad size,1,1,,,,huge\n"
            '"G","Two\nlines",x,1,,,,\n'
            "A,Duplicate,1,1,,,,\n")
    results = _parse(text)
    errors = [r for r in results if isinstance(r, RowError)]
    assert [r.code for r in results if isinstance(r, StoreRecord)] == ["A"]
    assert [(e.line, e.code) for e in errors] == [
        (3, "invalid_coordinates"), (4, "invalid_hours"), (5, "invalid_value"),
        (6, "invalid_value"), (7, "invalid_value"), (8, "invalid_coordinates"),
        (10, "duplicate_code")]
    assert "first on line 2" in errors[-1].reason


def test_json_list_with_lists_and_native_types():
    rows = [{"store_code": "J1", "name": "Tokyo", "lat": 35.68, "lng": 139.76,
             "categories": ["General", "Electronics"], "active": False, "capacity": 12}]
    [store] = _parse(json.dumps({"stores": rows}), fmt="json")
    assert (store.code, store.timezone, store.country) == ("J1", "Asia/Tokyo", "JP")
    assert store.categories == {"general", "electronics"}
    assert (store.active, store.daily_capacity) == (False, 12)


@pytest.mark.parametrize("text, fmt, message", [
    ("", "csv", "no header"),
    ("code,title\n1,x\n", "csv", "no column for latitude, longitude"),
    ("{not json", "json", "not valid JSON"),
    ('{"shops": []}', "json", "list of stores"),
])
def test_unreadable_files_fail_as_a_whole(text, fmt, message):
    with pytest.raises(ImportFormatError, match=message):
        _parse(text, fmt=fmt)


def test_explicit_column_map_wins_and_is_checked():
    [store] = _parse("No,Label,N,E\n77,Odd,52.52,13.405\n",
                     column_map={"code": "No", "name": "Label", "latitude": "N",
                                 "longitude": "E"})
    assert (store.code, store.name) == ("77", "Odd")
    with pytest.raises(ImportFormatError, match="no column 'Nope'"):
        _parse("name,lat,lon\nx,1,1\n", column_map={"code": "Nope"})
