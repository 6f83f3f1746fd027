"""Geo-routing: the k best stores for a return, from a point, at a time.

Ranking: stores that can take the items and still have intake capacity today come first,
nearest first by exact geodesic distance (WGS-84, geographiclib, as in geopy); then stores
that would take them but are full today; stores that cannot take the items at all only fill
up a short list and are never ranked above one that can. Inactive stores are never routed to.

Speed: stores sit on the unit sphere as 3-D vectors in k-d trees (scipy's cKDTree), one over
all active stores and one per category, built once with the index, so a
query costs log(stores) and builds no mask. Chord length orders points as great-circle
distance does; the nearest few by chord are re-measured exactly on the ellipsoid (PROJ's C
port of Karney's algorithm, in one call), and any store whose spherical distance could still
beat the k-th exact distance (sphere and ellipsoid differ by well under 1 %) is fetched from
the tree and measured too, so the result equals a brute-force geodesic scan. Pure domain
code: numpy, scipy and pyproj, no Flask, no database."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import SupportsFloat
from zoneinfo import ZoneInfo

import numpy as np
from geographiclib.geodesic import Geodesic
from pyproj import Geod
from scipy.spatial import cKDTree

from hub.stores.hours import WeeklyHours

EARTH_MEAN_RADIUS_KM = 6371.0088
SPHERE_ERROR = 1.007  # sphere vs WGS-84 ellipsoid: within -0.57 % .. +0.45 %
_WGS84 = Geodesic.WGS84
_PROJ_WGS84 = Geod(ellps="WGS84")


def geodesic_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return _WGS84.Inverse(lat1, lon1, lat2, lon2, Geodesic.DISTANCE)["s12"] / 1000.0


def geodesic_km_many(lat: float, lon: float, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Exact WGS-84 distances from one point to many in one call: PROJ's C port of Karney's
    algorithm (the one geographiclib and geopy run in Python), agreeing with it to
    nanometres, without a Python call per store."""
    n = len(lats)
    _, _, metres = _PROJ_WGS84.inv(np.full(n, lon), np.full(n, lat), lons, lats)
    return np.asarray(metres) / 1000.0


def coordinates(lat: SupportsFloat, lon: SupportsFloat) -> tuple[float, float]:
    """A point as two floats. Callers hand in whatever their input gave them (a Decimal from
    JSON or a session cookie, an int, a numpy float): numpy and geographiclib want floats,
    and an object array of Decimals fails deep inside numpy. ValueError for a point that is
    not on Earth."""
    try:
        point = float(lat), float(lon)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"not a point: {lat!r}, {lon!r}") from exc
    if not (math.isfinite(point[0]) and math.isfinite(point[1])
            and -90 <= point[0] <= 90 and -180 <= point[1] <= 180):
        raise ValueError(f"not a point on Earth: {lat!r}, {lon!r}")
    return point


def _unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    lat_r, lon_r = np.radians(lat), np.radians(lon)
    return np.column_stack((np.cos(lat_r) * np.cos(lon_r), np.cos(lat_r) * np.sin(lon_r),
                            np.sin(lat_r)))


def _unit_vector(lat: float, lon: float) -> np.ndarray:
    lat_r, lon_r = math.radians(lat), math.radians(lon)
    return np.array((math.cos(lat_r) * math.cos(lon_r), math.cos(lat_r) * math.sin(lon_r),
                     math.sin(lat_r)))


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@dataclass(frozen=True)
class StoreCandidate:
    id: int
    code: str
    name: str
    latitude: float
    longitude: float
    timezone: str
    hours: WeeklyHours
    categories: frozenset[str]
    size_classes: frozenset[str]
    daily_capacity: int
    active: bool = True


@dataclass(frozen=True)
class RankedStore:
    rank: int
    code: str
    name: str
    store_id: int
    distance_km: float
    accepts: bool
    open_now: bool
    next_opening: datetime | None
    closes_at: datetime | None
    capacity_left: int
    timezone: str
    latitude: float = 0.0
    longitude: float = 0.0
    reasons: list[tuple[str, dict]] = field(default_factory=list)

    def explain(self) -> str:
        """The reasons as one English sentence (screens translate the reason codes)."""
        return "; ".join(_REASON_TEXT[code].format(**params) for code, params in self.reasons)


