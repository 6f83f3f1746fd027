"""`homing bench faults`, the fault campaign: N accepted refunds drained through the
production shape while faults strike on a seeded schedule, then the invariants
(``hub.faults.invariants``).

1. A scratch PostgreSQL database, migrated, receives N accepted returns as a completed intake
   leaves them (``hub.amazon.bench.seed``: refund intents plus outbox messages), due in waves.
   Half the orders had two units of which one came back (a repeated refund still fits under
   what Amazon charged, so a double shows as money); a few are refunded by Amazon itself
   (A-to-z) before Homing sends anything.
2. The sandbox runs as its own process; two ``homing worker`` processes (with the periodic
   jobs) reach PostgreSQL and Redis through proxies the campaign cuts. A supervisor restarts
   any worker that is gone, as a container's restart policy would.
3. The plan's faults strike while the refunds drain; then the campaign waits (bounded) for
   quiescence; once quiet, gives every periodic job one more run (the ten-minute feed audit
   among them) and checks the invariants. What is not quiet in time is checked as it is.

Speed knobs: the sandbox's delays are short, both sides' token buckets run 30x, and the push
job is enqueued every few seconds besides its own schedule (the same RQ job the workers' cron
runs, only more often)."""

from __future__ import annotations

import contextlib
import random
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from hub.faults import invariants
from hub.faults.scenarios import SANDBOX_FAULTS, Event, Plan
from hub.faults.stack import Stack

RATE = 30.0  # token buckets on both sides run this much faster than Amazon's usage plans
# The push's own clocks, shortened for a local sandbox (which answers in milliseconds): the
# settle time stays above both the HTTP timeout and the sandbox's list lag (scenarios keep
# the lag at most LIST_LAG_MAX), as it must at Amazon.
WORKER_SETTINGS = {"AMAZON_RATE_MULTIPLIER": RATE, "AMAZON_HTTP_TIMEOUT": 5,
                   "AMAZON_FEED_SETTLE_SECONDS": 15}
PUSH_EVERY = 4.0
PUSH_JOB = "amazon-push-refunds"
PUSH_LOCKS = "homing:*push*"  # the push's Redis lock ("homing:amazon-push" on 2026-12-03)


@dataclass
class Result:
    plan: Plan
    checks: list[invariants.Check]
    figures: dict
    executed: list[dict]
    timings: dict
    workdir: str
    struck: dict = field(default_factory=dict)  # fault kind -> times it struck
    missed: list[str] = field(default_factory=list)  # planned kinds that never struck

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


def run_campaign(scenario: str, refunds: int, seed: int, *,
                 settle_timeout: float | None = None, **options) -> Result:
    """Plan and run one campaign (see ``run`` for the options)."""
    from hub.faults import scenarios

    plan = scenarios.plan(scenario, refunds, seed)
    if settle_timeout is not None:
        plan.settle_timeout = float(settle_timeout)
    return run(plan, **options)


