"""What must hold after a fault campaign, checked against both witnesses: Homing's database
and Amazon's own record (the sandbox's ``/_emu/state``: every feed created, what each carried,
every adjustment applied and every refund Amazon made itself).

``gather`` reads the facts; ``evaluate`` is pure (no database, no HTTP) and returns one
Check per invariant, so the rules themselves are unit-tested on hand-made facts."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

PAID = ("succeeded", "settled")  # Homing says its own feed refunded the shopper
NOT_OURS = ("failed", "amazon_refunded", "manual")  # Homing says it did not refund
OPEN_REFUND = ("pending", "queued", "submitting", "submitted")
UNFINISHED_SUBMISSION = ("building", "uploaded", "creating", "submitted")
OUTBOX_DONE = ("delivered", "dead")


@dataclass
class Facts:
    now: datetime
    # refund id -> {"status", "order", "submission", "lines": [(adjustment id, item code)],
    #               "amount"}
    refunds: dict[int, dict]
    submissions: list[dict]  # rows of amazon_feed_submissions
    known_feed_ids: set[str]  # every feed id Homing stores (submissions, amazon_feeds, ...)
    outbox: list[dict]  # id, topic, status, next_attempt_at, attempts, last_error, payload
    # refund id -> [{"key", "balanced", "clearing_net"}]; clearing_net = credit - debit
    journal: dict[int, list[dict]]
    amazon: dict  # the sandbox's /_emu/state


@dataclass
class Check:
    name: str
    passed: bool
    figure: str
    examples: list = field(default_factory=list)


def _applied_by_line(amazon: dict) -> dict[str, list[dict]]:
    by_line: dict[str, list[dict]] = defaultdict(list)
    for item in amazon.get("applied", []):
        by_line[item["merchant_adjustment_item_id"]].append(item)
    return by_line


def _processed_feeds_by_line(amazon: dict) -> dict[str, set[str]]:
    """Adjustment id -> feeds Amazon processed (DONE) that carried it, applied or not."""
    carried: dict[str, set[str]] = defaultdict(set)
    for feed in amazon.get("feeds", []):
        if feed.get("processingStatus") != "DONE":
            continue
        for message in feed.get("messages", []):
            for line in message.get("merchant_adjustment_item_ids", []):
                carried[line].add(feed["feedId"])
    return carried


def _own_by_item(amazon: dict) -> dict[tuple[str, str], int]:
    own: dict[tuple[str, str], int] = defaultdict(int)
    for refund in amazon.get("own_refunds", []):
        own[(refund["amazon_order_id"], refund["item_code"])] += sum(
            refund["charges"].values())
    return own


def waiting_submissions(facts: Facts) -> dict[int, str]:
    """Unfinished submissions parked with a reason Homing records (``waiting_reason``)."""
    return {s["id"]: s["waiting_reason"] for s in facts.submissions
            if s.get("status") in UNFINISHED_SUBMISSION and s.get("waiting_reason")}


def evaluate(facts: Facts) -> tuple[list[Check], dict]:
    applied = _applied_by_line(facts.amazon)
    carried = _processed_feeds_by_line(facts.amazon)
    own = _own_by_item(facts.amazon)
    checks: list[Check] = []

    def times_applied(refund: dict) -> list[int]:
        return [len(applied.get(line, [])) for line, _code in refund["lines"]]

    unpaid = [r for r, f in facts.refunds.items() if f["status"] in PAID
              and any(n == 0 for n in times_applied(f))]
    doubled = [r for r, f in facts.refunds.items() if f["status"] in PAID
               and any(n > 1 for n in times_applied(f))]
    paid = sum(1 for f in facts.refunds.values() if f["status"] in PAID)
    checks.append(Check(
        "exactly one adjustment at Amazon per refund Homing calls paid",
        not unpaid and not doubled,
        f"{paid} paid: {paid - len(unpaid) - len(doubled)} once, {len(unpaid)} never "
        f"applied (shopper not paid), {len(doubled)} applied more than once",
        (unpaid + doubled)[:10]))

    wrongly = [r for r, f in facts.refunds.items() if f["status"] in NOT_OURS
               and any(n > 0 for n in times_applied(f))]
    checks.append(Check(
        "no adjustment at Amazon for refunds Homing says it did not refund", not wrongly,
        f"{len(wrongly)} failed/amazon_refunded/manual refunds applied by our feeds",
        wrongly[:10]))

    two_feeds = [r for r, f in facts.refunds.items()
                 if len({a["feed_id"] for line, _c in f["lines"]
                         for a in applied.get(line, [])}) > 1]
    checks.append(Check("no refund applied by two feeds", not two_feeds,
                        f"{len(two_feeds)} refunds applied by two or more feeds",
                        two_feeds[:10]))

    sent_twice = [r for r, f in facts.refunds.items()
                  if len({feed for line, _c in f["lines"] for feed in carried.get(line, ())})
                  > 1]
    checks.append(Check("no refund in two processed feeds", not sent_twice,
                        f"{len(sent_twice)} refunds carried by two or more processed feeds",
                        sent_twice[:10]))

    at_amazon = [f["feedId"] for f in facts.amazon.get("feeds", [])]
    unknown = sorted(set(at_amazon) - facts.known_feed_ids)
    checks.append(Check("no feed at Amazon Homing does not know", not unknown,
                        f"{len(at_amazon)} feeds at Amazon, {len(unknown)} unknown to Homing",
                        unknown[:10]))

    false_story = [r for r, f in facts.refunds.items() if f["status"] == "amazon_refunded"
                   and not any(own.get((f["order"], code)) for _line, code in f["lines"])]
    really = sum(1 for f in facts.refunds.values() if f["status"] == "amazon_refunded")
    checks.append(Check(
        "no refund called Amazon's own that Amazon did not make", not false_story,
        f"{really} amazon_refunded, {len(false_story)} of them without a refund by Amazon",
        false_story[:10]))

    checks.append(_journal_check(facts, applied, own))
    stuck_check, waiting = _stuck_check(facts)
    checks.append(stuck_check)

    dead = [m for m in facts.outbox if m["status"] == "dead"]
    figures = {
        "refunds": dict(Counter(f["status"] for f in facts.refunds.values())),
        "submissions": dict(Counter(s["status"] for s in facts.submissions)),
        "feeds_at_amazon": dict(Counter(f.get("processingStatus")
                                        for f in facts.amazon.get("feeds", []))),
        "adjustments_applied": len(facts.amazon.get("applied", [])),
        "amazon_own_refunds": len(facts.amazon.get("own_refunds", [])),
        "outbox": dict(Counter(m["status"] for m in facts.outbox)),
        "waiting_visible": waiting,
        "dead_letters": [{k: m[k] for k in ("id", "topic", "payload", "attempts",
                                            "last_error")} for m in dead],
    }
    return checks, figures


def _journal_check(facts: Facts, applied: dict, own: dict) -> Check:
    """One refund entry per refund, every entry balanced, and for every refund Homing has
    finished with, the journal's net on the clearing account = what Amazon paid for it."""
    missing, extra, unbalanced, wrong_net = [], [], [], []
    for refund_id, refund in facts.refunds.items():
        entries = facts.journal.get(refund_id, [])
        main = [e for e in entries if e["key"] == f"refund:{refund_id}"]
        if not main:
            missing.append(refund_id)
        elif len(main) > 1:
            extra.append(refund_id)
        if any(not e["balanced"] for e in entries):
            unbalanced.append(refund_id)
        if refund["status"] in OPEN_REFUND or not main:
            continue
        paid = sum(sum(a["charges"].values()) for line, _c in refund["lines"]
                   for a in applied.get(line, []))
        if refund["status"] == "amazon_refunded":
            paid += sum(own.get((refund["order"], code), 0) for _l, code in refund["lines"])
        if refund["status"] == "manual":
            paid = refund["amount"]  # paid by finance, not by Amazon
        if sum(e["clearing_net"] for e in entries) != paid:
            wrong_net.append(refund_id)
    bad = missing + extra + unbalanced + wrong_net
    return Check("one balanced journal entry per refund, netting to what Amazon paid", not bad,
                 f"{len(facts.refunds)} refunds: {len(missing)} without an entry, {len(extra)} "
                 f"with two, {len(unbalanced)} unbalanced, {len(wrong_net)} whose journal "
                 "differs from what Amazon paid", bad[:10])


