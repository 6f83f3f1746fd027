"""HQ's day in the console, through the real app: sign in, read the dashboard, find a return
by any code the shopper or the clerk reads out, work each queue, and read a return's whole
story in the drill-down and the audit log.

Each step that once broke says so in a comment (issue 14); the old code fails there."""

from __future__ import annotations

import re

import httpx

from tests.journeys.clerk_helpers import (
    DESKTOP,
    check_in_over_the_api,
    issue_return,
    new_order,
    sign_in_to_hq,
)


def _search(page, stack, typed: str) -> None:
    page.goto(f"{stack.url}/hq/")
    page.fill("#q", typed)
    page.press("#q", "Enter")
    page.wait_for_load_state()


def test_hq_signs_in_and_reads_the_chains_dashboard(stack, new_page, screenshot):
    page = new_page(viewport=DESKTOP)
    page.goto(f"{stack.url}/hq/")
    page.wait_for_url("**/hq/login**")
    sign_in_to_hq(page, stack)
    assert page.locator(".kpi").count() >= 4
    assert page.locator("svg.chart").count() >= 3
    screenshot(page, "hq-dashboard")


def test_hq_finds_a_return_by_every_code_the_shopper_and_the_clerk_see(
        stack, new_page, screenshot):
    order = new_order(stack)
    both = issue_return(stack, order, item=0, quantity=2)  # the supervisor approves it
    shirt = issue_return(stack, order, item=1)
    intake = check_in_over_the_api(stack, both)
    page = new_page(viewport=DESKTOP)
    sign_in_to_hq(page, stack)
    printed = both["voucher"]["short_code"]  # XXXX-XXXX-XX, as on the voucher
    assert re.fullmatch(r"\w{4}-\w{4}-\w{2}", printed)
    # Break: the voucher code as printed found nothing; only the undashed form did.
    for typed in (both["number"], both["number"].lower(), printed, printed.lower(),
                  printed.replace("-", ""), printed.replace("-", " "),
                  intake["receipt_number"], str(intake["id"])):
        _search(page, stack, typed)
        assert page.url.endswith(f"/hq/returns/{both['number']}"), typed
    # Break: an order with several returns jumped to one of them.
    for typed in (order["order_id"], order["order_id"].replace("-", "")):
        _search(page, stack, typed)
        assert page.locator(f"[data-return='{both['number']}']").count() == 1, typed
        assert page.locator(f"[data-return='{shirt['number']}']").count() == 1, typed
    screenshot(page, "hq-search")
    page.click(f"a:text-is('{both['number']}')")
    page.wait_for_url(f"**/hq/returns/{both['number']}")

    # Break: the timeline was raw: cents, user ids, JSON, UTC.
    timeline = page.inner_text("ol.timeline")
    assert "Check-in completed" in timeline and "Return authorised" in timeline
    assert "Approved by: Sam Supervisor" in timeline
    assert re.search(r"Refund: \$\d{3}\.\d\d", timeline)
    assert "{" not in timeline and "=" not in timeline
    assert re.search(r"\d{1,2}:\d\d:\d\d\s[AP]M E[SD]T", timeline)  # the store's time
    screenshot(page, "hq-return")
    page.goto(f"{stack.url}/hq/returns/{both['number']}?lang=ja")
    assert "受付完了" in page.inner_text("ol.timeline")
    page.goto(f"{stack.url}/hq/returns/{both['number']}?lang=en")

    page.goto(f"{stack.url}/hq/audit?subject=intake:{intake['id']}")
    log = page.inner_text("table.audit")
    assert "Check-in completed" in log and "Sam Supervisor" in log
    assert re.search(r"\$\d{3}\.\d\d", log) and "{" not in log
    assert page.locator(f"table.audit a[href='/hq/returns/{both['number']}']").count() >= 1
    screenshot(page, "hq-audit", full_page=False)


def test_hq_works_each_queue(stack, emu, new_page, screenshot):
    # A shopper returning a sixth item within days: serial returner and velocity, for HQ.
    socks = new_order(stack, lines=[{
        "item_id": f"8{abs(hash(stack.url)) % 10**9:09d}0001", "sku": "SOCK-6",
        "title": "Merino socks", "category": "apparel", "size_class": "small", "quantity": 6,
        "item_price": "60.00", "item_tax": "5.33"}])
    returns = [issue_return(stack, socks) for _ in range(6)]
    flagged = returns[-1]
    # Amazon refunds one pair itself (an A-to-z claim) that Homing never refunded: the
    # settlement has a refund line no Homing refund matches.
    emu.amazon_refund(socks["order_id"], socks["lines"][0]["item_id"], {"Principal": 1000})
    emu.advance(3600)
    assert httpx.post(f"{stack.sandbox_url}/_emu/settlement/close", json={},
                      timeout=30).status_code == 200
    stack.run_job("amazon-pull-settlements")

    page = new_page(viewport=DESKTOP)
    sign_in_to_hq(page, stack)
    page.goto(f"{stack.url}/hq/queues")
    screenshot(page, "hq-queue-overview", full_page=False)

    risk = page.locator(f"#risk tr:has(a:text-is('{flagged['number']}'))")
    assert "serial_returner" in risk.inner_text()
    risk.locator("input[name=note]").fill("Spoke to the shopper: six sizes ordered on purpose")
    risk.locator("button[value=clear]").click()
    page.wait_for_url("**/hq/queues**")
    assert page.locator(f"#risk a:text-is('{flagged['number']}')").count() == 0

    mismatch = page.locator("#mismatches tr", has_text="missing_in_homing").first
    assert mismatch.count() == 1
    mismatch.locator("input[name=note]").fill("A-to-z claim, Amazon's own refund")
    mismatch.locator("button").click()
    page.wait_for_url("**/hq/queues**")

    page.goto(f"{stack.url}/hq/audit?action=return.hq_reviewed")
    log = page.inner_text("table.audit")
    assert "Reviewed by HQ" in log and "Spoke to the shopper" in log and "cleared" in log
    page.goto(f"{stack.url}/hq/audit?action=reconciliation.resolved")
    assert "Settlement difference resolved" in page.inner_text("table.audit")