def _log(message: str) -> None:
    print(f"[faults {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(plan: Plan, *, admin_url: str, redis_url: str | None = None, workers: int = 2,
        keep: bool = False, log: Callable[[str], None] = _log) -> Result:
    workdir = Path(tempfile.mkdtemp(prefix=f"homing-faults-{plan.scenario}-"))
    stack = Stack(admin_url=admin_url, db_name=f"homing_faults_{uuid.uuid4().hex[:8]}",
                  redis_url=redis_url, workdir=workdir, workers=workers,
                  settings=WORKER_SETTINGS)
    timings: dict[str, float] = {}
    try:
        started = time.monotonic()
        stack.start_services()
        log(f"{plan.scenario} seed {plan.seed}: {plan.refunds} refunds; logs in {workdir}")
        fixtures = _seed(stack, plan)
        _configure_sandbox(stack, plan, fixtures)
        timings["setup_s"] = time.monotonic() - started
        runner = FaultRunner(stack, plan, log)
        stack.start_workers()
        drain_start = time.monotonic()
        runner.start(drain_start)
        pusher = _Pusher(stack)
        pusher.start()
        quiet = _wait_quiet(stack, drain_start + plan.last_fault_at, plan.settle_timeout, log)
        runner.join(timeout=30)
        quiet = _release_reserves(stack, plan, quiet, log)
        if quiet:
            # Only once everything is done: run by hand, the relay or the push would rescue
            # what a dead scheduler left behind and hide it.
            _run_periodic_once(stack, log)
            quiet = _wait_quiet(stack, time.monotonic(), 45, log)
        pusher.stop()
        timings["drain_s"] = time.monotonic() - drain_start
        timings["quiescent"] = quiet
        amazon = stack.sandbox.state()
        facts = invariants.gather(stack.engine(), amazon, datetime.now(UTC))
        checks, figures = invariants.evaluate(facts)
        figures["workers"] = stack.pool.figures()
        struck, missed = _struck(plan, runner.executed, amazon)
        return Result(plan, checks, figures, runner.executed, timings, str(workdir),
                      struck, missed)
    finally:
        stack.stop(keep_database=keep)


# --- seeding ---------------------------------------------------------------------------------

