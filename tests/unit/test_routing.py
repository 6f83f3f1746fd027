from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.stores.hours import WeeklyHours
from hub.stores.routing import StoreCandidate, StoreIndex, brute_force

AT = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
HOURS = WeeklyHours.from_text("Mon-Fri 09:00-18:00; Sat-Sun closed")


def _store(i: int, lat: float, lon: float, categories=("general",), capacity=50,
           active=True) -> StoreCandidate:
    return StoreCandidate(id=i, code=f"S{i:05d}", name=f"Store {i}", latitude=lat,
                          longitude=lon, timezone="UTC", hours=HOURS,
                          categories=frozenset(categories),
                          size_classes=frozenset({"small", "medium"}),
                          daily_capacity=capacity, active=active)


def _world(n: int, seed: int) -> list[StoreCandidate]:
    rng = random.Random(seed)
    stores = []
    for i in range(n):
        # Bias towards the awkward places: the antimeridian and both poles.
        kind = rng.random()
        if kind < 0.3:
            lat, lon = rng.uniform(-60, 60), rng.choice((-1, 1)) * rng.uniform(175, 180)
        elif kind < 0.5:
            lat, lon = rng.choice((-1, 1)) * rng.uniform(80, 90), rng.uniform(-180, 180)
        else:
            lat, lon = rng.uniform(-90, 90), rng.uniform(-180, 180)
        cats = ("general", "electronics") if rng.random() < 0.5 else ("general",)
        stores.append(_store(i, lat, lon, cats, active=rng.random() > 0.05))
    return stores


@pytest.mark.parametrize("seed", range(4))
def test_matches_brute_force_geodesic_everywhere(seed):
    stores = _world(600, seed)
    index = StoreIndex.build(stores)
    rng = random.Random(100 + seed)
    points = [(rng.uniform(-90, 90), rng.uniform(-180, 180)) for _ in range(10)]
    points += [(rng.uniform(-50, 50), rng.choice((-179.9, 179.9, 180.0))) for _ in range(5)]
    points += [(89.99, 0.0), (-90.0, 0.0), (90.0, 123.0)]
    for lat, lon in points:
        for category in (None, "electronics"):
            got = index.route(lat, lon, at=AT, category=category, limit=5)
            expected = brute_force(stores, lat, lon, category=category, limit=5)
            assert [r.code for r in got] == [code for _, code in expected], (lat, lon)
            for ranked, (km, _) in zip(got, expected, strict=True):
                assert ranked.distance_km == pytest.approx(km, abs=1e-6)


def test_stores_that_cannot_take_the_items_are_never_ranked_above_those_that_can():
    near_general = _store(1, 0.0, 0.001)
    far_electronics = _store(2, 0.0, 1.0, ("general", "electronics"))
    index = StoreIndex.build([near_general, far_electronics])
    ranked = index.route(0.0, 0.0, at=AT, category="electronics", limit=2)
    assert [(r.code, r.accepts) for r in ranked] == [("S00002", True), ("S00001", False)]
    assert ranked[1].reasons[0][0] == "does_not_accept"


def test_full_stores_rank_after_stores_with_capacity_and_inactive_never_appear():
    near_full = _store(1, 0.0, 0.001, capacity=3)
    closed_down = _store(2, 0.0, 0.0005, active=False)
    far = _store(3, 0.0, 0.5)
    index = StoreIndex.build([near_full, closed_down, far])
    ranked = index.route(0.0, 0.0, at=AT, limit=5, intake_today={"S00001": 3})
    assert [(r.code, r.capacity_left) for r in ranked] == [("S00003", 50), ("S00001", 0)]
    assert ranked[1].reasons[0][0] == "full_today"


def test_open_now_and_next_opening_come_with_a_readable_reason():
    index = StoreIndex.build([_store(1, 0.0, 0.01)])
    [open_store] = index.route(0.0, 0.0, at=AT)
    assert open_store.open_now and open_store.closes_at.hour == 18
    assert "open now until 18:00" in open_store.explain()
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    [closed] = index.route(0.0, 0.0, at=saturday)
    assert not closed.open_now and closed.next_opening.isoformat() == "2026-11-30T09:00:00+00:00"
    assert closed.explain().startswith("#1: the nearest store that can take these items, 1.1 km")
    assert "closed now, opens Mon 09:00" in closed.explain()


