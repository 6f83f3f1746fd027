"""The campaign's invariants on hand-made facts: each one fails on the breach it names and
only on it (so a campaign that PASSes means what it says)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.faults.invariants import Facts, evaluate

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
PAIR = ("A1DEMOSELLER", "ATVPDKIKX0DER")


def _refund(status: str, n: int, submission: int | None = 1) -> dict:
    return {"status": status, "order": f"114-0000000-{n:07d}", "submission": submission,
            "lines": [(f"B{n}-1", f"{n:014d}")], "amount": 1000, "pair": PAIR}


def _applied(n: int, feed: str = "F1") -> dict:
    return {"feed_id": feed, "merchant_adjustment_item_id": f"B{n}-1",
            "charges": {"Principal": 900, "Tax": 100}}


def _journal(n: int, net: int = 1000, reversed_: bool = False) -> list[dict]:
    entries = [{"key": f"refund:{n}", "balanced": True, "clearing_net": net}]
    if reversed_:
        entries.append({"key": f"refund:{n}:reversal:1", "balanced": True,
                        "clearing_net": -net})
    return entries


def _facts(**changes) -> Facts:
    """Two refunds paid once by feed F1, one refused (reversed), all finished."""
    facts = Facts(
        now=NOW,
        refunds={1: _refund("succeeded", 1), 2: _refund("succeeded", 2),
                 3: _refund("failed", 3)},
        submissions=[{"id": 1, "status": "done", "feed_id": "F1", "seller_id": PAIR[0],
                      "marketplace_id": PAIR[1]}],
        known_feed_ids={"F1"},
        outbox=[{"id": 1, "topic": "refund.submit", "status": "delivered",
                 "next_attempt_at": NOW, "attempts": 1, "last_error": "", "payload": {}}],
        journal={1: _journal(1), 2: _journal(2), 3: _journal(3, reversed_=True)},
        amazon={"feeds": [{"feedId": "F1", "processingStatus": "DONE", "messages": [
            {"merchant_adjustment_item_ids": [f"B{n}-1"]} for n in (1, 2, 3)]}],
            "applied": [_applied(1), _applied(2)], "own_refunds": []})
    for key, value in changes.items():
        setattr(facts, key, value)
    return facts


def _names(facts: Facts) -> list[str]:
    return sorted(c.name for c in evaluate(facts)[0] if not c.passed)


def test_a_clean_outcome_passes_everything():
    checks, figures = evaluate(_facts())
    assert all(c.passed for c in checks), [c for c in checks if not c.passed]
    assert figures["refunds"] == {"succeeded": 2, "failed": 1}


def test_a_refund_applied_twice_by_two_feeds():
    facts = _facts()
    facts.amazon["feeds"].append({"feedId": "F2", "processingStatus": "DONE", "messages": [
        {"merchant_adjustment_item_ids": ["B1-1"]}]})
    facts.amazon["applied"].append(_applied(1, "F2"))
    assert _names(facts) == [
        "exactly one adjustment at Amazon per refund Homing calls paid",
        "no feed at Amazon Homing does not know", "no refund applied by two feeds",
        "no refund in two processed feeds",
        "one balanced journal entry per refund, netting to what Amazon paid"]


def test_a_refund_called_paid_that_amazon_never_applied():
    facts = _facts()
    facts.amazon["applied"] = [_applied(1)]
    assert _names(facts) == [
        "exactly one adjustment at Amazon per refund Homing calls paid",
        "one balanced journal entry per refund, netting to what Amazon paid"]


def test_a_refund_sent_again_and_refused_is_in_two_processed_feeds_only():
    facts = _facts()
    facts.amazon["feeds"].append({"feedId": "F2", "processingStatus": "DONE", "messages": [
        {"merchant_adjustment_item_ids": ["B2-1"]}]})
    facts.known_feed_ids.add("F2")
    assert _names(facts) == ["no refund in two processed feeds"]
    # A feed Amazon never processed (FATAL) carried nothing anywhere.
    facts.amazon["feeds"][-1]["processingStatus"] = "FATAL"
    assert _names(facts) == []


def test_amazon_refunded_without_amazon_refunding_is_a_false_story():
    facts = _facts()
    facts.refunds[3] = _refund("amazon_refunded", 3)
    facts.journal[3] = _journal(3)
    assert "no refund called Amazon's own that Amazon did not make" in _names(facts)
    facts.amazon["own_refunds"] = [{"amazon_order_id": "114-0000000-0000003",
                                    "item_code": f"{3:014d}", "charges": {"Principal": 1000}}]
    assert _names(facts) == []


def test_an_adjustment_for_a_refund_homing_calls_failed():
    facts = _facts()
    facts.amazon["applied"].append(_applied(3))
    assert "no adjustment at Amazon for refunds Homing says it did not refund" in \
        _names(facts)


def test_journal_missing_doubled_or_unbalanced():
    for journal in ({1: _journal(1), 2: _journal(2)},
                    {1: _journal(1) * 2, 2: _journal(2), 3: _journal(3, True)},
                    {1: [{**_journal(1)[0], "balanced": False}], 2: _journal(2),
                     3: _journal(3, True)}):
        assert _names(_facts(journal=journal)) == [
            "one balanced journal entry per refund, netting to what Amazon paid"]


def test_stuck_versus_visibly_waiting():
    facts = _facts()
    facts.refunds[4] = _refund("submitted", 4, submission=2)
    facts.journal[4] = _journal(4)
    facts.submissions.append({"id": 2, "status": "creating", "feed_id": None,
                              "seller_id": PAIR[0], "marketplace_id": PAIR[1],
                              "waiting_reason": ""})
    facts.outbox.append({"id": 2, "topic": "refund.submit", "status": "enqueued",
                         "next_attempt_at": NOW - timedelta(minutes=5), "attempts": 0,
                         "last_error": "", "payload": {}})
    assert _names(facts) == ["nothing stuck (unless visibly waiting)"]
    # Parked for a reason Homing records, and the message retrying later: visible, not stuck.
    facts.submissions[-1]["waiting_reason"] = "feed_list_settling"
    facts.outbox[-1].update(status="failed", next_attempt_at=NOW + timedelta(minutes=1))
    checks, figures = evaluate(facts)
    assert all(c.passed for c in checks)
    assert figures["waiting_visible"] == {"submissions": {2: "feed_list_settling"},
                                          "refunds": 1, "outbox_retrying_later": 1}


def test_dead_letters_are_listed():
    facts = _facts()
    facts.outbox.append({"id": 9, "topic": "finance.journal", "status": "dead", "attempts": 8,
                         "next_attempt_at": NOW, "last_error": "boom", "payload": {"x": 1}})
    _checks, figures = evaluate(facts)
    assert figures["dead_letters"] == [{"id": 9, "topic": "finance.journal",
                                        "payload": {"x": 1}, "attempts": 8,
                                        "last_error": "boom"}]