_REASON_TEXT = {
    "nearest_suitable": "#{rank}: the nearest store that can take these items, {km} km away",
    "next_suitable": "#{rank}: {km} km away and can take these items",
    "full_today": "#{rank}: {km} km away and would take these items, but is full today",
    "does_not_accept": "#{rank}: {km} km away but does not take {what}",
    "open_now": "open now until {until}",
    "open_all_day": "open around the clock",
    "closed_now": "closed now, opens {opens}",
    "closed": "no opening hours in the next two weeks",
    "capacity": "{left} of {capacity} intake slots left today",
}


@dataclass
class _Subset:
    """The active stores of one filter value (or all of them), in a k-d tree over their unit
    vectors: chord length orders points exactly as great-circle distance does."""
    members: np.ndarray  # positions in StoreIndex.stores
    tree: cKDTree

    @classmethod
    def of(cls, members: np.ndarray, vectors: np.ndarray) -> _Subset:
        return cls(members=members, tree=cKDTree(vectors[members], balanced_tree=False,
                                                  compact_nodes=False))


_ALL = ("all", "")


def _chord_bound(km: float) -> float:
    """The chord within which a store's spherical distance could still beat ``km`` on the
    ellipsoid, with the same slack the dot-product scan had."""
    angle = min(math.pi, km * SPHERE_ERROR / EARTH_MEAN_RADIUS_KM)
    return math.sqrt(max(0.0, 2.0 - 2.0 * math.cos(angle) + 2e-12)) * (1 + 1e-9) + 1e-12


def _positions(groups: dict[str, list[int]], n: int) -> dict[str, np.ndarray]:
    masks = {}
    for name, members in groups.items():
        mask = np.zeros(n, bool)
        mask[np.asarray(members, dtype=np.intp)] = True
        masks[name] = mask
    return masks


