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
AGE_BUCKETS = ((0, 2, "0–2 d"), (3, 7, "3–7 d"), (8, 14, "8–14 d"), (15, None, "> 14 d"))
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
    refunds: int = 0
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
    _intake_counts(session, rng, scope, stores)
    _decisions(session, rng, scope, stores)
    _refund_values(session, rng, scope, stores)
    for row in stores.values():
        result.intakes += row.intakes
        result.completed += row.completed
        result.accepted += row.accepted
        result.rejected += row.rejected
        for currency, amount in row.refund_value.items():
            result.refund_value[currency] = result.refund_value.get(currency, 0) + amount
    result.refunds = _refund_count(session, rng, scope)
    result.map_stores = list(stores.values())
    result.stores = sorted((s for s in stores.values() if s.intakes or s.refund_value),
                           key=lambda s: (-s.intakes, s.code))
    result.issued, result.volume = _volume(session, rng, scope)
    result.reasons = _reasons(session, rng, scope)
    result.grades, result.dispositions = _grades_and_dispositions(session, rng, scope)
    result.hours_to_dropoff, result.hours_to_refund = _speed(session, rng, scope)
    result.vouchers_waiting = _vouchers_waiting(session, scope, now)
    result.refunds_waiting = _refunds_waiting(session, scope, now)
    result.near_capacity = _near_capacity(session, scope, stores, now)
    return result


def _stores(session: Session, scope: Scope) -> dict[int, StoreRow]:
    query = _scoped(sa.select(Store.id, Store.code, Store.name, Store.latitude, Store.longitude,
                              Store.daily_capacity).where(Store.active), Store.id, scope)
    return {row.id: StoreRow(*row) for row in session.execute(query)}


def _row(stores: dict[int, StoreRow], store_id: int) -> StoreRow | None:
    return stores.get(store_id)  # a deactivated store's history stays out of today's table


def _intake_counts(session: Session, rng: Range, scope: Scope, stores) -> None:
    query = _scoped(
        sa.select(Intake.store_id, sa.func.count(),
                  sa.func.count(Intake.completed_at))
        .where(_in(Intake.started_at, rng)).group_by(Intake.store_id), Intake.store_id, scope)
    for store_id, total, completed in session.execute(query):
        if row := _row(stores, store_id):
            row.intakes, row.completed = total, completed


def _decisions(session: Session, rng: Range, scope: Scope, stores) -> None:
    query = _scoped(
        sa.select(Intake.store_id, ReturnLine.acceptance_status, sa.func.count())
        .join(ReturnLine, ReturnLine.rma_id == Intake.rma_id)
        .where(_in(Intake.completed_at, rng),
               ReturnLine.acceptance_status.in_(("accepted", "rejected")))
        .group_by(Intake.store_id, ReturnLine.acceptance_status), Intake.store_id, scope)
    for store_id, status, n in session.execute(query):
        if row := _row(stores, store_id):
            setattr(row, status, n)


def _refund_values(session: Session, rng: Range, scope: Scope, stores) -> None:
    query = _scoped(
        sa.select(Intake.store_id, Refund.currency, sa.func.sum(Refund.amount))
        .join(Intake, Intake.id == Refund.intake_id)
        .where(_in(Refund.created_at, rng)).group_by(Intake.store_id, Refund.currency),
        Intake.store_id, scope)
    for store_id, currency, amount in session.execute(query):
        if row := _row(stores, store_id):
            row.refund_value[currency] = int(amount or 0)


def _refund_count(session: Session, rng: Range, scope: Scope) -> int:
    query = _scoped(sa.select(sa.func.count()).select_from(Refund)
                    .join(Intake, Intake.id == Refund.intake_id)
                    .where(_in(Refund.created_at, rng)), Intake.store_id, scope)
    return session.scalar(query) or 0


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


def _grades_and_dispositions(session: Session, rng: Range, scope: Scope):
    query = _scoped(
        sa.select(ReturnLine.grade, ReturnLine.disposition, ReturnLine.acceptance_status,
                  sa.func.count())
        .join(Intake, Intake.rma_id == ReturnLine.rma_id)
        .where(_in(Intake.completed_at, rng), ReturnLine.grade.is_not(None))
        .group_by(ReturnLine.grade, ReturnLine.disposition, ReturnLine.acceptance_status),
        Intake.store_id, scope)
    grades: dict[str, int] = defaultdict(int)
    dispositions: dict[str, int] = defaultdict(int)
    for grade, disposition, status, n in session.execute(query):
        grades[grade] += n
        if status == "accepted" and disposition:
            dispositions[disposition] += n
    return sorted(grades.items()), sorted(dispositions.items(), key=lambda r: (-r[1], r[0]))


def _speed(session: Session, rng: Range, scope: Scope) -> tuple[float | None, float | None]:
    """Average hours from voucher to drop-off (intakes started in the range) and from
    drop-off to Amazon's confirmation (refunds confirmed in the range)."""
    to_dropoff = session.scalar(_scoped(
        sa.select(sa.func.avg(_seconds_between(session, Intake.started_at,
                                               ReturnAuthorization.created_at)))
        .join(ReturnAuthorization, ReturnAuthorization.id == Intake.rma_id)
        .where(_in(Intake.started_at, rng)), Intake.store_id, scope))
    to_refund = session.scalar(_scoped(
        sa.select(sa.func.avg(_seconds_between(session, Refund.succeeded_at,
                                               Intake.completed_at)))
        .join(Intake, Intake.id == Refund.intake_id)
        .where(_in(Refund.succeeded_at, rng)), Intake.store_id, scope))
    return (None if to_dropoff is None else float(to_dropoff) / 3600,
            None if to_refund is None else float(to_refund) / 3600)


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
