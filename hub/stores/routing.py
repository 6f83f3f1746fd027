"""Geo-routing: the k best stores for a return, from a point, at a time.

Ranking: stores that can take the items and still have intake capacity today come first,
nearest first by exact geodesic distance (WGS-84, geographiclib, as in geopy); then stores
that would take them but are full today; stores that cannot take the items at all only fill
up a short list and are never ranked above one that can. Inactive stores are never routed to.

Speed: stores sit on the unit sphere as 3-D vectors. One matrix-vector product gives every
store's great-circle distance; the nearest few are re-measured exactly on the ellipsoid, and
any store whose spherical distance could still beat the k-th exact distance (sphere and
ellipsoid differ by well under 1 %) is measured too, so the result equals a brute-force
geodesic scan. Pure domain code: numpy and geographiclib, no Flask, no database."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import SupportsFloat
from zoneinfo import ZoneInfo

import numpy as np
from geographiclib.geodesic import Geodesic

from hub.stores.hours import WeeklyHours

EARTH_MEAN_RADIUS_KM = 6371.0088
SPHERE_ERROR = 1.007  # sphere vs WGS-84 ellipsoid: within -0.57 % .. +0.45 %
_WGS84 = Geodesic.WGS84


def geodesic_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return _WGS84.Inverse(lat1, lon1, lat2, lon2, Geodesic.DISTANCE)["s12"] / 1000.0


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
class StoreIndex:
    stores: list[StoreCandidate]
    vectors: np.ndarray
    active: np.ndarray
    category_masks: dict[str, np.ndarray]
    size_masks: dict[str, np.ndarray]
    position: dict[str, int]

    @classmethod
    def build(cls, stores: list[StoreCandidate]) -> StoreIndex:
        n = len(stores)
        lat = np.fromiter((s.latitude for s in stores), float, n)
        lon = np.fromiter((s.longitude for s in stores), float, n)
        categories: dict[str, np.ndarray] = {}
        sizes: dict[str, np.ndarray] = {}
        for i, store in enumerate(stores):
            for name in store.categories:
                categories.setdefault(name, np.zeros(n, bool))[i] = True
            for name in store.size_classes:
                sizes.setdefault(name, np.zeros(n, bool))[i] = True
        return cls(stores=stores, vectors=_unit_vectors(lat, lon).reshape(n, 3),
                   active=np.fromiter((s.active for s in stores), bool, n),
                   category_masks=categories, size_masks=sizes,
                   position={s.code: i for i, s in enumerate(stores)})

    def __len__(self) -> int:
        return len(self.stores)

    def accepting(self, category: str | None, size_class: str | None) -> np.ndarray:
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
        accepts = self.accepting(category, size_class)
        full = np.zeros(len(self), bool)
        for code, count in intake_today.items():
            i = self.position.get(code)
            if i is not None and count >= self.stores[i].daily_capacity:
                full[i] = True
        query = _unit_vectors(np.array([lat]), np.array([lon]))[0]
        dots = self.vectors @ query
        tiers = (accepts & ~full, accepts & full, self.active & ~accepts)
        picked: list[tuple[int, float, int]] = []  # (tier, km, index)
        for tier, mask in enumerate(tiers):
            need = limit - len(picked)
            if need <= 0:
                break
            picked += [(tier, km, i) for km, i in self._nearest(dots, mask, need, lat, lon)]
        what = " ".join(filter(None, (size_class, category))) or "these items"
        return [self._ranked(rank, tier, km, i, at, intake_today, what)
                for rank, (tier, km, i) in enumerate(picked, start=1)]

    def _nearest(self, dots: np.ndarray, mask: np.ndarray, k: int, lat: float, lon: float) \
            -> list[tuple[float, int]]:
        """The k stores in mask nearest by exact geodesic distance, ties by code."""
        indices = np.flatnonzero(mask)
        if not len(indices):
            return []
        candidate_dots = dots[indices]
        m = min(len(indices), k)
        first = indices[np.argpartition(-candidate_dots, m - 1)[:m]] if m < len(indices) \
            else indices
        exact = {int(i): self._km(lat, lon, int(i)) for i in first}
        kth = sorted(exact.values())[min(k, len(exact)) - 1]
        # Anything whose spherical distance could still beat the k-th exact distance.
        angle = min(math.pi, kth * SPHERE_ERROR / EARTH_MEAN_RADIUS_KM)
        for i in indices[candidate_dots >= math.cos(angle) - 1e-12]:
            if int(i) not in exact:
                exact[int(i)] = self._km(lat, lon, int(i))
        ordered = sorted(exact.items(), key=lambda item: (item[1], self.stores[item[0]].code))
        return [(km, i) for i, km in ordered[:k]]

    def _km(self, lat: float, lon: float, i: int) -> float:
        store = self.stores[i]
        return geodesic_km(lat, lon, store.latitude, store.longitude)

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
