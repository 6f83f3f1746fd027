"""The HQ dashboard's figures: what came in where, what it was worth, how fast it moved and
what is waiting. Each figure is one grouped query over the range, scoped to the caller's
store when they have one; nothing here renders."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.hq.access import Scope
from hub.intake.models import Intake
from hub.refunds.models import Refund
from hub.refunds.states import OPEN
from hub.returns.models import ReturnAuthorization, ReturnLine
from hub.stores.models import Store

RANGES = ("today", "week", "30d", "custom")
MAX_RANGE_DAYS = 366
NEAR_CAPACITY = 0.8  # a store at 80 % of its daily capacity is "near capacity"
# (from day, to day or open, id shown in CSVs); the page words them in the reader's language.
AGE_BUCKETS = ((0, 2, "0-2"), (3, 7, "3-7"), (8, 14, "8-14"), (15, None, "15+"))
REFUNDS_WAITING = (*OPEN, "failed")


class RangeError(ValueError):
    pass


@dataclass(frozen=True)
class Range:
    kind: str
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    first_day: date
    last_day: date
    tz: str

    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=i)
                for i in range((self.last_day - self.first_day).days + 1)]


def date_range(kind: str, tz: str, now: datetime, start_text: str = "",
               end_text: str = "") -> Range:
    """Today, the last 7 or 30 days, or a custom span of whole days in the HQ time zone."""
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    if kind == "today":
        first, last = today, today
    elif kind == "week":
        first, last = today - timedelta(days=6), today
    elif kind == "30d":
        first, last = today - timedelta(days=29), today
    elif kind == "custom":
        try:
            first, last = date.fromisoformat(start_text), date.fromisoformat(end_text)
        except ValueError as exc:
            raise RangeError("give both dates as YYYY-MM-DD") from exc
        if last < first:
            raise RangeError("the end date is before the start date")
        if (last - first).days >= MAX_RANGE_DAYS:
            raise RangeError(f"a range is at most {MAX_RANGE_DAYS} days")
    else:
        raise RangeError(f"unknown range {kind!r}; choose one of {', '.join(RANGES)}")
    start = datetime.combine(first, time.min, zone)
    end = datetime.combine(last + timedelta(days=1), time.min, zone)
    return Range(kind, start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC")),
                 first, last, tz)


@dataclass
class StoreRow:
    id: int
    code: str
    name: str
    latitude: float
    longitude: float
    capacity: int
    active: bool = True
    intakes: int = 0
    completed: int = 0
    accepted: int = 0
    rejected: int = 0
    refund_value: dict[str, int] = field(default_factory=dict)


@dataclass
class Figures:
    range: Range
    issued: int = 0
    intakes: int = 0
    completed: int = 0
    accepted: int = 0
    rejected: int = 0
    refund_value: dict[str, int] = field(default_factory=dict)  # currency -> minor units
    stores: list[StoreRow] = field(default_factory=list)  # with activity, busiest first
    map_stores: list[StoreRow] = field(default_factory=list)  # every active store in scope
    volume: list[tuple[date, int, int]] = field(default_factory=list)  # day, issued, intakes
    reasons: list[tuple[str, int]] = field(default_factory=list)
    grades: list[tuple[str, int]] = field(default_factory=list)
    dispositions: list[tuple[str, int]] = field(default_factory=list)
    hours_to_dropoff: float | None = None
    hours_to_refund: float | None = None
    vouchers_waiting: list[tuple[str, int]] = field(default_factory=list)  # age bucket, count
    refunds_waiting: list[tuple[str, int]] = field(default_factory=list)
    near_capacity: list[tuple[StoreRow, int]] = field(default_factory=list)

    @property
    def acceptance_rate(self) -> float | None:
        decided = self.accepted + self.rejected
        return self.accepted / decided if decided else None


# --- dialect helpers: the demo runs on SQLite, production on PostgreSQL -------------------------

def _seconds_between(session: Session, later, earlier):
    if session.get_bind().dialect.name == "postgresql":
        return sa.func.extract("epoch", later - earlier)
    return (sa.func.julianday(later) - sa.func.julianday(earlier)) * 86400.0


def _local_day(session: Session, column, rng: Range):
    if session.get_bind().dialect.name == "postgresql":
        return sa.func.to_char(sa.func.timezone(rng.tz, column), "YYYY-MM-DD")
    # SQLite has no zone database: shift by the zone's offset at the start of the range.
    offset = rng.start.astimezone(ZoneInfo(rng.tz)).utcoffset() or timedelta()
    return sa.func.date(column, f"{int(offset.total_seconds() // 60)} minutes")


def _in(column, rng: Range):
    return sa.and_(column >= rng.start, column < rng.end)


def _scoped(query, column, scope: Scope):
    return query if scope.chain_wide else query.where(column == scope.store_id)


# --- the figures ------------------------------------------------------------------------------

def figures(session: Session, rng: Range, scope: Scope, now: datetime) -> Figures:
    scope.require("dashboard.view")
    result = Figures(range=rng)
    stores = _stores(session, scope)
    _intakes(session, rng, scope, stores, result)
    _units(session, rng, scope, stores, result)
    _refunds(session, rng, scope, stores, result)
    result.map_stores = [s for s in stores.values() if s.active]
    result.stores = sorted((s for s in stores.values() if s.intakes or s.refund_value),
                           key=lambda s: (-s.intakes, s.code))
    result.issued, result.volume = _volume(session, rng, scope)
    result.reasons = _reasons(session, rng, scope)
    result.vouchers_waiting = _vouchers_waiting(session, scope, now)
    result.refunds_waiting = _refunds_waiting(session, scope, now)
    result.near_capacity = _near_capacity(session, scope, stores, now)
    return result


def _stores(session: Session, scope: Scope) -> dict[int, StoreRow]:
    """Every store in scope; a deactivated one keeps its history in the figures and the
    table, but leaves the map."""
    query = _scoped(sa.select(Store.id, Store.code, Store.name, Store.latitude, Store.longitude,
                              Store.daily_capacity, Store.active), Store.id, scope)
    return {row.id: StoreRow(*row) for row in session.execute(query)}


def _hours(seconds, count: int) -> float | None:
    return float(seconds) / count / 3600 if count else None


def _intakes(session: Session, rng: Range, scope: Scope, stores, result: Figures) -> None:
    """Drop-offs in the range per store, how many are completed, and the time each voucher
    took to reach the counter: one pass over the range's intakes."""
    waited = _seconds_between(session, Intake.started_at, ReturnAuthorization.created_at)
    query = _scoped(
        sa.select(Intake.store_id, sa.func.count(), sa.func.count(Intake.completed_at),
                  sa.func.sum(waited))
        .join(ReturnAuthorization, ReturnAuthorization.id == Intake.rma_id)
        .where(_in(Intake.started_at, rng)).group_by(Intake.store_id), Intake.store_id, scope)
    total_wait = 0.0
    for store_id, count, completed, wait in session.execute(query):
        row = stores[store_id]
        row.intakes, row.completed = count, completed
        result.intakes += count
        result.completed += completed
        total_wait += float(wait or 0)
    result.hours_to_dropoff = _hours(total_wait, result.intakes)