def test_empty_index_and_unknown_category():
    assert StoreIndex.build([]).route(0, 0, at=AT) == []
    index = StoreIndex.build([_store(1, 0, 0)])
    [ranked] = index.route(0, 0, at=AT, category="boats")
    assert not ranked.accepts


def test_a_point_given_as_decimals_routes_like_floats():
    # A session cookie or JSON body hands coordinates over as Decimal (hub.web.json).
    from decimal import Decimal

    index = StoreIndex.build(_world(200, 7))
    as_floats = index.route(40.75, -73.99, at=AT, limit=3)
    as_decimals = index.route(Decimal("40.75"), Decimal("-73.99"), at=AT, limit=3)
    assert [r.code for r in as_decimals] == [r.code for r in as_floats]
    with pytest.raises(ValueError, match="not a point"):
        index.route(Decimal("NaN"), 0, at=AT)


# --- property: the index answers exactly what a brute-force geodesic scan answers ---------

def _tiered_brute_force(stores, lat, lon, *, category, size_class, limit, intake_today):
    """Every store measured with geopy, then the three tiers in order (takes the items with
    room today; takes them but full; active but does not take them), ties by code."""
    from geopy.distance import geodesic

    def tier(store):
        accepts = ((not category or category in store.categories)
                   and (not size_class or size_class in store.size_classes))
        full = intake_today.get(store.code, 0) >= store.daily_capacity
        return 2 if not accepts else 1 if full else 0

    found = sorted((tier(s), geodesic((lat, lon), (s.latitude, s.longitude)).km, s.code)
                   for s in stores if s.active)
    return found[:limit]


_latitudes = st.floats(-90, 90, allow_nan=False, allow_subnormal=False)
_longitudes = st.floats(-180, 180, allow_nan=False, allow_subnormal=False)
_stores = st.lists(
    st.tuples(_latitudes, _longitudes, st.sets(st.sampled_from(["general", "toys", "tv"])),
              st.sets(st.sampled_from(["small", "large"])), st.booleans(),
              st.integers(0, 3)),
    min_size=1, max_size=60)


@settings(max_examples=150, deadline=None)
@given(rows=_stores, lat=_latitudes, lon=_longitudes, near=st.booleans(),
       category=st.sampled_from([None, "toys", "tv", "boats"]),
       size_class=st.sampled_from([None, "small", "large"]), limit=st.integers(1, 8))
def test_property_index_equals_brute_force(rows, lat, lon, near, category, size_class,
                                           limit):
    stores, intake = [], {}
    for i, (s_lat, s_lon, cats, sizes, active, used) in enumerate(rows):
        if near:  # crowd the stores around the query, where the bounds are tight
            s_lat = max(-90.0, min(90.0, lat + s_lat / 900))
            s_lon = ((lon + s_lon / 900 + 180) % 360) - 180
        stores.append(StoreCandidate(
            id=i, code=f"P{i:03d}", name="", latitude=s_lat, longitude=s_lon,
            timezone="UTC", hours=HOURS, categories=frozenset(cats),
            size_classes=frozenset(sizes), daily_capacity=2, active=active or i == 0))
        intake[f"P{i:03d}"] = used
    got = StoreIndex.build(stores).route(lat, lon, at=AT, category=category,
                                         size_class=size_class, limit=limit,
                                         intake_today=intake)
    expected = _tiered_brute_force(stores, lat, lon, category=category,
                                   size_class=size_class, limit=limit, intake_today=intake)
    # Same tiers and the same distance at every rank; stores tied to within a nanometre
    # (the same point written two ways) may come in either order.
    from geopy.distance import geodesic

    assert len(got) == len(expected)
    for ranked, (tier, km, _) in zip(got, expected, strict=True):
        assert (2 if not ranked.accepts else int(ranked.capacity_left == 0)) == tier
        assert abs(ranked.distance_km - km) < 1e-9
        own = geodesic((lat, lon), (ranked.latitude, ranked.longitude)).km
        assert ranked.distance_km == pytest.approx(own, abs=1e-9)
    codes = [r.code for r in got]
    assert len(set(codes)) == len(codes)


def test_the_bench_fails_when_an_answer_differs():
    from hub.stores.bench import correct

    good = {"top5_mismatches": 0, "peer_mismatches": 0}
    assert correct(good)
    assert not correct({**good, "top5_mismatches": 1})
    assert not correct({**good, "peer_mismatches": 2})
    assert not correct({**good, "service_mismatches": 1})
