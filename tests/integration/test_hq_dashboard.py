"""The HQ dashboard's figures against figures computed independently, in Python, from the
seeded history itself; the page and the CSV exports show the same numbers."""

from __future__ import annotations

import csv
import io
import re
import statistics
from collections import Counter
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.hq import dashboard, sample
from hub.hq.access import Scope
from hub.models import utcnow
from hub.stores.service import get_store
from tests.integration.factories import seed_stores
from tests.integration.hq_helpers import hq_user, sign_in

N = 400


@pytest.fixture
def history(session):
    seed_stores(session)
    ids = [get_store(session, code).id for code in ("NYC-1", "NYC-2", "JC-1")]
    now = utcnow()
    plan = sample.plan(ids, N, now, days=30, seed=11)
    sample.insert(session, plan)
    session.commit()
    return plan, now, ids


def _in(moment, rng) -> bool:
    return moment is not None and rng.start <= moment < rng.end


def expected(plan, rng, now, store_id=None) -> dict:
    rs = [r for r in plan if store_id in (None, r.store_id)]
    done = [r for r in rs if _in(r.completed_at, rng)]
    dropped = [r for r in rs if _in(r.dropped_at, rng)]
    confirmed = [r for r in rs if _in(r.refund_succeeded_at, rng)]
    zone = ZoneInfo(rng.tz)

    def ages(items, when):
        out = []
        for low, high, _label in dashboard.AGE_BUCKETS:
            out.append(sum(1 for r in items
                           if timedelta(days=low) <= now - when(r)
                           and (high is None or now - when(r) < timedelta(days=high + 1))))
        return out

    return {
        "issued": sum(_in(r.created_at, rng) for r in rs),
        "intakes": len(dropped),
        "completed": sum(r.completed_at is not None for r in dropped),
        "accepted": sum(u.accepted is True for r in done for u in r.units),
        "rejected": sum(u.accepted is False for r in done for u in r.units),
        "refund_value": sum(r.refund_amount for r in rs
                            if r.refund_status and _in(r.refund_created_at, rng)),
        "reasons": Counter(u.reason for r in rs if _in(r.created_at, rng) for u in r.units),
        "grades": Counter(u.grade for r in done for u in r.units if u.grade),
        "dispositions": Counter(u.disposition for r in done for u in r.units if u.accepted),
        "to_dropoff": statistics.fmean((r.dropped_at - r.created_at).total_seconds() / 3600
                                       for r in dropped) if dropped else None,
        "to_refund": statistics.fmean(
            (r.refund_succeeded_at - r.completed_at).total_seconds() / 3600
            for r in confirmed) if confirmed else None,
        "per_day_intakes": Counter(r.dropped_at.astimezone(zone).date() for r in dropped),
        "per_day_issued": Counter(r.created_at.astimezone(zone).date() for r in rs
                                  if _in(r.created_at, rng)),
        "vouchers_waiting": ages([r for r in rs if r.status == "issued"
                                  and r.expires_at > now], lambda r: r.created_at),
        "refunds_waiting": ages([r for r in rs if r.refund_status in ("submitted", "failed")],
                                lambda r: r.refund_created_at),
    }


def _check(fig, exp) -> None:
    assert fig.issued == exp["issued"]
    assert fig.intakes == exp["intakes"]
    assert fig.completed == exp["completed"]
    assert (fig.accepted, fig.rejected) == (exp["accepted"], exp["rejected"])
    assert fig.refund_value.get("USD", 0) == exp["refund_value"]
    assert dict(fig.reasons) == dict(exp["reasons"])
    assert dict(fig.grades) == dict(exp["grades"])
    assert dict(fig.dispositions) == dict(exp["dispositions"])
    for got, want in ((fig.hours_to_dropoff, exp["to_dropoff"]),
                      (fig.hours_to_refund, exp["to_refund"])):
        assert got == (None if want is None else pytest.approx(want, rel=1e-6))
    assert {d: n for d, _i, n in fig.volume if n} == dict(exp["per_day_intakes"])
    assert {d: i for d, i, _n in fig.volume if i} == dict(exp["per_day_issued"])
    assert [n for _l, n in fig.vouchers_waiting] == exp["vouchers_waiting"]
    assert [n for _l, n in fig.refunds_waiting] == exp["refunds_waiting"]


@pytest.mark.parametrize("kind,tz", [("week", "UTC"), ("30d", "America/New_York"),
                                     ("today", "Asia/Tokyo")])