def _seed(stack: Stack, plan: Plan) -> list[dict]:
    """bench.seed's accepted returns, then this plan's shape: two-unit orders, waves."""
    from hub import create_app
    from hub.amazon.bench import seed

    app = create_app({"DATABASE_URL": stack.database_url, "REDIS_URL": None,
                      "RATELIMIT_ENABLED": False, "SECRET_KEY": "faults-secret",
                      "MOUNT_SANDBOX": False, "AMAZON_MODE": "sandbox",
                      "AMAZON_ENDPOINT": stack.sandbox.url})
    fixtures = seed(app, plan.refunds, lambda done, total: None)
    rng = random.Random(f"seed:{plan.scenario}:{plan.seed}")
    doubled = {i for i in range(plan.refunds) if rng.random() < plan.double_unit_share}
    engine = stack.engine()
    with engine.begin() as conn:
        if doubled:
            conn.execute(sa.text(
                "UPDATE order_lines SET quantity = 2, item_price = item_price * 2, "
                "item_tax = item_tax * 2 WHERE id = ANY(:ids)"),
                {"ids": [i + 1 for i in sorted(doubled)]})
        now = datetime.now(UTC)
        drained = plan.refunds - sum(len(r) for r in _reserves(plan))
        per_wave = -(-drained // plan.waves)
        for wave in range(1, plan.waves):
            ids = list(range(wave * per_wave + 1, min((wave + 1) * per_wave, drained) + 1))
            if ids:
                _due(conn, ids, now + timedelta(seconds=wave * plan.wave_every))
        for ids in _reserves(plan):  # released by the campaign itself (_release_reserves)
            _due(conn, ids, now + timedelta(days=1))
    engine.dispose()
    for i, fixture in enumerate(fixtures):
        fixture["items"][0].update(QuantityOrdered=1, QuantityShipped=1)
        if i in doubled:
            item = fixture["items"][0]
            item.update(ItemPrice=item["ItemPrice"] * 2, ItemTax=item["ItemTax"] * 2,
                        QuantityOrdered=2, QuantityShipped=2)
        fixture["single"] = i not in doubled
    return fixtures


def _due(conn, refund_ids: list[int], due: datetime) -> None:
    conn.execute(sa.text("UPDATE outbox_messages SET next_attempt_at = :due "
                         "WHERE (payload->>'refund_id')::int = ANY(:ids)"),
                 {"due": due, "ids": refund_ids})


def _reserves(plan: Plan) -> list[list[int]]:
    """The refund ids held back in reserve waves (the last ones seeded)."""
    size = int(plan.refunds * plan.reserve_share) // max(plan.reserve_waves, 1)
    if not size:
        return []
    first = plan.refunds - size * plan.reserve_waves + 1
    return [list(range(first + k * size, first + (k + 1) * size))
            for k in range(plan.reserve_waves)]


def _release_reserves(stack: Stack, plan: Plan, quiet: bool, log) -> bool:
    """Intake goes on: while Amazon faults are still queued (no call met them), one more
    reserve wave of refunds arrives and is drained; then the rest arrive together. Each
    queued fault strikes the next call of its operation, and new refunds make new calls."""
    reserves = _reserves(plan)
    while reserves:
        pending = stack.sandbox.state().get("faults_pending", {})
        if pending and quiet:
            batch = reserves.pop(0)
        else:
            batch, reserves = [i for r in reserves for i in r], []
        engine = stack.engine()
        with engine.begin() as conn:
            _due(conn, batch, datetime.now(UTC))
        engine.dispose()
        log(f"{len(batch)} more refunds arrive (Amazon faults still queued: {pending or 'none'})")
        quiet = _wait_quiet(stack, time.monotonic(), plan.settle_timeout, log)
    return quiet


def _configure_sandbox(stack: Stack, plan: Plan, fixtures: list[dict]) -> None:
    sandbox = stack.sandbox
    for start in range(0, len(fixtures), 1000):
        sandbox.post("/_emu/fixtures", {"orders": [
            {k: v for k, v in f.items() if k != "single"} for f in fixtures[start:start + 1000]]})
    sandbox.post("/_emu/faults", {"delays": {"queue": 0, "processing": plan.processing,
                                             "finance": 0},
                                  "rate_multiplier": RATE,
                                  "list_lag_seconds": plan.list_lag_seconds,
                                  "processing_jitter": plan.processing_jitter,
                                  "seed": plan.seed})
    rng = random.Random(f"own:{plan.scenario}:{plan.seed}")
    singles = [f for f in fixtures if f["single"]]
    for fixture in rng.sample(singles, int(len(singles) * plan.own_refund_share)):
        item = fixture["items"][0]
        sandbox.post("/_emu/refund", {"order_id": fixture["AmazonOrderId"],
                                      "item_code": item["OrderItemId"], "kind": "a-to-z",
                                      "charges": {"Principal": item["ItemPrice"],
                                                  "Tax": item["ItemTax"]}})


# --- faults ----------------------------------------------------------------------------------

class FaultRunner(threading.Thread):
    """Executes the plan's events at their times; outages restore themselves after their
    ``seconds``. Every executed fault is logged in ``executed``."""

    def __init__(self, stack: Stack, plan: Plan, log):
        super().__init__(daemon=True, name="fault-runner")
        self.stack, self.plan, self.log = stack, plan, log
        self.rng = random.Random(f"run:{plan.scenario}:{plan.seed}")
        self.executed: list[dict] = []
        self.t0 = 0.0
        self._helpers: list[threading.Thread] = []

    def start(self, t0: float) -> None:  # type: ignore[override]
        self.t0 = t0
        super().start()

    def run(self) -> None:
        for event in self.plan.events:
            delay = self.t0 + event.at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            helper = threading.Thread(target=self._safely, args=(event,), daemon=True)
            helper.start()
            self._helpers.append(helper)
        for helper in self._helpers:
            helper.join(timeout=180)

    def _safely(self, event: Event) -> None:
        began = time.monotonic() - self.t0
        try:
            detail = self._do(event)
        except Exception as exc:  # noqa: BLE001 - a fault that could not be done is reported
            detail = f"could not be done: {type(exc).__name__}: {exc}"
        ended = time.monotonic() - self.t0
        entry = {"at": round(began, 1), "until": round(ended, 1), "kind": event.kind,
                 "detail": detail}
        self.executed.append(entry)
        span = f"t+{began:.0f}s" + (f"..{ended:.0f}s" if ended - began >= 1 else "")
        self.log(f"{span} {event.kind}: {detail}")

    def _do(self, event: Event) -> str:
        stack, params = self.stack, event.params
        if event.kind in SANDBOX_FAULTS:
            stack.sandbox.post("/_emu/faults", params)
            return f"queued at the sandbox: {params}"
        if event.kind == "worker_kill":
            pids = stack.pool.pids()
            if not pids:
                return "no worker alive to kill"
            return f"SIGKILLed worker {stack.pool.kill(pid=self.rng.choice(pids))}"
        if event.kind == "worker_kill_holding_push_lock":
            return self._kill_push_lock_holder()
        if event.kind in ("redis_outage", "postgres_outage", "postgres_outage_during_relay"):
            if event.kind == "postgres_outage_during_relay":
                self._wait_for_relay()
            proxy = stack.redis_proxy if event.kind == "redis_outage" else stack.pg_proxy
            seconds = float(params.get("seconds", 15))
            proxy.cut()
            time.sleep(seconds)
            proxy.restore()
            return f"down for {seconds:.0f} s"
        if event.kind == "postgres_backends_killed":
            return f"{stack.kill_backends()} PostgreSQL backends terminated"
        if event.kind == "stuck_feeds":
            stack.sandbox.post("/_emu/faults", {"stuck_feeds": True})
            time.sleep(float(params.get("seconds", 15)))
            stack.sandbox.post("/_emu/faults", {"stuck_feeds": False})
            return f"feeds stuck IN_PROGRESS for {params.get('seconds', 15)} s"
        raise ValueError(f"unknown fault kind {event.kind!r}")

    def _kill_push_lock_holder(self, timeout: float = 120) -> str:
        """Wait for a push run to hold its Redis lock, then SIGKILL that worker's process
        group (the work-horse holding the lock dies with it)."""
        from rq import Worker

        conn = _redis(self.stack)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(k for k in conn.scan_iter(match=PUSH_LOCKS) if b"spapi" not in k):
                for worker in Worker.all(connection=conn):
                    job = worker.get_current_job()
                    if job is not None and PUSH_JOB in (job.description or ""):
                        killed = self.stack.pool.kill(pid=worker.pid)
                        if killed:
                            return f"SIGKILLed worker {killed} while its push held the lock"
            time.sleep(0.1)
        return "could not be done: no push run held the lock in time"

    def _wait_for_relay(self, timeout: float = 60) -> None:
        conn = _redis(self.stack)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not any(conn.scan_iter(match="rq:job:outbox-*")):
            time.sleep(0.05)


def _redis(stack: Stack):
    import redis

    return redis.Redis.from_url(stack.redis_url)  # direct: the campaign's eyes, never cut


class _Pusher(threading.Thread):
    """Enqueues the push job every PUSH_EVERY seconds (through the proxy, as any producer
    would; a Redis outage makes it miss a beat)."""

    def __init__(self, stack: Stack):
        super().__init__(daemon=True, name="pusher")
        self.stack = stack
        self._halt = threading.Event()

    def run(self) -> None:
        import redis
        from rq import Queue

        conn = redis.Redis.from_url(self.stack.proxied_redis_url, socket_timeout=2,
                                    socket_connect_timeout=2)
        while not self._halt.wait(PUSH_EVERY):
            with contextlib.suppress(redis.RedisError):
                Queue("low", connection=conn).enqueue("hub.jobs.tasks.run_periodic", PUSH_JOB)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)


