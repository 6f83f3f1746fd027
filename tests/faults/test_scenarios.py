"""The campaign's plans: seeded, every named row of issue 21 runnable alone, and the random
plan carries every fault kind."""

from __future__ import annotations

import pytest

from hub.faults.scenarios import ALL_KINDS, SANDBOX_FAULTS, SCENARIOS, plan
from hub.sandbox.emulator import make_fault

ROWS = ("create_feed_500_after_creation", "answer_lost_twice", "get_feeds_fails_drop_and_loss",
        "mixed_campaign", "postgres_outage_during_relay", "redis_outage_idle",
        "worker_killed_holding_push_lock")


def test_every_row_of_the_issue_is_a_scenario_and_random_too():
    assert set(SCENARIOS) == set(ROWS) | {"random"}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_plan_is_the_same_for_the_same_seed_and_has_faults(name):
    first, again, other = plan(name, 300, 5), plan(name, 300, 5), plan(name, 300, 6)
    assert first.events and first.events == again.events
    assert [e.at for e in first.events] == sorted(e.at for e in first.events)
    if name in ("random", "mixed_campaign"):
        assert first.events != other.events


@pytest.mark.parametrize("seed", range(5))
def test_random_has_every_kind_at_least_once(seed):
    assert plan("random", 300, seed).kinds == set(ALL_KINDS)


def test_the_sandbox_faults_are_ones_the_sandbox_accepts():
    for body in SANDBOX_FAULTS.values():
        if "operation" in body:
            options = {k: body[k] for k in ("after_work", "lose_answer", "drop_request")
                       if k in body}
            make_fault(body.get("status"), **options)


def test_a_bad_request_is_refused():
    with pytest.raises(ValueError, match="unknown scenario"):
        plan("no_such_row", 10, 1)
    with pytest.raises(ValueError, match="at least one refund"):
        plan("random", 0, 1)


def test_reserve_waves_are_the_last_refunds_and_only_where_planned():
    from hub.faults.bench import _reserves

    waves = _reserves(plan("random", 300, 1))
    assert [len(w) for w in waves] == [15, 15, 15] and waves[-1][-1] == 300
    assert sorted(i for w in waves for i in w) == list(range(256, 301))
    assert _reserves(plan("answer_lost_twice", 300, 1)) == []
