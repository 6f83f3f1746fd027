from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from hub.stores.hours import HoursError, WeeklyHours

NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize("text", [
    "Mon-Sat 08:00-22:00; Sun 09:00-20:00",
    "Mon-Fri 10:00-20:00; Sat 10:00-18:00; Sun closed",
    "24/7",
    "Mon 09:00-12:00,13:00-18:00; Tue-Sun closed",
    "Mon 18:00-02:00; Tue-Sun closed",
])
def test_text_and_dict_forms_round_trip(text):
    hours = WeeklyHours.from_text(text)
    assert hours.to_text() == text
    assert WeeklyHours.from_dict(hours.to_dict()) == hours


@pytest.mark.parametrize("text, message", [
    ("Mon 25:00-26:00", "not a time of day"),
    ("Mon", "needs days and times"),
    ("Xyz 09:00-10:00", "not a day"),
    ("Mon 09:00-12:00,11:00-13:00", "overlapping"),
    ("Mon 9-5", "not a time range"),
    ("Mon-Fri 09:00-17:00; Fri 10:00-12:00", "given twice"),
])
def test_malformed_hours_say_what_is_wrong(text, message):
    with pytest.raises(HoursError, match=message):
        WeeklyHours.from_text(text)


def test_open_now_closing_time_and_next_opening_in_local_time():
    hours = WeeklyHours.from_text("Mon-Fri 09:00-18:00; Sat-Sun closed")
    tuesday_noon = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
    assert hours.is_open(tuesday_noon, NEW_YORK)
    assert hours.closes_at(tuesday_noon, NEW_YORK) == datetime(2026, 11, 24, 18, 0,
                                                               tzinfo=NEW_YORK)
    saturday = datetime(2026, 11, 28, 17, 0, tzinfo=UTC)
    assert not hours.is_open(saturday, NEW_YORK)
    assert hours.next_opening(saturday, NEW_YORK) == datetime(2026, 11, 30, 9, 0,
                                                              tzinfo=NEW_YORK)


def test_hours_past_midnight_belong_to_the_day_they_start():
    hours = WeeklyHours.from_text("Fri 18:00-02:00; Sat-Thu closed")
    saturday_1am = datetime(2026, 11, 28, 1, 0, tzinfo=NEW_YORK)
    assert hours.closes_at(saturday_1am, NEW_YORK) == datetime(2026, 11, 28, 2, 0,
                                                               tzinfo=NEW_YORK)
    assert not hours.is_open(datetime(2026, 11, 28, 3, 0, tzinfo=NEW_YORK), NEW_YORK)


def test_posted_hours_hold_across_a_daylight_saving_change():
    hours = WeeklyHours.from_text("Mon-Sun 09:00-18:00")
    # 2026-11-01 is the day New York falls back: 09:00 local is 14:00 UTC, not 13:00.
    assert not hours.is_open(datetime(2026, 11, 1, 13, 30, tzinfo=UTC), NEW_YORK)
    assert hours.is_open(datetime(2026, 11, 1, 14, 30, tzinfo=UTC), NEW_YORK)


def test_dated_exceptions_override_the_week():
    hours = WeeklyHours.from_dict({**WeeklyHours.from_text("24/7").to_dict(),
                                   "exceptions": {"2026-12-25": []}})
    christmas = datetime(2026, 12, 25, 12, 0, tzinfo=NEW_YORK)
    assert not hours.is_open(christmas, NEW_YORK)
    assert hours.next_opening(christmas, NEW_YORK) == datetime(2026, 12, 26, 0, 0,
                                                               tzinfo=NEW_YORK)
    assert hours.spans_on(date(2026, 12, 24)) == ((0, 1440),)