def _units(session: Session, rng: Range, scope: Scope, stores, result: Figures) -> None:
    """Decisions, grades and dispositions of the units of intakes completed in the range:
    one pass over their return lines."""
    line = ReturnLine
    query = _scoped(
        sa.select(Intake.store_id, line.acceptance_status, line.grade, line.disposition,
                  sa.func.count())
        .join(line, line.rma_id == Intake.rma_id).where(_in(Intake.completed_at, rng))
        .group_by(Intake.store_id, line.acceptance_status, line.grade, line.disposition),
        Intake.store_id, scope)
    grades: dict[str, int] = defaultdict(int)
    dispositions: dict[str, int] = defaultdict(int)
    for store_id, status, grade, disposition, n in session.execute(query):
        if status in ("accepted", "rejected"):
            setattr(stores[store_id], status, getattr(stores[store_id], status) + n)
            setattr(result, status, getattr(result, status) + n)
        if grade:
            grades[grade] += n
        if status == "accepted" and disposition:
            dispositions[disposition] += n
    result.grades = sorted(grades.items())
    result.dispositions = sorted(dispositions.items(), key=lambda r: (-r[1], r[0]))


def _refunds(session: Session, rng: Range, scope: Scope, stores, result: Figures) -> None:
    """Refund value of refunds created in the range, and the time from drop-off to Amazon's
    confirmation of refunds confirmed in the range: one pass over both."""
    created, confirmed = _in(Refund.created_at, rng), _in(Refund.succeeded_at, rng)
    took = _seconds_between(session, Refund.succeeded_at, Intake.completed_at)
    query = _scoped(
        sa.select(Intake.store_id, Refund.currency,
                  sa.func.sum(sa.case((created, Refund.amount), else_=0)),
                  sa.func.count(sa.case((created, 1))),
                  sa.func.sum(sa.case((confirmed, took))),
                  sa.func.count(sa.case((confirmed, 1))))
        .join(Intake, Intake.id == Refund.intake_id).where(sa.or_(created, confirmed))
        .group_by(Intake.store_id, Refund.currency), Intake.store_id, scope)
    total_took, n_confirmed = 0.0, 0
    for store_id, currency, amount, count, seconds, n in session.execute(query):
        if count:
            stores[store_id].refund_value[currency] = int(amount)
            result.refund_value[currency] = result.refund_value.get(currency, 0) + int(amount)
        total_took += float(seconds or 0)
        n_confirmed += n
    result.hours_to_refund = _hours(total_took, n_confirmed)