def _run_periodic_once(stack: Stack, log) -> None:
    """One more run of every periodic job and of the relay (as their schedules would, only
    sooner), so the checks see what the next cycle of each would have found."""
    from rq import Queue

    from hub.jobs.runner import PERIODIC, load_periodic_jobs

    load_periodic_jobs()
    conn = _redis(stack)
    jobs = [Queue("high", connection=conn).enqueue("hub.jobs.tasks.relay_outbox")]
    jobs += [Queue("low", connection=conn).enqueue("hub.jobs.tasks.run_periodic", name)
             for name, _every, _func in PERIODIC]
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        states = [job.get_status(refresh=True) for job in jobs]
        if all(s in ("finished", "failed", "canceled", "stopped") for s in states):
            break
        time.sleep(0.5)
    failed = [job.args for job in jobs if job.get_status(refresh=True) != "finished"]
    log(f"periodic jobs run once more; not finished: {failed or 'none'}")


# --- waiting ---------------------------------------------------------------------------------

OPEN_QUERY = sa.text(
    "SELECT (SELECT count(*) FROM refunds WHERE status IN "
    "('pending','queued','submitting','submitted')), "
    "(SELECT count(*) FROM amazon_feed_submissions WHERE status IN "
    "('building','uploaded','creating','submitted')), "
    "(SELECT count(*) FROM outbox_messages WHERE status NOT IN ('delivered','dead')), "
    "(SELECT count(*) FROM refunds WHERE status IN ('succeeded','settled')), "
    "(SELECT count(*) FROM refunds)")


