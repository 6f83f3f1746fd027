"""A refund Amazon refuses, retried by HQ and paid: the journal ends with the money that left.

The refusal reverses the refund's entry; Amazon paying the retry posts it again (an effect of
entering "succeeded"), so the sum over the refund's entries on the clearing account is what
Amazon paid, whatever order the outbox delivers the messages in."""

from __future__ import annotations

import sqlalchemy as sa

from hub.amazon import service, sync
from hub.amazon.models import SettlementLine
from hub.audit.service import Actor
from hub.hq import queues
from hub.hq.access import Scope
from hub.ledger.models import JournalEntry, JournalLine
from hub.ledger.service import chart
from hub.outbox import service as outbox
from hub.refunds.models import Refund
from tests.integration.amazon_helpers import completed_refund, connector

ORDER = "114-1234567-1234567"
FINANCE = Scope(None, "finance", None, "Fiona Finance")
ACTOR = Actor("user", None, "Fiona Finance")


def _push(session, sandbox) -> None:
    conn = connector(sandbox)
    service.push(session, lambda seller: conn)
    session.commit()


def _drain(session) -> None:
    outbox.drain(session)
    session.commit()


def _refuse_tax(emu) -> dict:
    """Amazon's order charged less tax than Homing believes: the tax is an over-refund."""
    items = emu.orders[ORDER]["items"]
    saved = {code: item["ItemTax"] for code, item in items.items()}
    for item in items.values():
        item["ItemTax"] = 1
    return saved


def _restore_tax(emu, saved: dict) -> None:
    for code, tax in saved.items():
        emu.orders[ORDER]["items"][code]["ItemTax"] = tax


def _retry(session, refund: Refund) -> None:
    queues.retry_refund(session, FINANCE, ACTOR, refund.id)
    session.commit()


def refund_journal_total(session, refund: Refund) -> int:
    """The sum over the refund's entries on Amazon clearing: the money the ledger says left."""
    return int(session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(JournalLine.credit - JournalLine.debit), 0))
        .join(JournalEntry).where(JournalEntry.source_type == "refund",
                                  JournalEntry.source_id == refund.id,
                                  JournalLine.account_code == chart(session)["amazon_clearing"])))


def _entries(session, refund: Refund) -> list[JournalEntry]:
    return list(session.scalars(sa.select(JournalEntry).where(
        JournalEntry.source_type == "refund", JournalEntry.source_id == refund.id)
        .order_by(JournalEntry.id)))


def test_refused_then_retried_and_paid_the_journal_sums_to_what_amazon_paid(
        client, api_key, session, sandbox, emu):
    refund = completed_refund(client, api_key, session, sandbox)
    assert refund_journal_total(session, refund) == refund.amount  # posted at the counter
    saved = _refuse_tax(emu)
    _push(session, sandbox)
    session.refresh(refund)
    assert refund.status == "failed"
    _drain(session)
    assert refund_journal_total(session, refund) == 0  # reversed: no money left

    _restore_tax(emu, saved)  # HQ had the order's tax corrected, then retries
    _retry(session, refund)
    _push(session, sandbox)
    session.refresh(refund)
    assert refund.status == "succeeded"
    _drain(session)
    assert [e.memo.split(":")[0].split(" ")[0] for e in _entries(session, refund)] == \
        ["Refund", "Reversal", "Refund"]
    assert refund_journal_total(session, refund) == refund.amount
    paid = sum(a["charges"].get(k, 0) for a in emu.state()["applied"]
               for k in ("Principal", "Tax", "Shipping", "ShippingTax"))
    assert refund_journal_total(session, refund) == paid
    for entry in _entries(session, refund):
        assert sum(ln.debit for ln in entry.lines) == sum(ln.credit for ln in entry.lines)

    # The settlement proves it: what Amazon gave back to the shopper (ItemPrice lines; the
    # commission lines are Amazon's fees to the seller) adds up to the journal.
    emu.advance(600)
    sync.pull_financial_events(session, connector(sandbox), "ATVPDKIKX0DER", emu.now())
    emu.close_settlement()
    sync.pull_settlements(session, connector(sandbox), "ATVPDKIKX0DER", emu.now())
    session.commit()
    session.refresh(refund)
    assert refund.status == "settled"
    settled = session.scalar(sa.select(sa.func.sum(SettlementLine.amount)).where(
        SettlementLine.refund_id == refund.id, SettlementLine.source == "settlement",
        SettlementLine.amount_type == "ItemPrice"))
    assert -settled == refund_journal_total(session, refund)
    _drain(session)
    assert refund_journal_total(session, refund) == refund.amount  # settling posts nothing


def test_messages_delivered_late_or_twice_leave_the_journal_right(
        client, api_key, session, sandbox, emu):
    refund = completed_refund(client, api_key, session, sandbox)
    saved = _refuse_tax(emu)
    _push(session, sandbox)  # refused; the reversal message waits (worker down)
    _restore_tax(emu, saved)
    _retry(session, refund)
    _push(session, sandbox)  # paid before the reversal was ever delivered
    session.refresh(refund)
    assert refund.status == "succeeded"
    _drain(session)  # the reversal, then the repost: each finds the journal already right
    assert refund_journal_total(session, refund) == refund.amount
    assert len(_entries(session, refund)) == 1
    _drain(session)
    assert refund_journal_total(session, refund) == refund.amount


def test_refused_twice_is_reversed_once(client, api_key, session, sandbox, emu):
    refund = completed_refund(client, api_key, session, sandbox)
    saved = _refuse_tax(emu)
    for _ in range(2):
        _push(session, sandbox)
        _drain(session)
        assert refund_journal_total(session, refund) == 0  # never below what left
        session.refresh(refund)
        _retry(session, refund)
    _restore_tax(emu, saved)
    _push(session, sandbox)
    _drain(session)
    assert refund_journal_total(session, refund) == refund.amount
    assert len(_entries(session, refund)) == 3  # refund, one reversal, refund again


def test_a_refund_paid_first_time_gets_no_extra_message(client, api_key, session, sandbox, emu):
    refund = completed_refund(client, api_key, session, sandbox)
    _push(session, sandbox)
    session.refresh(refund)
    assert refund.status == "succeeded"
    keys = session.scalars(sa.text("SELECT dedupe_key FROM outbox_messages")).all()
    assert not [k for k in keys if ":repost:" in k]
    _drain(session)
    assert refund_journal_total(session, refund) == refund.amount


def test_correction_rule():
    from hub.ledger import rules
    from hub.ledger.service import refund_journal_total as service_total  # noqa: F401

    postings = rules.refund_postings({"Principal": 1000, "Tax": 80}, "amazon_clearing")
    assert rules.refund_correction(postings, total=1080, carried=1080, target=1080) == []
    assert rules.refund_correction(postings, total=1080, carried=0, target=1080) == postings
    assert rules.refund_correction(postings, total=1080, carried=1080, target=0) == \
        rules.reversal(postings)
    assert rules.owed("failed", 1080) == 0 and rules.owed("succeeded", 1080) == 1080
    import pytest

    with pytest.raises(ValueError):
        rules.refund_correction(postings, total=1080, carried=500, target=1080)