@dataclass
class StoreIndex:
    """Built once per store version; every query reads it and writes nothing."""
    stores: list[StoreCandidate]
    vectors: np.ndarray
    latitudes: np.ndarray
    longitudes: np.ndarray
    active: np.ndarray
    category_masks: dict[str, np.ndarray]
    size_masks: dict[str, np.ndarray]
    position: dict[str, int]
    subsets: dict[tuple[str, str], _Subset]

    @classmethod
    def build(cls, stores: list[StoreCandidate]) -> StoreIndex:
        n = len(stores)
        lat = np.fromiter((s.latitude for s in stores), float, n)
        lon = np.fromiter((s.longitude for s in stores), float, n)
        active = np.fromiter((s.active for s in stores), bool, n)
        categories: dict[str, list[int]] = {}
        sizes: dict[str, list[int]] = {}
        for i, store in enumerate(stores):
            for name in store.categories:
                categories.setdefault(name, []).append(i)
            for name in store.size_classes:
                sizes.setdefault(name, []).append(i)
        category_masks, size_masks = _positions(categories, n), _positions(sizes, n)
        vectors = _unit_vectors(lat, lon).reshape(n, 3)
        subsets = {}
        if active.any():
            subsets[_ALL] = _Subset.of(np.flatnonzero(active), vectors)
            # Categories are selective; size classes seldom are (most stores take most sizes),
            # so a size is filtered by its mask on whichever tree the query walks.
            for name, mask in category_masks.items():
                members = np.flatnonzero(mask & active)
                if len(members):
                    subsets[("category", name)] = _Subset.of(members, vectors)
        return cls(stores=stores, vectors=vectors, latitudes=lat, longitudes=lon,
                   active=active, category_masks=category_masks, size_masks=size_masks,
                   position={s.code: i for i, s in enumerate(stores)}, subsets=subsets)

    def __len__(self) -> int:
        return len(self.stores)

    def accepting(self, category: str | None, size_class: str | None) -> np.ndarray:
        """Every store's yes/no for the items, as one array (for tools; routing itself never
        builds a per-query mask)."""
        mask = self.active.copy()
        for wanted, masks in ((category, self.category_masks), (size_class, self.size_masks)):
            if wanted:
                mask &= masks.get(wanted.lower(), np.zeros(len(self), bool))
        return mask

    def route(self, lat: SupportsFloat, lon: SupportsFloat, *, at: datetime,
              category: str | None = None, size_class: str | None = None, limit: int = 5,
              intake_today: dict[str, int] | None = None) -> list[RankedStore]:
        lat, lon = coordinates(lat, lon)
        if not len(self) or limit < 1:
            return []
        intake_today = intake_today or {}
        wanted = [(kind, name.lower()) for kind, name in (("category", category),
                                                          ("size", size_class)) if name]
        query = _unit_vector(lat, lon)
        full = self._full(intake_today)
        accepts = self._accepts_test(wanted)
        picked: list[tuple[int, float, int]] = []  # (tier, km, index)
        for tier in range(3):
            need = limit - len(picked)
            if need <= 0:
                break
            picked += [(tier, km, i) for km, i in
                       self._tier(tier, wanted, accepts, full, need, query, lat, lon)]
        what = " ".join(filter(None, (size_class, category))) or "these items"
        return [self._ranked(rank, tier, km, i, at, intake_today, what)
                for rank, (tier, km, i) in enumerate(picked, start=1)]

    def _full(self, intake_today: dict[str, int]) -> np.ndarray:
        """Positions of the active stores whose intake reached their capacity today."""
        full = []
        for code, count in intake_today.items():
            i = self.position.get(code)
            if i is not None and count >= self.stores[i].daily_capacity and self.active[i]:
                full.append(i)
        return np.array(sorted(full), dtype=np.intp)

    def _accepts_test(self, wanted: list[tuple[str, str]]):
        """A test of 'takes the items' over any positions, from the masks built once."""
        masks = []
        for kind, name in wanted:
            mask = (self.category_masks if kind == "category" else self.size_masks).get(name)
            if mask is None:
                return lambda positions: np.zeros(len(positions), bool)
            masks.append(mask)

        def accepts(positions: np.ndarray) -> np.ndarray:
            keep = np.ones(len(positions), bool)
            for mask in masks:
                keep &= mask[positions]
            return keep
        return accepts

    def _tier(self, tier: int, wanted, accepts, full: np.ndarray, k: int, query: np.ndarray,
              lat: float, lon: float) -> list[tuple[float, int]]:
        if tier == 1:  # would take them but full today: few stores, measure them all
            return self._closest(full[accepts(full)], k, lat, lon)
        if tier == 0:
            if any(name not in (self.category_masks if kind == "category" else self.size_masks)
                   for kind, name in wanted):
                return []  # nobody takes this category or size
            subsets = [self.subsets.get(key) for key in wanted if key[0] == "category"]
            if any(subset is None for subset in subsets):
                return []  # only inactive stores take this category
            subset = min(subsets, key=lambda s: len(s.members), default=self.subsets.get(_ALL))

            def keep(positions: np.ndarray) -> np.ndarray:
                ok = accepts(positions)
                if len(full):
                    ok &= ~np.isin(positions, full, assume_unique=True)
                return ok
        else:  # active stores that cannot take them, only to fill up a short list
            subset = self.subsets.get(_ALL)

            def keep(positions: np.ndarray) -> np.ndarray:
                return ~accepts(positions)
        return self._nearest(subset, keep, k, query, lat, lon) if subset else []

    def _nearest(self, subset: _Subset, keep, k: int, query: np.ndarray, lat: float,
                 lon: float) -> list[tuple[float, int]]:
        """The k stores of subset passing keep nearest by exact geodesic distance, ties by
        code: the nearest by chord are measured exactly, then every store whose spherical
        distance could still beat the k-th exact one."""
        size = len(subset.members)
        want = min(size, 2 * k + 8)
        while True:
            chords, slots = subset.tree.query(query, k=want)
            chords, slots = np.atleast_1d(chords), np.atleast_1d(slots)
            positions = subset.members[slots]
            ok = keep(positions)
            if ok.sum() >= k or want >= size:
                break
            want = min(size, want * 4)
        farthest_seen = chords[-1]
        chords, positions = chords[ok], positions[ok]
        if not len(positions):
            return []
        first = positions[:k]
        km = self._km(lat, lon, first)
        kth = float(np.sort(km)[min(k, len(km)) - 1])
        bound = _chord_bound(kth)
        if want >= size or farthest_seen > bound:  # everything inside the bound is in hand
            more = positions[k:][chords[k:] <= bound]
        else:
            inside = subset.members[np.asarray(subset.tree.query_ball_point(query, bound),
                                               dtype=np.intp)]
            more = np.setdiff1d(inside[keep(inside)], first, assume_unique=True)
        if len(more):
            first, km = np.concatenate((first, more)), np.concatenate((km, self._km(lat, lon,
                                                                                      more)))
        return self._ordered(first, km, k)

    def _closest(self, positions: np.ndarray, k: int, lat: float, lon: float) \
            -> list[tuple[float, int]]:
        if not len(positions):
            return []
        return self._ordered(positions, self._km(lat, lon, positions), k)

    def _ordered(self, positions: np.ndarray, km: np.ndarray, k: int) \
            -> list[tuple[float, int]]:
        ranked = sorted(zip(km.tolist(), positions.tolist(), strict=True),
                        key=lambda item: (item[0], self.stores[item[1]].code))
        return ranked[:k]

    def _km(self, lat: float, lon: float, positions: np.ndarray) -> np.ndarray:
        return geodesic_km_many(lat, lon, self.latitudes[positions],
                                self.longitudes[positions])

    def _ranked(self, rank: int, tier: int, km: float, i: int, at: datetime,
                intake_today: dict[str, int], what: str) -> RankedStore:
        store = self.stores[i]
        zone = _zone(store.timezone)
        interval = store.hours.open_interval(at, zone)
        closes_at = interval[1] if interval else None
        around_the_clock = closes_at is not None and closes_at - at > timedelta(days=2)
        next_opening = None if interval else store.hours.next_opening(at, zone)
        left = max(0, store.daily_capacity - intake_today.get(store.code, 0))
        distance = f"{km:.1f}"
        lead = ("does_not_accept" if tier == 2 else "full_today" if tier == 1
                else "nearest_suitable" if rank == 1 else "next_suitable")
        reasons: list[tuple[str, dict]] = [(lead, {"rank": rank, "km": distance, "what": what})]
        if around_the_clock:
            reasons.append(("open_all_day", {}))
        elif closes_at:
            reasons.append(("open_now", {"until": closes_at.strftime("%H:%M")}))
        elif next_opening:
            reasons.append(("closed_now", {"opens": next_opening.strftime("%a %H:%M")}))
        else:
            reasons.append(("closed", {}))
        if tier == 0:
            reasons.append(("capacity", {"left": left, "capacity": store.daily_capacity}))
        return RankedStore(
            rank=rank, code=store.code, name=store.name, store_id=store.id, distance_km=km,
            accepts=tier < 2, open_now=interval is not None, next_opening=next_opening,
            closes_at=None if around_the_clock else closes_at, capacity_left=left,
            timezone=store.timezone, latitude=store.latitude, longitude=store.longitude,
            reasons=reasons)


def brute_force(stores: list[StoreCandidate], lat: float, lon: float, *,
                category: str | None = None, size_class: str | None = None,
                limit: int = 5) -> list[tuple[float, str]]:
    """The baseline: geopy's geodesic to every accepting store, then sort. For tests and
    the benchmark only."""
    from geopy.distance import geodesic

    found = [(geodesic((lat, lon), (s.latitude, s.longitude)).km, s.code) for s in stores
             if s.active and (not category or category in s.categories)
             and (not size_class or size_class in s.size_classes)]
    return sorted(found)[:limit]
