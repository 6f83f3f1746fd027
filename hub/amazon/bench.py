"""`homing bench pipeline`: accepted returns drained to Amazon at Amazon's rate limits.

1. A scratch PostgreSQL database receives N accepted returns as a completed intake leaves
   them: the refund intent with its lines and Amazon components, and the outbox messages
   (refund.submit, finance.journal). The counter's own cost is `homing bench scan`'s subject.
2. The relay hands the outbox to RQ; W `homing worker` processes deliver it (refunds queued,
   journal entries written).
3. The push job batches the queued refunds into feeds and carries them through the sandbox,
   with Amazon's usage plans on both sides (ours in Redis, the sandbox's own buckets). The
   sandbox clock may run faster (`--speed`), and our buckets refill at the same speed, so a
   two-hour drain at the real createFeed rate can be watched in minutes.
4. Checks: every refund succeeded exactly once at Amazon (no duplicate, none lost) and every
   journal entry balances.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from hub.database import fresh_database

REDIS_DB_URL = "redis://127.0.0.1:6379/13"


def _app(database_url: str, redis_url: str, endpoint: str, speed: float):
    from hub import create_app

    return create_app({"DATABASE_URL": database_url, "REDIS_URL": redis_url,
                       "RATELIMIT_ENABLED": False, "SECRET_KEY": "bench-secret",
                       "MOUNT_SANDBOX": False, "AMAZON_MODE": "sandbox",
                       "AMAZON_ENDPOINT": endpoint, "AMAZON_RATE_MULTIPLIER": speed})


def seed(app, n: int, progress: Callable[[int, int], None]) -> list[dict]:
    """N one-unit returns of N orders, accepted: refund intents plus their outbox rows, in
    batches of 1,000 rows per statement. Returns the orders as sandbox fixtures."""
    from flask_migrate import upgrade

    from hub.extensions import db
    from hub.models import utcnow
    from hub.orders.models import Order, OrderLine
    from hub.outbox.models import OutboxMessage
    from hub.policy.service import current_policy
    from hub.refunds.models import Refund, RefundLine
    from hub.returns.models import ReturnAuthorization

    fixtures = []
    with app.app_context():
        upgrade(directory=str(app.extensions["migrate"].directory))
        policy = current_policy(db.session)
        db.session.commit()
        now = utcnow()
        for start in range(0, n, 1000):
            count = min(1000, n - start)
            orders, lines, rmas, refunds, refund_lines, messages = [], [], [], [], [], []
            for i in range(start, start + count):
                amazon_id = f"114-{i // 10_000_000:07d}-{i % 10_000_000:07d}"
                code = f"{50_000_000_000_000 + i:014d}"
                price, tax = 1999 + i % 5000, 160 + i % 400
                orders.append({"id": i + 1, "channel": "amazon-mfn", "external_id": amazon_id,
                               "marketplace_id": "ATVPDKIKX0DER", "seller_id": "A1DEMOSELLER",
                               "currency": "USD", "status": "delivered", "promotions": [],
                               "is_business": False, "created_at": now, "updated_at": now})
                lines.append({"id": i + 1, "order_id": i + 1, "external_item_id": code,
                              "sku": f"SKU-{i % 97}", "quantity": 1, "item_price": price,
                              "item_tax": tax, "shipping_price": 0, "shipping_tax": 0,
                              "promotions": [], "title": "Bench item", "category": "general",
                              "size_class": "small", "asin": "", "image_url": ""})
                rmas.append({"id": i + 1, "number": f"B{i:08d}", "order_id": i + 1,
                             "status": "dropped_off", "policy_version_id": policy.id,
                             "policy_snapshot": {}, "currency": "USD",
                             "expected_refund": price + tax, "expires_at": now,
                             "created_at": now, "updated_at": now})
                refunds.append({"id": i + 1, "rma_id": i + 1, "order_id": i + 1,
                                "status": "pending", "currency": "USD", "amount": price + tax,
                                "breakdown": {}, "idempotency_key": f"bench:{i}",
                                "channel": "amazon-mfn", "seller_id": "A1DEMOSELLER",
                                "marketplace_id": "ATVPDKIKX0DER", "created_at": now,
                                "updated_at": now, "due_at": now + timedelta(days=2)})
                refund_lines.append({"refund_id": i + 1, "order_line_id": i + 1, "quantity": 1,
                                     "adjustment_item_id": f"B{i:08d}-1", "amount": price + tax,
                                     "components": [{"type": "Principal", "amount_minor": price},
                                                    {"type": "Tax", "amount_minor": tax}]})
                for topic, kind in (("refund.submit", None), ("finance.journal", "refund")):
                    payload = {"refund_id": i + 1} | ({"kind": kind} if kind else {})
                    messages.append({"topic": topic, "payload": payload,
                                     "dedupe_key": f"bench:{i}:{topic}", "status": "pending",
                                     "attempts": 0, "max_attempts": 8, "next_attempt_at": now,
                                     "last_error": "", "created_at": now})
                fixtures.append({"AmazonOrderId": amazon_id, "seller_id": "A1DEMOSELLER",
                                 "items": [{"OrderItemId": code, "SellerSKU": f"SKU-{i % 97}",
                                            "ItemPrice": price, "ItemTax": tax}]})
            for model, rows in ((Order, orders), (OrderLine, lines),
                                (ReturnAuthorization, rmas), (Refund, refunds),
                                (RefundLine, refund_lines), (OutboxMessage, messages)):
                db.session.execute(sa.insert(model), rows)
            db.session.commit()
            progress(start + count, n)
        for table in ("orders", "order_lines", "return_authorizations", "refunds"):
            db.session.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"))
        db.session.commit()
    return fixtures


def deliver_outbox(app, workers: int, database_url: str, redis_url: str) -> float:
    """Relay the outbox to RQ and let W worker processes deliver it. Seconds taken."""
    from hub.jobs import tasks

    started = time.perf_counter()
    with app.app_context():
        while tasks.relay_outbox(limit=5000):
            pass
    env = {**os.environ, "HOMING_DATABASE_URL": database_url, "HOMING_REDIS_URL": redis_url,
           "HOMING_MOUNT_SANDBOX": "false", "HOMING_SECRET_KEY": "bench-secret",
           "HOMING_ENV_NAME": "bench"}
    homing = str(Path(sys.executable).with_name("homing"))
    procs = [subprocess.Popen([homing, "worker", "--burst", "--no-cron"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(workers)]
    for proc in procs:
        proc.wait()
    return time.perf_counter() - started


def drain(app, total: int, progress: Callable[[int, int], None],
          timeout: float = 3600) -> tuple[float, int]:
    """Run the push job until every refund has Amazon's answer. Seconds taken, runs made."""
    from hub.amazon import jobs
    from hub.extensions import db
    from hub.refunds.models import Refund

    started, runs = time.perf_counter(), 0
    with app.app_context():
        while time.perf_counter() - started < timeout:
            jobs.push_refunds(app)
            runs += 1
            answered = db.session.scalar(sa.select(sa.func.count()).select_from(Refund).where(
                Refund.status.in_(("succeeded", "failed", "amazon_refunded"))))
            db.session.remove()
            progress(answered, total)
            if answered >= total:
                break
            time.sleep(1)
    return time.perf_counter() - started, runs