def _wait_quiet(stack: Stack, not_before: float, timeout: float, log) -> bool:
    """Wait until the faults are over and nothing is open, for at most ``timeout`` seconds
    after ``not_before``. True when quiet."""
    engine = stack.engine()
    deadline, last = not_before + timeout, 0.0
    try:
        while True:
            now = time.monotonic()
            with engine.connect() as conn:
                open_refunds, open_subs, open_outbox, paid, total = conn.execute(
                    OPEN_QUERY).one()
            if now - last > 15:
                log(f"refunds paid {paid}/{total}; open: {open_refunds} refunds, {open_subs} "
                    f"submissions, {open_outbox} outbox messages")
                last = now
            if now >= not_before and open_refunds == open_subs == open_outbox == 0:
                return True
            if now >= deadline:
                return False
            time.sleep(2)
    finally:
        engine.dispose()


def _struck(plan: Plan, executed: list[dict], amazon: dict) -> tuple[dict, list[str]]:
    """How often each planned fault kind really struck (sandbox faults: seen by the sandbox,
    not only queued), and the planned kinds that never did."""
    fired = [(f["operation"], f["kind"]) for f in amazon.get("faults_fired", [])]
    struck: dict[str, int] = {}
    for kind in sorted(plan.kinds):
        if kind in SANDBOX_FAULTS and "operation" in SANDBOX_FAULTS[kind]:
            body = SANDBOX_FAULTS[kind]
            fault = ("drop_request" if body.get("drop_request") else "lose_answer"
                     if body.get("lose_answer") else f"{body['status']}_after_work"
                     if body.get("after_work") else str(body["status"]))
            struck[kind] = fired.count((body["operation"], fault))
        elif kind == "fatal_feed":
            struck[kind] = sum(1 for f in amazon.get("feeds", [])
                               if f.get("processingStatus") == "FATAL")
        elif kind in ("list_lag", "processing_jitter", "amazon_own_refunds"):
            struck[kind] = 1
        else:
            struck[kind] = sum(1 for e in executed if e["kind"] == kind
                               and not e["detail"].startswith(("could not", "no worker")))
    return struck, [k for k, n in struck.items() if n == 0]


def report(result: Result) -> list[str]:
    plan, t = result.plan, result.timings
    lines = [f"scenario {plan.scenario}, seed {plan.seed}: {plan.refunds} refunds in "
             f"{plan.waves} waves; setup {t.get('setup_s', 0):.0f} s, drain and settle "
             f"{t.get('drain_s', 0):.0f} s, quiescent: {'yes' if t.get('quiescent') else 'NO'}",
             f"faults struck           {result.struck}"]
    if result.missed:
        lines.append(f"planned, never struck   {result.missed}")
    lines.append(f"workers                 {result.figures.get('workers')}")
    lines += invariants.report(result.checks, result.figures)
    lines.append(f"RESULT {'PASS' if result.passed else 'FAIL'} ({plan.scenario}, seed "
                 f"{plan.seed}); logs in {result.workdir}")
    return lines
