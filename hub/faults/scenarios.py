"""The campaign's scenarios: a seeded plan of faults against a drain of N refunds.

Each named scenario is one row of issue 21's table; ``random`` draws every fault kind at
least once (plus more) at seeded random moments. Times are seconds from the start of the
drain (when the workers start). Pure code: the plan says what and when, ``campaign`` does it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

# Amazon's list lags at most this (seconds); the campaign's settle time is longer (bench.py).
LIST_LAG_MAX = 8.0
# Sandbox faults: kind -> the /_emu/faults body.
SANDBOX_FAULTS: dict[str, dict] = {
    "create_feed_500_after_work": {"operation": "createFeed", "status": 500,
                                   "after_work": True},
    "create_feed_503_after_work": {"operation": "createFeed", "status": 503,
                                   "after_work": True},
    "create_feed_lose_answer": {"operation": "createFeed", "lose_answer": True},
    "create_feed_drop_request": {"operation": "createFeed", "drop_request": True},
    "create_feed_500": {"operation": "createFeed", "status": 500},
    "create_feed_429": {"operation": "createFeed", "status": 429, "times": 3},
    "create_feed_document_lose_answer": {"operation": "createFeedDocument",
                                         "lose_answer": True},
    "create_feed_document_drop_request": {"operation": "createFeedDocument",
                                          "drop_request": True},
    "create_feed_document_500": {"operation": "createFeedDocument", "status": 500,
                                 "times": 2},
    "get_feeds_500": {"operation": "getFeeds", "status": 500},
    "get_feeds_lose_answer": {"operation": "getFeeds", "lose_answer": True},
    "get_feeds_drop_request": {"operation": "getFeeds", "drop_request": True},
    "get_feed_500": {"operation": "getFeed", "status": 500, "times": 3},
    "get_feed_429": {"operation": "getFeed", "status": 429, "times": 5},
    "get_feed_lose_answer": {"operation": "getFeed", "lose_answer": True},
    "get_feed_document_500": {"operation": "getFeedDocument", "status": 503},
    "get_feed_document_drop_request": {"operation": "getFeedDocument", "drop_request": True},
    "expire_tokens": {"expire_tokens": True},
    "fatal_feed": {"fatal_feeds": 1},
}
# Faults of our own machines, done by the campaign itself.
PROCESS_FAULTS = ("worker_kill", "worker_kill_holding_push_lock", "redis_outage",
                  "postgres_outage", "postgres_outage_during_relay", "postgres_backends_killed",
                  "stuck_feeds")
ALL_KINDS = tuple(SANDBOX_FAULTS) + PROCESS_FAULTS + ("list_lag", "processing_jitter",
                                                      "amazon_own_refunds")


@dataclass
class Event:
    at: float  # seconds after the drain starts
    kind: str
    params: dict = field(default_factory=dict)


@dataclass
class Plan:
    scenario: str
    seed: int
    refunds: int
    waves: int = 4  # refunds become due in waves (intake goes on while faults strike)
    wave_every: float = 12.0
    list_lag_seconds: float = 0.0
    processing_jitter: float = 0.0
    processing: float = 1.0  # the sandbox's base processing time per feed
    double_unit_share: float = 0.5  # orders of two units, one returned: a repeat fits the cap
    own_refund_share: float = 0.0  # orders Amazon refunds itself (A-to-z) before Homing does
    # Refunds held back and released by the campaign while Amazon faults are still queued
    # (so each meets a call), in this many waves; then the rest.
    reserve_share: float = 0.0
    reserve_waves: int = 0
    events: list[Event] = field(default_factory=list)
    settle_timeout: float = 240.0  # how long to wait for quiescence after the last fault

    @property
    def kinds(self) -> set[str]:
        kinds = {e.kind for e in self.events}
        if self.list_lag_seconds:
            kinds.add("list_lag")
        if self.processing_jitter:
            kinds.add("processing_jitter")
        if self.own_refund_share:
            kinds.add("amazon_own_refunds")
        return kinds

    @property
    def last_fault_at(self) -> float:
        ends = [e.at + float(e.params.get("seconds", 0)) for e in self.events]
        return max(ends + [self.waves * self.wave_every])


def _sandbox(at: float, kind: str, **extra) -> Event:
    return Event(at, kind, {**SANDBOX_FAULTS[kind], **extra})


def create_feed_500_after_creation(plan: Plan, rng: random.Random) -> None:
    """createFeed answers 500 after Amazon created the feed (an indeterminate failure)."""
    plan.events.append(_sandbox(0, "create_feed_500_after_work"))


def answer_lost_twice(plan: Plan, rng: random.Random) -> None:
    """The answer to createFeed is lost twice; Amazon's list lags behind, as it does."""
    plan.list_lag_seconds = LIST_LAG_MAX
    plan.events.append(_sandbox(0, "create_feed_lose_answer", times=2))