def test_chain_figures_match_independent_counts(session, history, kind, tz):
    plan, now, _ids = history
    rng = dashboard.date_range(kind, tz, now)
    fig = dashboard.figures(session, rng, Scope(1, "hq_ops"), now)
    exp = expected(plan, rng, now)
    assert exp["intakes"] > 0 or kind == "today"  # the seeded month is not empty
    _check(fig, exp)
    assert sum(s.intakes for s in fig.stores) == fig.intakes
    assert fig.acceptance_rate == (exp["accepted"] / (exp["accepted"] + exp["rejected"])
                                   if exp["accepted"] + exp["rejected"] else None)


def test_store_scope_sees_only_its_store(session, history):
    plan, now, ids = history
    rng = dashboard.date_range("30d", "UTC", now)
    fig = dashboard.figures(session, rng, Scope(7, "supervisor", store_id=ids[1]), now)
    _check(fig, expected(plan, rng, now, store_id=ids[1]))
    assert {s.id for s in fig.stores} <= {ids[1]}
    assert [s.id for s in fig.map_stores] == [ids[1]]


def test_near_capacity_lists_a_store_over_80_percent_today(session, history):
    plan, now, ids = history
    walk_in = sample.SampleReturn(
        index=N + 1, store_id=ids[0], currency="USD", unit_price=1000, category="home",
        created_at=now - timedelta(hours=1), expires_at=now + timedelta(days=13),
        units=[sample.SampleUnit("late")], status="dropped_off",
        dropped_at=now - timedelta(minutes=1), intake_status="open")
    sample.insert(session, [walk_in])
    local = ZoneInfo("America/New_York")
    today = sum(1 for r in [*plan, walk_in] if r.dropped_at and r.store_id == ids[0]
                and r.dropped_at.astimezone(local).date() == now.astimezone(local).date())
    store = get_store(session, "NYC-1")
    store.daily_capacity = today  # at 100 %
    session.commit()
    rng = dashboard.date_range("today", "UTC", now)
    fig = dashboard.figures(session, rng, Scope(1, "admin"), now)
    assert ("NYC-1", today) in [(s.code, n) for s, n in fig.near_capacity]
    store.daily_capacity = today * 2 + 10  # well below 80 %
    session.commit()
    fig = dashboard.figures(session, rng, Scope(1, "admin"), now)
    assert "NYC-1" not in [s.code for s, _n in fig.near_capacity]


def test_page_and_csv_show_the_same_numbers(client, session, history):
    plan, now, _ids = history
    hq_user(session, "finance", "fin@hq.example")
    assert sign_in(client, "fin@hq.example").status_code == 302
    page = client.get("/hq/?range=30d").get_data(as_text=True)
    exp = expected(plan, dashboard.date_range("30d", "UTC", now), now)
    shown = dict(re.findall(r'data-kpi="(\w+)">([^<]*)<', page))
    assert shown["intakes"] == str(exp["intakes"])
    assert shown["issued"] == str(exp["issued"])
    assert shown["decided"] == f"{exp['accepted']} / {exp['rejected']}"
    assert "<svg" in page and "Drop-offs per day" in page
    rows = list(csv.DictReader(io.StringIO(
        client.get("/hq/dashboard.csv?table=stores&range=30d").get_data(as_text=True))))
    assert sum(int(r["drop_offs"]) for r in rows) == exp["intakes"]
    assert sum(round(float(r["refund_value"]) * 100) for r in rows) == exp["refund_value"]
    reasons = {r["reason"]: int(r["units"]) for r in csv.DictReader(io.StringIO(
        client.get("/hq/dashboard.csv?table=reasons&range=30d").get_data(as_text=True)))}
    assert reasons == dict(exp["reasons"])
    # htmx asks for the panel alone: no layout around it.
    panel = client.get("/hq/dashboard/panel?range=today").get_data(as_text=True)
    assert panel.lstrip().startswith("<div id=\"dashboard\"") and "<html" not in panel


def test_a_bad_range_is_explained_and_the_default_shown(client, session, history):
    hq_user(session, "hq_ops", "ops@hq.example")
    sign_in(client, "ops@hq.example")
    page = client.get("/hq/?range=custom&from=2026-12-10&to=2026-12-01")
    assert page.status_code == 200
    assert "the end date is before the start date" in page.get_data(as_text=True)
