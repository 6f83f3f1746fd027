"""`homing bench routing`: routing latency at chain scale against a brute-force geopy scan.

Stores are derived from the 3,814 real store locations shipped with the demo (each copy after
the first is moved up to ~30 km), query points are random points around real stores."""

from __future__ import annotations

import csv
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime

from hub.stores.hours import WeeklyHours
from hub.stores.routing import StoreCandidate, StoreIndex, brute_force

CATEGORIES = ("general", "apparel", "electronics", "home", "toys", "appliances", "furniture")
HOURS = WeeklyHours.from_text("Mon-Sat 08:00-22:00; Sun 09:00-20:00")


def synthetic_stores(n: int, seed: int) -> list[StoreCandidate]:
    from hub.demo.seed import DATA

    with DATA.open(encoding="utf-8", newline="") as handle:
        points = [(float(r["latitude"]), float(r["longitude"])) for r in csv.DictReader(handle)]
    rng = random.Random(seed)
    stores = []
    for i in range(n):
        lat, lon = points[i % len(points)]
        if i >= len(points):
            lat, lon = lat + rng.uniform(-0.27, 0.27), lon + rng.uniform(-0.35, 0.35)
        cats = frozenset({"general", *rng.sample(CATEGORIES[1:], rng.randint(1, 4))})
        stores.append(StoreCandidate(
            id=i + 1, code=f"B{i + 1:06d}", name=f"Bench store {i + 1}", latitude=lat,
            longitude=lon, timezone="America/Chicago", hours=HOURS, categories=cats,
            size_classes=frozenset({"small", "medium", "large"}), daily_capacity=100))
    return stores


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_routing_benchmark(*, n_stores: int = 25_000, n_queries: int = 1_000, seed: int = 1,
                          baseline_queries: int = 100, category: str = "electronics",
                          progress: Callable[[int, int], None] | None = None) -> dict:
    stores = synthetic_stores(n_stores, seed)
    rng = random.Random(seed + 1)
    queries = [(s.latitude + rng.uniform(-1, 1), s.longitude + rng.uniform(-1, 1))
               for s in rng.choices(stores, k=n_queries)]
    at = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)

    tracemalloc.start()
    started = time.perf_counter()
    index = StoreIndex.build(stores)
    build_s = time.perf_counter() - started
    index_mib = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()

    baseline_every = max(1, n_queries // max(1, baseline_queries))
    fast_ms, slow_ms, mismatches, compared = [], [], 0, 0
    total = n_queries + len(range(0, n_queries, baseline_every))
    for done, (lat, lon) in enumerate(queries, start=1):
        started = time.perf_counter()
        ranked = index.route(lat, lon, at=at, category=category, limit=5)
        fast_ms.append((time.perf_counter() - started) * 1000)
        if (done - 1) % baseline_every == 0:
            started = time.perf_counter()
            expected = brute_force(stores, lat, lon, category=category, limit=5)
            slow_ms.append((time.perf_counter() - started) * 1000)
            compared += 1
            mismatches += [r.code for r in ranked] != [code for _, code in expected]
        if progress:
            progress(done + compared, total)

    figures = {
        "stores": n_stores, "queries": n_queries, "category": category,
        "index_build_s": round(build_s, 3), "index_peak_mib": round(index_mib, 1),
        "p50_ms": round(statistics.median(fast_ms), 3),
        "p99_ms": round(_percentile(fast_ms, 0.99), 3),
        "baseline_queries": compared,
        "baseline_p50_ms": round(statistics.median(slow_ms), 1),
        "baseline_p99_ms": round(_percentile(slow_ms, 0.99), 1),
        "speedup_p50": round(statistics.median(slow_ms) / statistics.median(fast_ms)),
        "top5_mismatches": mismatches,
    }
    return figures


def report(f: dict) -> list[str]:
    return [
        f"routing: {f['stores']:,} stores, {f['queries']:,} queries, top-5 with category "
        f"{f['category']!r}",
        f"  index build   {f['index_build_s']} s, peak {f['index_peak_mib']} MiB",
        f"  index         p50 {f['p50_ms']} ms   p99 {f['p99_ms']} ms",
        f"  brute force   p50 {f['baseline_p50_ms']} ms   p99 {f['baseline_p99_ms']} ms "
        f"(geopy geodesic to every store, then sort; {f['baseline_queries']} queries)",
        f"  speed-up      {f['speedup_p50']}x at p50; identical top-5 on "
        f"{f['baseline_queries'] - f['top5_mismatches']} of {f['baseline_queries']} "
        "compared queries",
    ]