def _stuck_check(facts: Facts) -> tuple[Check, dict]:
    waiting_subs = waiting_submissions(facts)
    waiting_pairs = {(s["seller_id"], s["marketplace_id"]) for s in facts.submissions
                     if s["id"] in waiting_subs}
    stuck_refunds, waiting_refunds = [], []
    for refund_id, refund in facts.refunds.items():
        if refund["status"] not in OPEN_REFUND:
            continue
        parked = refund.get("submission") in waiting_subs or (
            refund["status"] == "queued" and refund.get("pair") in waiting_pairs)
        (waiting_refunds if parked else stuck_refunds).append(refund_id)
    stuck_subs = [s["id"] for s in facts.submissions
                  if s["status"] in UNFINISHED_SUBMISSION and s["id"] not in waiting_subs]
    stuck_messages, retrying = [], []
    for message in facts.outbox:
        if message["status"] in OUTBOX_DONE:
            continue
        due = message["next_attempt_at"] is None or message["next_attempt_at"] <= facts.now
        (stuck_messages if due else retrying).append(message["id"])
    waiting = {"submissions": waiting_subs, "refunds": len(waiting_refunds),
               "outbox_retrying_later": len(retrying)}
    ok = not stuck_refunds and not stuck_subs and not stuck_messages
    return Check("nothing stuck (unless visibly waiting)", ok,
                 f"{len(stuck_refunds)} refunds open, {len(stuck_subs)} submissions "
                 f"unfinished, {len(stuck_messages)} outbox messages past due; visibly "
                 f"waiting: {len(waiting_refunds)} refunds, {len(waiting_subs)} submissions, "
                 f"{len(retrying)} messages retrying later",
                 (stuck_refunds[:5] + [f"submission {s}" for s in stuck_subs[:3]]
                  + [f"outbox {m}" for m in stuck_messages[:5]])), waiting