def _volume(session: Session, rng: Range, scope: Scope) -> tuple[int, list]:
    issued_day = _local_day(session, ReturnAuthorization.created_at, rng)
    issued = dict(session.execute(_scoped(
        sa.select(issued_day, sa.func.count()).where(_in(ReturnAuthorization.created_at, rng))
        .group_by(issued_day), ReturnAuthorization.chosen_store_id, scope)).all())
    intake_day = _local_day(session, Intake.started_at, rng)
    taken = dict(session.execute(_scoped(
        sa.select(intake_day, sa.func.count()).where(_in(Intake.started_at, rng))
        .group_by(intake_day), Intake.store_id, scope)).all())
    days = [(day, issued.get(day.isoformat(), 0), taken.get(day.isoformat(), 0))
            for day in rng.days()]
    return sum(issued.values()), days


def _reasons(session: Session, rng: Range, scope: Scope) -> list[tuple[str, int]]:
    query = _scoped(
        sa.select(ReturnLine.reason_code, sa.func.count())
        .join(ReturnAuthorization, ReturnAuthorization.id == ReturnLine.rma_id)
        .where(_in(ReturnAuthorization.created_at, rng)).group_by(ReturnLine.reason_code),
        ReturnAuthorization.chosen_store_id, scope)
    return sorted(session.execute(query).all(), key=lambda r: (-r[1], r[0]))


def _age_buckets(session: Session, column, where: list, now: datetime):
    cases = []
    for low, high, _label in AGE_BUCKETS:
        cond = column <= now - timedelta(days=low)
        if high is not None:
            cond = sa.and_(cond, column > now - timedelta(days=high + 1))
        cases.append(sa.func.count(sa.case((cond, 1))))
    counts = session.execute(sa.select(*cases).where(*where)).one()
    return [(label, n) for (_l, _h, label), n in zip(AGE_BUCKETS, counts, strict=True)]


def _vouchers_waiting(session: Session, scope: Scope, now: datetime):
    rma = ReturnAuthorization
    where = [rma.status == "issued", rma.expires_at > now]
    if not scope.chain_wide:
        where.append(rma.chosen_store_id == scope.store_id)
    return _age_buckets(session, rma.created_at, where, now)


def _refunds_waiting(session: Session, scope: Scope, now: datetime):
    where = [Refund.status.in_(REFUNDS_WAITING)]
    if not scope.chain_wide:
        where.append(Refund.intake_id.in_(
            sa.select(Intake.id).where(Intake.store_id == scope.store_id)))
    return _age_buckets(session, Refund.created_at, where, now)


def _near_capacity(session: Session, scope: Scope, stores: dict[int, StoreRow], now: datetime):
    from hub.stores.service import intake_counts_today

    by_code = {row.code: row for row in stores.values()}
    near = [(by_code[code], n) for code, n in intake_counts_today(session, now).items()
            if code in by_code and n >= NEAR_CAPACITY * by_code[code].capacity]
    return sorted(near, key=lambda item: -item[1] / max(item[0].capacity, 1))
