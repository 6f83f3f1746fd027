"""Weekly opening hours with dated exceptions, in a store's local time.

Text form (what store files carry): ``Mon-Fri 09:00-18:00; Sat 10:00-16:00; Sun closed``,
``Mon 09:00-12:00,13:00-18:00``, ``24/7``. A closing time at or before the opening time runs
past midnight (``Fri 18:00-02:00``); ``24:00`` means midnight at the end of the day.
Pure domain code: no Flask, no database."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = {name: i for i, name in enumerate(DAYS)}
_RANGE = re.compile(r"^(\d{1,2}):?(\d{2})\s*-\s*(\d{1,2}):?(\d{2})$")

Minutes = tuple[int, int]  # (open, close) in minutes after local midnight; close may be > 1440


class HoursError(ValueError):
    """Opening hours that cannot be understood."""


def _minutes(hh: str, mm: str) -> int:
    hours, minutes = int(hh), int(mm)
    if hours > 24 or minutes > 59 or (hours == 24 and minutes):
        raise HoursError(f"{hh}:{mm} is not a time of day")
    return hours * 60 + minutes


def _parse_range(text: str) -> Minutes:
    match = _RANGE.match(text.strip())
    if not match:
        raise HoursError(f"{text.strip()!r} is not a time range like 09:00-18:00")
    start = _minutes(*match.group(1, 2))
    end = _minutes(*match.group(3, 4))
    if start == 1440:
        raise HoursError("opening time 24:00 is not a time of day")
    if end <= start:  # runs past midnight
        end += 1440
    return start, end


def _day(name: str) -> int:
    if len(name) < 3 or not name.isalpha():
        raise KeyError(name)
    return _DAY_NAMES[name[:3]]


def _parse_days(text: str) -> list[int]:
    days: list[int] = []
    for part in text.lower().split(","):
        names = [n.strip().rstrip(".") for n in part.split("-")]
        try:
            if len(names) == 1:
                days.append(_day(names[0]))
                continue
            first, last = (_day(n) for n in names)
        except (KeyError, ValueError):
            raise HoursError(f"{part.strip()!r} is not a day or day range like Mon-Fri") \
                from None
        if len(names) != 2:
            raise HoursError(f"{part.strip()!r} is not a day range like Mon-Fri")
        days.extend((first + i) % 7 for i in range((last - first) % 7 + 1))
    return days


def _fmt(minutes: int) -> str:
    minutes %= 1440
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _fmt_close(minutes: int) -> str:
    return "24:00" if minutes == 1440 else _fmt(minutes)


@dataclass(frozen=True)
class WeeklyHours:
    week: tuple[tuple[Minutes, ...], ...] = ((),) * 7
    exceptions: dict[date, tuple[Minutes, ...]] = field(default_factory=dict)

    # --- parsing and serialising -----------------------------------------------------------

    @classmethod
    def from_text(cls, text: str) -> WeeklyHours:
        text = text.strip()
        if text.lower() in ("24/7", "24h", "always"):
            return cls(week=(((0, 1440),),) * 7)
        week: list[tuple[Minutes, ...]] = [()] * 7
        seen: set[int] = set()
        for clause in filter(None, (c.strip() for c in text.split(";"))):
            head, _, ranges = clause.partition(" ")
            if not ranges.strip():
                raise HoursError(f"{clause!r} needs days and times, like 'Mon-Fri 09:00-18:00'")
            days = _parse_days(head)
            if ranges.strip().lower() == "closed":
                spans: tuple[Minutes, ...] = ()
            else:
                spans = tuple(sorted(_parse_range(r) for r in ranges.split(",")))
                for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
                    if start < end:
                        raise HoursError(f"overlapping times in {clause!r}")
            for day in days:
                if day in seen:
                    raise HoursError(f"{DAYS[day].title()} is given twice")
                seen.add(day)
                week[day] = spans
        if not seen:
            raise HoursError("no opening hours given")
        return cls(week=tuple(week))

    @classmethod
    def from_dict(cls, data: dict) -> WeeklyHours:
        def spans(items) -> tuple[Minutes, ...]:
            return tuple(sorted(_parse_range(f"{a}-{b}") for a, b in items))

        week = tuple(spans(data.get(day, [])) for day in DAYS)
        exceptions = {date.fromisoformat(day): spans(items)
                      for day, items in (data.get("exceptions") or {}).items()}
        return cls(week=week, exceptions=exceptions)

    def to_dict(self) -> dict:
        def spans(items: tuple[Minutes, ...]) -> list[list[str]]:
            return [[_fmt(a), _fmt_close(b)] for a, b in items]

        data: dict = {day: spans(self.week[i]) for i, day in enumerate(DAYS)}
        data["exceptions"] = {d.isoformat(): spans(s) for d, s in sorted(self.exceptions.items())}
        return data

    def to_text(self) -> str:
        if all(spans == ((0, 1440),) for spans in self.week):
            return "24/7"
        clauses, i = [], 0
        while i < 7:
            j = i
            while j + 1 < 7 and self.week[j + 1] == self.week[i]:
                j += 1
            days = DAYS[i].title() if i == j else f"{DAYS[i].title()}-{DAYS[j].title()}"
            spans = self.week[i]
            times = ",".join(f"{_fmt(a)}-{_fmt_close(b)}"
                             for a, b in spans) or "closed"
            clauses.append(f"{days} {times}")
            i = j + 1
        return "; ".join(clauses)

    # --- questions in local time ------------------------------------------------------------

    def spans_on(self, day: date) -> tuple[Minutes, ...]:
        if day in self.exceptions:
            return self.exceptions[day]
        return self.week[day.weekday()]

    def _intervals(self, start: date, days: int, zone: ZoneInfo):
        """(opens, closes) as aware datetimes for each span starting on the given days."""
        for offset in range(days):
            day = start + timedelta(days=offset)
            midnight = datetime.combine(day, time(0), tzinfo=zone)
            for open_m, close_m in self.spans_on(day):
                yield (_local(midnight, open_m, zone), _local(midnight, close_m, zone))

    def open_interval(self, at: datetime, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
        """The opening span containing ``at`` (merged across midnight), if open."""
        local = at.astimezone(zone)
        current = None
        today = local.date()
        yesterday = today - timedelta(days=1)
        # Yesterday matters only when its last span runs to midnight and may merge into today.
        reaches_today = any(close_m >= 1440 for _, close_m in self.spans_on(yesterday))
        start, days = (yesterday, 9) if reaches_today else (today, 8)
        for opens, closes in self._intervals(start, days, zone):
            if current and opens <= current[1]:
                current = (current[0], max(current[1], closes))
            elif opens <= local < closes:
                current = (opens, closes)
            elif current:
                break
        return current if current and current[0] <= local < current[1] else None

    def is_open(self, at: datetime, zone: ZoneInfo) -> bool:
        return self.open_interval(at, zone) is not None

    def closes_at(self, at: datetime, zone: ZoneInfo) -> datetime | None:
        interval = self.open_interval(at, zone)
        return interval[1] if interval else None

    def next_opening(self, at: datetime, zone: ZoneInfo, horizon_days: int = 14) \
            -> datetime | None:
        """The next time the store opens after ``at`` (None if open now or never soon)."""
        if self.is_open(at, zone):
            return None
        local = at.astimezone(zone)
        for opens, _ in self._intervals(local.date(), horizon_days, zone):
            if opens > local:
                return opens
        return None


def _local(midnight: datetime, minutes: int, zone: ZoneInfo) -> datetime:
    """Wall-clock minutes after midnight; goes through UTC-free wall arithmetic so that
    the hours stay the posted hours on daylight-saving days."""
    day = midnight.date() + timedelta(days=minutes // 1440)
    minutes %= 1440
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone)
