"""Finance's story of one refund that went wrong, through the real app (gunicorn, the RQ
worker, PostgreSQL, the sandbox over HTTP): Amazon refuses it, HQ sees why and retries it once
the cause is fixed, Amazon pays, the settlement shows the money, and the journal ends with
what Amazon paid: the sum over the refund's entries on Amazon clearing.

Break (issue 14): the refusal's reversal was never taken back when the retry was paid, so the
journal summed to zero for money that had left; that step fails on the old ledger."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from hub.amazon.models import SettlementLine
from hub.ledger.models import JournalEntry
from hub.refunds.models import Refund
from hub.returns.models import ReturnAuthorization
from tests.integration.test_ledger_refused_refund import refund_journal_total
from tests.journeys.clerk_helpers import (
    DESKTOP,
    check_in_over_the_api,
    issue_return,
    new_order,
    sign_in_to_hq,
)


def _refund(stack, number: str) -> dict:
    """The refund of a return as finance reads it: status, amount, what the journal says
    left, and its entries."""
    with stack.session() as s:
        refund = s.scalar(sa.select(Refund).join(
            ReturnAuthorization, ReturnAuthorization.id == Refund.rma_id)
            .where(ReturnAuthorization.number == number))
        if refund is None:
            return {}
        entries = s.scalars(sa.select(JournalEntry).where(
            JournalEntry.source_type == "refund", JournalEntry.source_id == refund.id)
            .order_by(JournalEntry.id)).all()
        return {"id": refund.id, "status": refund.status, "amount": refund.amount,
                "failure": refund.failure_message, "journal": refund_journal_total(s, refund),
                "entries": [(e.memo, sum(ln.debit for ln in e.lines)) for e in entries],
                "items": {ln.adjustment_item_id for ln in refund.lines}}


def _until(stack, number: str, status: str, job: str = "amazon-push-refunds") -> dict:
    def reached():
        stack.run_job("outbox-relay")
        stack.run_job(job)
        found = _refund(stack, number)
        return found if found.get("status") == status else None

    return stack.wait_for(reached, timeout=90, what=f"refund of {number} {status}", every=1)


def _journal_settles(stack, number: str, expected: int) -> dict:
    def settled():
        stack.run_job("outbox-relay")
        found = _refund(stack, number)
        return found if found["journal"] == expected else None

    return stack.wait_for(settled, timeout=60, what=f"journal of {number} at {expected}")


def test_a_refund_amazon_refuses_is_retried_by_hq_paid_settled_and_journaled_as_paid(
        stack, emu, new_page, screenshot):
    order = new_order(stack)
    rma = issue_return(stack, order, item=1, reason="fit.too_small")
    # Amazon's copy of the order charged less tax than Homing's: the tax refund is more than
    # Amazon took, and Amazon refuses the adjustment (an over-refund).
    amazon = emu._order(order["order_id"])
    real_tax = {code: item["ItemTax"] for code, item in amazon["items"].items()}
    for item in amazon["items"].values():
        item["ItemTax"] = 1
    check_in_over_the_api(stack, rma)

    refused = _until(stack, rma["number"], "failed")
    assert "Tax" in refused["failure"]
    refused = _journal_settles(stack, rma["number"], 0)  # reversed: no money left
    assert len(refused["entries"]) == 2

    page = new_page(viewport=DESKTOP)
    sign_in_to_hq(page, stack)
    page.goto(f"{stack.url}/hq/queues#failed_refunds")
    row = page.locator(f"#failed_refunds tr:has(form[action$='/refunds/{refused['id']}/retry'])")
    assert "Tax" in row.inner_text()
    screenshot(page, "hq-queues", full_page=False)
    for code, tax in real_tax.items():  # Amazon's order is put right; HQ retries
        amazon["items"][code]["ItemTax"] = tax
    row.locator("button").click()
    page.wait_for_selector("text=queued", state="attached")

    paid = _until(stack, rma["number"], "succeeded")
    applied = [a for a in emu.state()["applied"]
               if a["merchant_adjustment_item_id"] in paid["items"]]
    amazon_paid = sum(v for a in applied for v in a["charges"].values())
    assert amazon_paid == paid["amount"]
    # Break: without the repost the journal stayed at 0 while Amazon paid the shopper.
    paid = _journal_settles(stack, rma["number"], amazon_paid)
    assert [memo.split(":")[0].split(" ")[0] for memo, _total in paid["entries"]] == \
        ["Refund", "Reversal", "Refund"]

    # Amazon's settlement: its refund lines for this return add up to the journal.
    emu.advance(3600)
    closed = httpx.post(f"{stack.sandbox_url}/_emu/settlement/close", json={}, timeout=30)
    assert closed.status_code == 200, closed.text
    settled = _until(stack, rma["number"], "settled", job="amazon-pull-settlements")
    with stack.session() as s:
        item_price = s.scalar(sa.select(sa.func.sum(SettlementLine.amount)).where(
            SettlementLine.refund_id == settled["id"], SettlementLine.source == "settlement",
            SettlementLine.amount_type == "ItemPrice"))
    assert -item_price == amazon_paid == settled["journal"]

    page.goto(f"{stack.url}/hq/returns/{rma['number']}")
    assert page.locator("[data-journal-total]").get_attribute("data-journal-total") == \
        str(amazon_paid)
    timeline = page.inner_text("ol.timeline")
    for step in ("Amazon refused the refund", "Refund retried by HQ",
                 "Journal: refund reversed", "Journal: refund posted again",
                 "Amazon confirmed the refund", "In Amazon's settlement"):
        assert step in timeline, step
    screenshot(page, "hq-return-finance")
