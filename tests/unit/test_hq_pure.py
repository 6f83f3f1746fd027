"""HQ's pure parts: the permission table, date ranges in the HQ time zone, the SVG charts
and the seeded sample history."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from hub.hq import charts, sample
from hub.hq.access import PERMISSIONS, Forbidden, Scope
from hub.hq.dashboard import RangeError, date_range


def test_scopes_follow_the_permission_table():
    assert Scope(1, "admin").can("users.manage")
    assert not Scope(1, "finance").can("users.manage")
    assert Scope(1, "finance").can("queues.finance")
    assert not Scope(1, "clerk").can("dashboard.view")
    with pytest.raises(Forbidden):
        Scope(1, "hq_ops").require("policy.manage")
    supervisor = Scope(2, "supervisor", store_id=5)
    assert supervisor.sees_store(5) and not supervisor.sees_store(6)
    assert not supervisor.sees_store(None) and Scope(3, "hq_ops").sees_store(6)
    assert set().union(*PERMISSIONS.values()) == {"supervisor", "hq_ops", "finance", "admin"}


def test_ranges_are_whole_days_in_the_hq_time_zone():
    now = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)  # the day New York moves its clocks
    today = date_range("today", "America/New_York", now)
    assert today.start == datetime(2026, 3, 8, 5, 0, tzinfo=UTC)  # midnight EST
    assert today.end == datetime(2026, 3, 9, 4, 0, tzinfo=UTC)  # midnight EDT: a 23-h day
    week = date_range("week", "UTC", now)
    assert (week.first_day.isoformat(), week.last_day.isoformat()) == ("2026-03-02",
                                                                      "2026-03-08")
    assert len(week.days()) == 7
    custom = date_range("custom", "UTC", now, "2026-01-01", "2026-01-31")
    assert custom.end - custom.start == timedelta(days=31)


@pytest.mark.parametrize("args,message", [
    (("custom", "2026-02-01", "2026-01-01"), "before the start"),
    (("custom", "yesterday", "today"), "YYYY-MM-DD"),
    (("custom", "2024-01-01", "2026-01-01"), "at most"),
    (("fortnight", "", ""), "unknown range"),
])
def test_bad_ranges_are_explained(args, message):
    kind, start, end = args
    with pytest.raises(RangeError, match=message):
        date_range(kind, "UTC", datetime(2026, 3, 8, tzinfo=UTC), start, end)


def test_bar_chart_scales_to_the_largest_and_escapes_labels():
    svg = charts.bar_chart([("<script>", 10), ("B", 5)], label="Reasons & more")
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert 'aria-label="Reasons &amp; more"' in svg
    widths = [float(w) for w in re.findall(r'<rect x="150" y="\d+" width="([\d.]+)"', svg)]
    assert widths[0] == pytest.approx(2 * widths[1])


def test_store_map_draws_idle_stores_cheaply_and_busy_ones_by_volume():
    points = [charts.MapPoint(40 + i * .01, -74 - i * .01, 0, f"S{i}") for i in range(500)]
    points += [charts.MapPoint(41, -75, 3, "Busy"), charts.MapPoint(42, -76, 30, "Busiest")]
    svg = charts.store_map(points, label="Stores")
    assert svg.count("<circle") == 2 and svg.count("<path") == 1
    assert svg.index("Busy: 3") < svg.index("Busiest: 30")  # the busiest is drawn on top
    assert charts.shade(30, 30) == charts.SCALE[-1] and charts.shade(0, 30) == charts.EMPTY
    assert charts.shade(1, 30) == charts.SCALE[0]


def test_sample_history_is_seeded_and_consistent():
    now = datetime(2026, 12, 1, tzinfo=UTC)
    first = sample.plan([1, 2, 3], 300, now, seed=3)
    assert first == sample.plan([1, 2, 3], 300, now, seed=3)
    for r in first:
        assert r.created_at <= now
        if r.dropped_at:
            assert r.created_at < r.dropped_at <= now
        if r.completed_at:
            assert all(bool(u.grade) == bool(u.accepted) for u in r.units)
            assert r.refund_amount == r.unit_price * sum(bool(u.accepted) for u in r.units)
        if r.refund_succeeded_at:
            assert r.completed_at < r.refund_succeeded_at <= now
        assert not (r.needs_review and r.dropped_at)