# --- reading the facts ---------------------------------------------------------------------------

def gather(engine: sa.Engine, amazon: dict, now: datetime) -> Facts:
    """Read Homing's side from the scratch database; the schema is read as it is (tables
    and columns a newer push adds, such as amazon_feeds or waiting_reason, are used when
    there)."""
    inspector = sa.inspect(engine)
    tables = set(inspector.get_table_names())
    with engine.connect() as conn:
        refunds = {}
        for row in conn.execute(sa.text(
                "SELECT r.id, r.status, r.amount, r.feed_submission_id, r.seller_id, "
                "r.marketplace_id, o.external_id FROM refunds r "
                "JOIN orders o ON o.id = r.order_id")).mappings():
            refunds[row["id"]] = {"status": row["status"], "order": row["external_id"],
                                  "submission": row["feed_submission_id"], "lines": [],
                                  "amount": row["amount"],
                                  "pair": (row["seller_id"], row["marketplace_id"])}
        for refund_id, adjustment, code in conn.execute(sa.text(
                "SELECT rl.refund_id, rl.adjustment_item_id, ol.external_item_id "
                "FROM refund_lines rl JOIN order_lines ol ON ol.id = rl.order_line_id")):
            refunds[refund_id]["lines"].append((adjustment, code))
        submissions = [dict(row) for row in conn.execute(
            sa.text("SELECT * FROM amazon_feed_submissions")).mappings()]
        known = {s["feed_id"] for s in submissions if s.get("feed_id")}
        for table in sorted(tables):
            columns = {c["name"] for c in inspector.get_columns(table)}
            if table != "amazon_feed_submissions" and table.startswith("amazon_") \
                    and "feed_id" in columns:
                known |= {v for (v,) in conn.execute(sa.text(f'SELECT feed_id FROM "{table}"'))
                          if v}
        outbox = [dict(row) for row in conn.execute(sa.text(
            "SELECT id, topic, status, attempts, next_attempt_at, last_error, payload "
            "FROM outbox_messages ORDER BY id")).mappings()]
        clearing = conn.execute(sa.text(
            "SELECT code FROM accounts WHERE role = 'amazon_clearing'")).scalar() or "1210"
        journal: dict[int, list[dict]] = defaultdict(list)
        for row in conn.execute(sa.text(
                "SELECT e.id, e.source_id, e.idempotency_key, "
                "sum(l.debit) AS debit, sum(l.credit) AS credit, "
                "sum(CASE WHEN l.account_code = :clearing THEN l.credit - l.debit ELSE 0 END) "
                "AS net FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id "
                "WHERE e.source_type = 'refund' GROUP BY e.id"), {"clearing": clearing}
                ).mappings():
            journal[row["source_id"]].append({"key": row["idempotency_key"],
                                              "balanced": row["debit"] == row["credit"],
                                              "clearing_net": int(row["net"] or 0)})
    for message in outbox:
        if message["next_attempt_at"] is not None and message["next_attempt_at"].tzinfo is None:
            message["next_attempt_at"] = message["next_attempt_at"].replace(tzinfo=now.tzinfo)
    return Facts(now=now, refunds=refunds, submissions=submissions, known_feed_ids=known,
                 outbox=outbox, journal=dict(journal), amazon=amazon)


def report(checks: list[Check], figures: dict) -> list[str]:
    lines = [f"refunds                 {figures['refunds']}",
             f"feed submissions        {figures['submissions']}",
             f"feeds at Amazon         {figures['feeds_at_amazon']}",
             f"adjustments applied     {figures['adjustments_applied']} (Amazon's own refunds: "
             f"{figures['amazon_own_refunds']})",
             f"outbox                  {figures['outbox']}",
             f"waiting, visible        {figures['waiting_visible']}",
             f"dead letters            {len(figures['dead_letters'])}"]
    lines += [f"  dead: #{d['id']} {d['topic']} {d['payload']} after {d['attempts']} attempts: "
              f"{d['last_error'][:160]}" for d in figures["dead_letters"]]
    for check in checks:
        lines.append(f"{'PASS' if check.passed else 'FAIL'}  {check.name}: {check.figure}"
                     + (f" (e.g. {check.examples})" if not check.passed and check.examples
                        else ""))
    return lines