def checks(app, emulator) -> dict:
    from hub.amazon.models import FeedSubmission
    from hub.extensions import db
    from hub.ledger.models import JournalEntry, JournalLine
    from hub.refunds.models import Refund, RefundLine

    applied = emulator.state()["applied"]
    sent = [a["merchant_adjustment_item_id"] for a in applied]
    with app.app_context():
        ours = set(db.session.scalars(sa.select(RefundLine.adjustment_item_id)))
        statuses = dict(db.session.execute(sa.select(Refund.status, sa.func.count())
                                           .group_by(Refund.status)).all())
        sums = (sa.select(JournalLine.entry_id).group_by(JournalLine.entry_id)
                .having(sa.func.sum(JournalLine.debit) != sa.func.sum(JournalLine.credit)))
        unbalanced = db.session.scalar(sa.select(sa.func.count()).select_from(sums.subquery()))
        entries = db.session.scalar(sa.select(sa.func.count()).select_from(JournalEntry))
        feeds = db.session.scalar(sa.select(sa.func.count()).select_from(FeedSubmission))
    return {"duplicates": len(sent) - len(set(sent)), "lost": len(ours - set(sent)),
            "statuses": statuses, "unbalanced": unbalanced, "entries": entries,
            "feeds": feeds, "amazon_feeds": len(emulator.state()["feeds"]),
            "throttled": emulator.state()["throttled"]}


def run(admin_url: str, n: int, workers: int, speed: float,
        progress: Callable[[str, int, int], None]) -> dict:
    import redis

    from hub.sandbox import SandboxServer

    database_url = fresh_database(admin_url, "homing_bench_pipeline")
    redis.Redis.from_url(REDIS_DB_URL).flushdb()
    sandbox = SandboxServer().start()
    sandbox.emulator.set_speed(speed)
    sandbox.emulator.delays.update(queue=30, processing=300)  # minutes at Amazon, seconds here
    app = _app(database_url, REDIS_DB_URL, sandbox.url, speed)
    try:
        t0 = time.perf_counter()
        fixtures = seed(app, n, lambda d, t: progress("seed", d, t))
        seeded = time.perf_counter() - t0
        sandbox.emulator.add_orders(fixtures)
        delivered = deliver_outbox(app, workers, database_url, REDIS_DB_URL)
        drained, runs = drain(app, n, lambda d, t: progress("drain", d, t))
        result = checks(app, sandbox.emulator)
    finally:
        sandbox.stop()
    return {**result, "n": n, "workers": workers, "speed": speed, "seed_s": seeded,
            "deliver_s": delivered, "drain_s": drained, "runs": runs,
            "total_s": delivered + drained}


def report(r: dict) -> list[str]:
    ok = r["duplicates"] == 0 and r["lost"] == 0 and r["unbalanced"] == 0 and \
        r["statuses"].get("succeeded", 0) == r["n"]
    return [
        f"returns accepted            {r['n']:,} (seeded in {r['seed_s']:.1f} s)",
        f"outbox to RQ, {r['workers']} workers     {r['deliver_s']:.1f} s "
        f"({2 * r['n'] / r['deliver_s']:.0f} messages/s)",
        f"drain to Amazon             {r['drain_s']:.1f} s wall at sandbox speed "
        f"{r['speed']:g}x = {r['drain_s'] * r['speed'] / 60:.1f} min of Amazon time, "
        f"{r['runs']} push runs",
        f"throughput                  {r['n'] / r['total_s']:.0f} refunds/s end to end",
        f"feeds used                  {r['feeds']} ({r['amazon_feeds']} at Amazon), "
        f"429s from Amazon: {sum(r['throttled'].values())}",
        f"refund states               {r['statuses']}",
        f"journal entries             {r['entries']:,}, unbalanced: {r['unbalanced']}",
        f"duplicates at Amazon        {r['duplicates']}",
        f"refunds lost                {r['lost']}",
        "checks                      " + ("PASS" if ok else "FAIL"),
    ]
