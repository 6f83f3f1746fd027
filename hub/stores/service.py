"""Store use cases: import (upsert by code), listing, and routing over a cached index."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.audit.service import Actor, record
from hub.intake.models import Intake
from hub.models import utcnow
from hub.stores import versions
from hub.stores.hours import WeeklyHours
from hub.stores.importing import RowError, RowWarning, StoreRecord, parse_stores
from hub.stores.models import Store
from hub.stores.routing import RankedStore, StoreCandidate, StoreIndex

_FIELDS = ("name", "address", "city", "region", "postal_code", "country", "latitude",
           "longitude", "timezone", "daily_capacity", "active")


@dataclass
class ImportSummary:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowWarning] = field(default_factory=list)

    def line(self) -> str:
        return (f"imported {self.imported}, updated {self.updated}, rejected {self.rejected}"
                + (f", {len(self.warnings)} warnings" if self.warnings else ""))

    def as_dict(self) -> dict:
        return {"imported": self.imported, "updated": self.updated,
                "unchanged": self.unchanged, "rejected": self.rejected,
                "errors": [{"line": e.line, "code": e.code, "reason": e.reason}
                           for e in self.errors],
                "warnings": [{"line": w.line, "code": w.code, "reason": w.reason}
                             for w in self.warnings]}


def _record_values(rec: StoreRecord) -> dict:
    values = {name: getattr(rec, name) for name in _FIELDS}
    values["latitude"] = float(rec.latitude)
    values["longitude"] = float(rec.longitude)
    values["hours"] = rec.hours.to_dict()
    values["categories"] = sorted(rec.categories)
    values["size_classes"] = sorted(rec.size_classes)
    return values


def import_stores(session: Session, stream: IO[str], *, fmt: str, actor: Actor,
                  column_map: dict[str, str] | None = None,
                  progress: Callable[[int], None] | None = None) -> ImportSummary:
    """Upsert stores by code from a CSV/JSON export. Bad rows are reported and skipped; a
    row is either applied whole or not at all (it is validated completely before any write).
    The caller commits: the import is one unit of work."""
    summary = ImportSummary()
    existing = {store.code: store for store in session.scalars(sa.select(Store))}
    for item in parse_stores(stream, fmt=fmt, column_map=column_map):
        if isinstance(item, RowWarning):  # the row itself follows
            summary.warnings.append(item)
            continue
        if progress:
            progress(1)
        if isinstance(item, RowError):
            summary.rejected += 1
            summary.errors.append(item)
            continue
        values = _record_values(item)
        store = existing.get(item.code)
        if store is None:
            store = Store(code=item.code, **values)
            session.add(store)
            existing[item.code] = store
            summary.imported += 1
        elif any(getattr(store, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(store, key, value)
            summary.updated += 1
        else:
            summary.unchanged += 1
    session.flush()
    record(session, actor, "stores.imported", "store_import", fmt,
           after={k: v for k, v in summary.as_dict().items() if k not in ("errors", "warnings")})
    return summary


def get_store(session: Session, code: str) -> Store | None:
    return session.scalar(sa.select(Store).where(Store.code == code))


def store_query(*, country: str | None = None, region: str | None = None,
                postal_code: str | None = None,
                active: bool | None = None, text: str | None = None) -> sa.Select:
    query = sa.select(Store).order_by(Store.code)
    if country:
        query = query.where(Store.country == country.upper())
    if region:
        query = query.where(Store.region == region)
    if postal_code:
        query = query.where(Store.postal_code == postal_code)
    if active is not None:
        query = query.where(Store.active.is_(active))
    if text:
        like = f"%{text.lower()}%"
        query = query.where(sa.or_(sa.func.lower(Store.name).like(like),
                                   sa.func.lower(Store.city).like(like),
                                   sa.func.lower(Store.code).like(like)))
    return query


def store_to_dict(store: Store) -> dict:
    return {
        "code": store.code, "name": store.name, "address": store.address, "city": store.city,
        "region": store.region, "postal_code": store.postal_code, "country": store.country,
        "latitude": store.latitude, "longitude": store.longitude, "timezone": store.timezone,
        "hours": store.hours, "hours_text": WeeklyHours.from_dict(store.hours).to_text(),
        "categories": store.categories, "size_classes": store.size_classes,
        "daily_capacity": store.daily_capacity, "active": store.active,
    }


# --- routing -------------------------------------------------------------------------------

@dataclass
class _CachedIndex:
    stamp: str
    index: StoreIndex
    rebuilding: bool = False


_index_lock = threading.Lock()
_index_cache: dict[str, _CachedIndex] = {}
log = logging.getLogger(__name__)


def store_index(session: Session) -> StoreIndex:
    """The routing index over all stores. Staleness is one primary-key read of the stores'
    version (hub/stores/versions.py), never a scan. A stale index keeps answering while a
    background thread builds its successor, so no request waits for a rebuild; only the first
    request of a process, with nothing to answer from, builds inline. A session bound to one
    connection (a caller's own transaction, as in tests) sees rows no other connection can, so
    it rebuilds inline too."""
    bind = session.get_bind()
    key = str(bind.engine.url)
    stamp = versions.current(session)
    cached = _index_cache.get(key)
    if cached and cached.stamp == stamp:
        return cached.index
    if cached and isinstance(bind, sa.Engine):
        _rebuild_in_background(bind, key, cached)
        return cached.index
    index = build_index(session)  # the stamp was read first: the rows are at least as new
    _index_cache[key] = _CachedIndex(stamp, index)
    return index


def _rebuild_in_background(engine: sa.Engine, key: str, cached: _CachedIndex) -> None:
    with _index_lock:
        if cached.rebuilding:
            return
        cached.rebuilding = True

    def rebuild() -> None:
        try:
            with Session(engine) as session:
                stamp = versions.current(session)
                index = build_index(session)
            _index_cache[key] = _CachedIndex(stamp, index)
        except Exception:  # the old index keeps answering; the next request tries again
            log.exception("routing index rebuild failed")
            cached.rebuilding = False

    threading.Thread(target=rebuild, name="routing-index", daemon=True).start()


def wait_for_index(session: Session, timeout: float = 60.0) -> StoreIndex:
    """The index at the stores' current version, waiting for a rebuild (tools and tests)."""
    deadline = time.monotonic() + timeout
    while True:
        index = store_index(session)
        cached = _index_cache.get(str(session.get_bind().engine.url))
        if cached and cached.stamp == versions.current(session) or time.monotonic() > deadline:
            return index
        session.rollback()  # a fresh snapshot for the next look
        time.sleep(0.01)


def build_index(session: Session) -> StoreIndex:
    """Every store as a routing candidate, read as plain rows (no ORM objects); stores share
    their hours and category sets, so each distinct one is parsed once."""
    hours: dict[str, WeeklyHours] = {}
    sets: dict[tuple, frozenset[str]] = {}

    def weekly(doc: dict) -> WeeklyHours:
        text = json.dumps(doc, sort_keys=True)
        if text not in hours:
            hours[text] = WeeklyHours.from_dict(doc)
        return hours[text]

    def shared(items: list) -> frozenset[str]:
        key = tuple(items)
        if key not in sets:
            sets[key] = frozenset(items)
        return sets[key]

    rows = session.execute(sa.select(
        Store.id, Store.code, Store.name, Store.latitude, Store.longitude, Store.timezone,
        Store.hours, Store.categories, Store.size_classes, Store.daily_capacity, Store.active))
    return StoreIndex.build([
        StoreCandidate(id=r.id, code=r.code, name=r.name, latitude=r.latitude,
                       longitude=r.longitude, timezone=r.timezone, hours=weekly(r.hours),
                       categories=shared(r.categories), size_classes=shared(r.size_classes),
                       daily_capacity=r.daily_capacity, active=r.active)
        for r in rows])


def intake_counts_today(session: Session, at: datetime) -> dict[str, int]:
    """Intakes per store code on each store's own local calendar day of ``at``."""
    since = at - timedelta(hours=38)  # covers every time zone's "today"
    rows = session.execute(
        sa.select(Store.code, Store.timezone, Intake.started_at)
        .join(Intake, Intake.store_id == Store.id)
        .where(Intake.started_at >= since, Intake.started_at <= at)
    )
    counts: dict[str, int] = {}
    for code, tz, started in rows:
        zone = ZoneInfo(tz)
        if started.astimezone(zone).date() == at.astimezone(zone).date():
            counts[code] = counts.get(code, 0) + 1
    return counts


def route(session: Session, lat: float, lon: float, *, category: str | None = None,
          size_class: str | None = None, at: datetime | None = None,
          limit: int = 5) -> list[RankedStore]:
    at = at or utcnow()
    return store_index(session).route(
        lat, lon, category=category, size_class=size_class, at=at, limit=limit,
        intake_today=intake_counts_today(session, at),
    )


def ranked_to_dict(ranked: RankedStore, tz: str | None = None) -> dict:
    return {
        "rank": ranked.rank, "code": ranked.code, "name": ranked.name,
        "latitude": ranked.latitude, "longitude": ranked.longitude,
        "distance_km": round(float(ranked.distance_km), 2), "accepts": ranked.accepts,
        "open_now": ranked.open_now,
        "next_opening": ranked.next_opening.isoformat() if ranked.next_opening else None,
        "closes_at": ranked.closes_at.isoformat() if ranked.closes_at else None,
        "capacity_left": ranked.capacity_left,
        "reasons": [{"code": code, **params} for code, params in ranked.reasons],
        "explanation": ranked.explain(),
    }