def get_feeds_fails_drop_and_loss(plan: Plan, rng: random.Random) -> None:
    """getFeeds fails once, one createFeed request is dropped, then one answer is lost."""
    plan.events += [_sandbox(0, "create_feed_drop_request"),
                    _sandbox(0, "create_feed_lose_answer"), _sandbox(0, "get_feeds_500")]


def mixed_campaign(plan: Plan, rng: random.Random) -> None:
    """Worker SIGKILLs, 429 and 500 bursts, expired tokens, stuck and FATAL feeds, killed
    database backends, a lost answer."""
    span = plan.waves * plan.wave_every + 20
    plan.own_refund_share = 0.02
    plan.processing_jitter = 4
    plan.list_lag_seconds = LIST_LAG_MAX  # Amazon's list is eventually consistent
    plan.reserve_share, plan.reserve_waves = 0.15, 3
    kinds = ["worker_kill", "worker_kill", "worker_kill", "create_feed_429", "get_feed_429",
             "get_feed_500", "create_feed_document_500", "expire_tokens", "expire_tokens",
             "fatal_feed", "postgres_backends_killed", "postgres_backends_killed",
             "postgres_backends_killed", "create_feed_lose_answer"]
    rng.shuffle(kinds)
    for kind in kinds:
        at = round(rng.uniform(0, span), 1)
        if kind in SANDBOX_FAULTS and "operation" in SANDBOX_FAULTS[kind]:
            plan.events.append(_sandbox(0, kind))  # queued from the start (see random)
        else:
            plan.events.append(_sandbox(at, kind) if kind in SANDBOX_FAULTS
                               else Event(at, kind))
    plan.events.append(Event(round(rng.uniform(0, span / 2), 1), "stuck_feeds",
                             {"seconds": 20}))


def postgres_outage_during_relay(plan: Plan, rng: random.Random) -> None:
    """PostgreSQL unreachable for a while as the outbox relay hands a batch to RQ."""
    plan.events.append(Event(0, "postgres_outage_during_relay", {"seconds": 20}))


def redis_outage_idle(plan: Plan, rng: random.Random) -> None:
    """Redis down for 25 s while the workers are idle; refunds arrive after it is back."""
    plan.waves, plan.wave_every = 2, 75  # the first wave drains, the second comes after
    plan.events.append(Event(40, "redis_outage", {"seconds": 25}))


def worker_killed_holding_push_lock(plan: Plan, rng: random.Random) -> None:
    """A worker SIGKILLed while it holds the push lock (its work-horse dies with it)."""
    plan.events.append(Event(0, "worker_kill_holding_push_lock"))


def random_campaign(plan: Plan, rng: random.Random) -> None:
    """Every fault kind at least once, then a quarter as many again drawn at random, at
    seeded random moments of the drain."""
    span = plan.waves * plan.wave_every + 30
    plan.list_lag_seconds = round(rng.uniform(2, LIST_LAG_MAX), 1)
    plan.processing_jitter = round(rng.uniform(1, 8), 1)
    plan.own_refund_share = 0.02
    plan.reserve_share, plan.reserve_waves = 0.15, 3
    kinds = [k for k in SANDBOX_FAULTS] + [k for k in PROCESS_FAULTS]
    kinds += rng.choices(kinds, k=len(kinds) // 4)
    rng.shuffle(kinds)
    for kind in kinds:
        at = round(rng.uniform(0, span), 1)
        if kind in SANDBOX_FAULTS and "operation" in SANDBOX_FAULTS[kind]:
            # Queued from the start, in a seeded order: each strikes the next call of its
            # operation, and Homing's retries until it gets through make sure there is one
            # (a fault queued after the last createFeed would never strike).
            plan.events.append(_sandbox(0, kind))
        elif kind in SANDBOX_FAULTS:
            plan.events.append(_sandbox(round(at * 0.4, 1), kind))
        elif kind in ("redis_outage", "postgres_outage", "postgres_outage_during_relay",
                      "stuck_feeds"):
            plan.events.append(Event(at, kind, {"seconds": round(rng.uniform(5, 20), 1)}))
        else:
            plan.events.append(Event(at, kind))


SCENARIOS = {
    "create_feed_500_after_creation": create_feed_500_after_creation,
    "answer_lost_twice": answer_lost_twice,
    "get_feeds_fails_drop_and_loss": get_feeds_fails_drop_and_loss,
    "mixed_campaign": mixed_campaign,
    "postgres_outage_during_relay": postgres_outage_during_relay,
    "redis_outage_idle": redis_outage_idle,
    "worker_killed_holding_push_lock": worker_killed_holding_push_lock,
    "random": random_campaign,
}


def plan(scenario: str, refunds: int, seed: int) -> Plan:
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; one of: {', '.join(SCENARIOS)}")
    if refunds < 1:
        raise ValueError("a campaign needs at least one refund")
    result = Plan(scenario, seed, refunds)
    SCENARIOS[scenario](result, random.Random(f"{scenario}:{seed}"))
    result.events.sort(key=lambda e: e.at)
    return result
