"""Refunds to Amazon through the built-in SP-API sandbox over real HTTP, with
python-amazon-sp-api: the scenarios of amazon-spapi.md §8.8."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from hub.amazon import service, sync
from hub.amazon.models import FeedSubmission, ReconciliationItem
from hub.ledger.models import JournalEntry
from hub.outbox import service as outbox
from hub.refunds.models import Refund, RefundAttempt
from tests.integration.amazon_helpers import SELLER, completed_refund, connector


def _push(session, sandbox, conn=None):
    conn = conn or connector(sandbox)
    return service.push(session, lambda seller: conn)


def _feeds(emu) -> list[dict]:
    return emu.state()["feeds"]


def test_happy_path_one_batched_feed_through_settlement(client, api_key, session, sandbox, emu):
    first = completed_refund(client, api_key, session, sandbox)
    second = completed_refund(client, api_key, session, sandbox, order_id="114-7654321-7654321",
                              seed=False)
    assert first.status == second.status == "queued"

    results = _push(session, sandbox)
    assert [r.status for r in results] == ["done"]  # created, polled and applied in one run
    assert len(_feeds(emu)) == 1  # both refunds in one feed, one message each
    session.expire_all()
    assert {r.status for r in session.scalars(sa.select(Refund))} == {"succeeded"}
    applied = emu.state()["applied"]
    ours = {ln.adjustment_item_id for r in (first, second) for ln in r.lines}
    assert {a["merchant_adjustment_item_id"] for a in applied} == ours
    assert sum(a["charges"]["Principal"] for a in applied) == sum(
        c["amount_minor"] for r in (first, second) for ln in r.lines for c in ln.components
        if c["type"] == "Principal")

    # Ledger: the refund and the dispositions were journalled, every entry balanced.
    outbox.drain(session)
    session.commit()
    entries = session.scalars(sa.select(JournalEntry)).all()
    assert {e.source_type for e in entries} == {"refund", "disposition"}
    for entry in entries:
        assert sum(ln.debit for ln in entry.lines) == sum(ln.credit for ln in entry.lines)

    # Amazon's money side: financial events, then the settlement cut, reconciled.
    emu.advance(600)
    assert sync.pull_financial_events(session, connector(sandbox), "ATVPDKIKX0DER",
                                      emu.now()) > 0
    emu.close_settlement()
    settled = sync.pull_settlements(session, connector(sandbox), "ATVPDKIKX0DER", emu.now())
    session.commit()
    assert len(settled) == 1
    outcomes = session.scalars(sa.select(ReconciliationItem.outcome)).all()
    assert outcomes and set(outcomes) == {"matched"}
    session.expire_all()
    assert {r.status for r in session.scalars(sa.select(Refund))} == {"settled"}
    from hub.amazon.models import SettlementLine

    paid_by = session.scalars(sa.select(SettlementLine.refund_id).where(
        SettlementLine.source == "settlement", SettlementLine.amount_type == "ItemPrice")).all()
    assert paid_by and set(paid_by) == {first.id, second.id}
    # A second pull finds nothing new and changes nothing.
    assert sync.pull_settlements(session, connector(sandbox), "ATVPDKIKX0DER", emu.now()) == []


def test_throttled_create_and_poll_resume_without_a_second_feed(client, api_key, session,
                                                                sandbox, emu):
    refund = completed_refund(client, api_key, session, sandbox)
    emu.inject("createFeed", 429, times=2)
    [result] = _push(session, sandbox)
    assert result.status == "uploaded" and "throttled" in result.detail
    [result] = _push(session, sandbox)
    assert result.status == "uploaded"
    assert _feeds(emu) == []

    emu.inject("getFeed", 429, times=1)
    [result] = _push(session, sandbox)
    assert result.status == "submitted" and "throttled" in result.detail
    [result] = _push(session, sandbox)
    assert result.status == "done"
    assert len(_feeds(emu)) == 1 and emu.throttled == {"createFeed": 2, "getFeed": 1}
    session.refresh(refund)
    assert refund.status == "succeeded"


def test_worker_killed_after_create_feed_submits_once(client, api_key, session, sandbox, emu):
    refund = completed_refund(client, api_key, session, sandbox)
    crashing = connector(sandbox)

    def crash(feed_id):
        raise SystemExit("worker killed after createFeed")

    crashing.after_create_feed = crash
    with pytest.raises(SystemExit):
        _push(session, sandbox, crashing)
    session.rollback()  # what the dead worker's transaction amounts to
    assert len(_feeds(emu)) == 1
    assert session.scalar(sa.select(FeedSubmission.status)) == "creating"

    [result] = _push(session, sandbox)  # a new worker: adopts the feed instead of re-creating
    assert result.status == "done"
    assert len(_feeds(emu)) == 1 and len(emu.state()["applied"]) == len(refund.lines)
    session.refresh(refund)
    assert refund.status == "succeeded"
    assert session.scalar(sa.select(FeedSubmission.feed_id)) == _feeds(emu)[0]["feedId"]


def test_processing_report_error_fails_the_refund_and_reverses_its_journal(
        client, api_key, session, sandbox, emu):
    refund = completed_refund(client, api_key, session, sandbox)
    # Amazon charged less tax than Homing believes: the tax refund is an over-refund.
    order = emu.orders["114-1234567-1234567"]
    for item in order["items"].values():
        item["ItemTax"] = 1
    [result] = _push(session, sandbox)
    assert result.status == "done"
    session.refresh(refund)
    assert refund.status == "failed" and refund.failure_code == "amazon_18004"
    assert "Tax" in refund.failure_message and "not eligible" in refund.failure_message
    attempts = session.scalars(sa.select(RefundAttempt.outcome)
                               .where(RefundAttempt.refund_id == refund.id)).all()
    assert attempts == ["submitted", "failed"]
    outbox.drain(session)
    session.commit()
    refund_entries = session.scalars(sa.select(JournalEntry)
                                     .where(JournalEntry.source_type == "refund")).all()
    assert len(refund_entries) == 2  # the refund and its reversal
    by_account: dict[str, int] = {}
    for entry in refund_entries:
        for ln in entry.lines:
            by_account[ln.account_code] = by_account.get(ln.account_code, 0) + ln.debit - \
                ln.credit
    assert set(by_account.values()) == {0}


def test_amazon_refunded_first_is_never_refunded_again(client, api_key, session, sandbox, emu):
    refund = completed_refund(client, api_key, session, sandbox)
    [line] = refund.lines
    code = "11111111111111"
    charges = {c["type"]: c["amount_minor"] for c in line.components if c["amount_minor"] > 0}
    emu.amazon_refund("114-1234567-1234567", code, charges, kind="a-to-z")
    emu.advance(600)
    # The financial events pulled before the push show the A-to-z claim: nothing is sent.
    sync.pull_financial_events(session, connector(sandbox), "ATVPDKIKX0DER", emu.now())
    session.commit()
    assert _push(session, sandbox) == []
    session.refresh(refund)
    assert refund.status == "amazon_refunded" and "A-to-z" in refund.failure_message
    assert _feeds(emu) == []


def test_amazon_refund_found_after_a_rejected_feed(client, api_key, session, sandbox, emu):
    both = [{"item_id": "11111111111111", "quantity": 2, "reason": "fit.too_small"}]
    refund = completed_refund(client, api_key, session, sandbox, lines=both)
    [line] = refund.lines  # both units: Amazon's auto-refund of the line leaves nothing
    charges = {c["type"]: c["amount_minor"] for c in line.components if c["amount_minor"] > 0}
    emu.amazon_refund("114-1234567-1234567", "11111111111111", charges, kind="auto")
    emu.advance(600)  # Amazon refunded a while ago; Homing has not pulled its finances since
    [result] = _push(session, sandbox)  # not pulled yet: sent, refused as an over-refund
    assert result.status == "done"
    session.refresh(refund)
    assert refund.status == "amazon_refunded" and "not eligible" in refund.failure_message
    assert len(emu.state()["applied"]) == 0


def test_fatal_feed_requeues_then_fails_after_the_limit(client, api_key, session, sandbox, emu):
    refund = completed_refund(client, api_key, session, sandbox)
    emu.flags["fatal_feeds"] = 5
    statuses = []
    for _ in range(service.RESUBMIT_LIMIT):
        [result] = _push(session, sandbox)
        statuses.append(result.status)
        session.refresh(refund)
    assert statuses == ["fatal"] * service.RESUBMIT_LIMIT
    assert refund.status == "failed" and refund.failure_code == "feed_fatal"
    assert len(_feeds(emu)) == service.RESUBMIT_LIMIT and emu.state()["applied"] == []


def test_token_expiry_mid_job_is_refreshed(client, api_key, session, sandbox, emu):
    refund = completed_refund(client, api_key, session, sandbox)
    emu.delays.update(processing=3600)  # the feed stays in progress
    [result] = _push(session, sandbox)
    assert result.status == "submitted"
    emu.expire_tokens()
    emu.advance(3601)
    [result] = _push(session, sandbox)
    assert result.status == "done"
    session.refresh(refund)
    assert refund.status == "succeeded"


def test_settlement_in_windows_1252_with_slash_dates(client, api_key, session, sandbox, emu):
    refund = completed_refund(client, api_key, session, sandbox)
    _push(session, sandbox)
    emu.advance(600)
    for line in emu.open_lines:
        line["sku"] = "CAFÉ-Ü"
    emu.close_settlement(date_format="slash", encoding="cp1252")
    sync.pull_settlements(session, connector(sandbox), "ATVPDKIKX0DER", emu.now())
    session.commit()
    from hub.amazon.models import SettlementLine

    lines = session.scalars(sa.select(SettlementLine).where(
        SettlementLine.source == "settlement")).all()
    assert lines and all(ln.posted_at is not None for ln in lines)
    session.refresh(refund)
    assert refund.status == "settled"


def test_seller_is_the_feed_merchant(client, api_key, session, sandbox, emu):
    refund = completed_refund(client, api_key, session, sandbox)
    assert refund.seller_id == SELLER
    _push(session, sandbox)
    [feed] = _feeds(emu)
    assert feed["feedType"] == "POST_PAYMENT_ADJUSTMENT_DATA"


def test_refunds_and_journal_over_the_api(client, api_key, session, sandbox, emu):
    refund = completed_refund(client, api_key, session, sandbox)
    _push(session, sandbox)
    outbox.drain(session)
    session.commit()
    finance = api_key("finance")

    listed = client.get("/api/v1/refunds?status=succeeded", headers=finance).get_json()
    assert [r["id"] for r in listed["items"]] == [refund.id]
    assert listed["items"][0]["feed_id"] == _feeds(emu)[0]["feedId"]
    one = client.get(f"/api/v1/refunds/{refund.id}", headers=finance).get_json()
    assert one["amount"] == "108.86" and one["status"] == "succeeded"
    assert [a["outcome"] for a in one["attempts"]] == ["submitted", "succeeded"]
    assert one["lines"][0]["components"]["Principal"] == "99.99"
    assert client.get("/api/v1/refunds?status=bogus", headers=finance).status_code == 400
    assert client.get("/api/v1/refunds", headers=api_key("clerk", "NYC-1")).status_code == 403

    journal = client.get("/api/v1/journal?source=refund", headers=finance).get_json()
    [entry] = journal["items"]
    debits = sum(float(ln["debit"]) for ln in entry["lines"])
    assert round(debits, 2) == round(sum(float(ln["credit"]) for ln in entry["lines"]), 2)
    assert round(debits, 2) == 108.86
    csv_text = client.get("/api/v1/journal?format=csv", headers=finance).get_data(as_text=True)
    assert csv_text.splitlines()[0].startswith("entry_id,created_at,source_type")
    assert "1210" in csv_text  # Amazon clearing is credited
    bad = client.get("/api/v1/journal?from=yesterday", headers=finance)
    assert bad.status_code == 400 and bad.get_json()["parameter"] == "from"


@pytest.fixture
def rq_amazon(app, session, redis_conn, redis_url, sandbox, monkeypatch):
    """The production shape: Redis, RQ workers, the connector configured from the app."""
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    monkeypatch.setitem(app.config, "AMAZON_ENDPOINT", sandbox.url)
    monkeypatch.setitem(app.extensions, "homing_redis", redis_conn)
    monkeypatch.delitem(app.extensions, "homing_spapi_buckets", raising=False)
    yield app
    app.extensions.pop("homing_spapi_buckets", None)


def _work(redis_conn) -> None:
    from rq import Queue, SimpleWorker

    from hub.jobs.queue import QUEUES

    SimpleWorker([Queue(n, connection=redis_conn) for n in QUEUES],
                 connection=redis_conn).work(burst=True)


def test_refund_through_real_rq_workers(rq_amazon, client, api_key, session, sandbox, emu,
                                        redis_conn):
    from hub.jobs import tasks
    from hub.jobs.queue import enqueue

    refund = completed_refund(client, api_key, session, sandbox, drain=False)
    assert refund.status == "pending"
    assert tasks.relay_outbox() >= 2  # refund.submit, finance.journal, stock.movement
    _work(redis_conn)
    session.expire_all()
    assert session.get(Refund, refund.id).status == "queued"
    assert session.scalar(sa.select(sa.func.count()).select_from(JournalEntry)) >= 1

    enqueue(rq_amazon, tasks.run_periodic, "amazon-push-refunds", queue="low")
    _work(redis_conn)
    session.expire_all()
    assert session.get(Refund, refund.id).status == "succeeded"
    assert len(_feeds(emu)) == 1
    # Our token bucket for createFeed lives in Redis, shared by every worker.
    assert redis_conn.exists(f"homing:spapi:{SELLER}:createFeed")


def test_redis_down_while_a_clerk_accepts_loses_nothing(app, client, api_key, session, sandbox,
                                                        emu, redis_conn, redis_url,
                                                        monkeypatch):
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisDown

    from hub.jobs import tasks
    from hub.outbox.models import OutboxMessage

    monkeypatch.setitem(app.config, "AMAZON_ENDPOINT", sandbox.url)
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setitem(app.extensions, "homing_redis",
                        Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5))
    refund = completed_refund(client, api_key, session, sandbox, drain=False)  # accepted
    with pytest.raises(RedisDown):
        tasks.relay_outbox()
    session.rollback()
    pending = session.scalars(sa.select(OutboxMessage.status)).all()
    assert pending and set(pending) == {"pending"}

    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)  # Redis is back
    monkeypatch.setitem(app.extensions, "homing_redis", redis_conn)
    assert tasks.relay_outbox() == len(pending)
    _work(redis_conn)
    session.expire_all()
    assert session.get(Refund, refund.id).status == "queued"


def test_receipt_is_emailed_in_the_shoppers_language(app, client, api_key, session, sandbox,
                                                     emu, tmp_path, monkeypatch):
    import email
    import email.policy

    from hub.returns.models import ReturnAuthorization

    monkeypatch.setitem(app.config, "MAIL_DIR", str(tmp_path))
    refund = completed_refund(client, api_key, session, sandbox, drain=False)
    rma = session.get(ReturnAuthorization, refund.rma_id)
    rma.shopper_locale = "de"
    session.commit()
    outbox.drain(session)
    session.commit()
    [sent] = list(tmp_path.glob("RC-*.eml"))
    message = email.message_from_bytes(sent.read_bytes(), policy=email.policy.default)
    assert message["To"] == "shopper@example.com"
    body = message.get_content()
    assert rma.number in message["Subject"] and sent.stem in body
    assert "108.86" in body and "Rückgabe" in message["Subject"]


def _returns_row(emu, order_id: str, rma_id: str) -> dict:
    return {"Order ID": order_id, "Amazon RMA ID": rma_id, "Return request status": "Approved",
            "Return request date": emu.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Merchant SKU": "HEADPHONES-1", "Return quantity": "1",
            "Return Reason": "CR-UNWANTED_ITEM", "Item Name": "Kopfhörer Ünïcode"}


def test_returns_report_gzip_links_amazons_rma(client, api_key, session, sandbox, emu):
    from hub.amazon import returns_report
    from hub.returns.models import ReturnAuthorization
    from tests.integration.factories import create_order

    refund = completed_refund(client, api_key, session, sandbox)
    create_order(client, api_key("admin"), order_id="114-2222222-2222222", seller_id=SELLER)
    authorised_at_amazon = {**_returns_row(emu, "114-2222222-2222222", "DkAmazonRMA2"),
                            "Merchant SKU": "TSHIRT-M", "Return Reason": "APPAREL_TOO_SMALL"}
    emu.add_returns([_returns_row(emu, "114-1234567-1234567", "DkAmazonRMA1"),
                     _returns_row(emu, "999-0000000-0000000", "DkUnknown"),
                     authorised_at_amazon])
    emu.flags.update(gzip=True, encoding="cp1252")
    conn = connector(sandbox)
    assert returns_report.pull(session, conn, "ATVPDKIKX0DER", emu.now()).status == "requested"
    outcome = returns_report.pull(session, conn, "ATVPDKIKX0DER", emu.now())
    assert (outcome.status, outcome.rows, outcome.linked, outcome.created,
            outcome.unknown_orders) == ("done", 3, 1, 1, 1)
    assert session.get(ReturnAuthorization, refund.rma_id).external_rma_id == "DkAmazonRMA1"
    created = session.scalar(sa.select(ReturnAuthorization).where(
        ReturnAuthorization.external_rma_id == "DkAmazonRMA2"))
    assert created.source == "amazon" and [ln.reason_code for ln in created.lines] == \
        ["fit.too_small"]
    # A report over the same days repeats Amazon's rows: nothing is authorised twice.
    from datetime import timedelta

    from hub.amazon.models import ConnectorStatus

    status = session.get(ConnectorStatus, f"amazon-returns:{SELLER}:ATVPDKIKX0DER")
    status.cursor = {"until": (emu.now() - timedelta(days=1)).isoformat()}
    returns_report.pull(session, conn, "ATVPDKIKX0DER", emu.now())
    again = returns_report.pull(session, conn, "ATVPDKIKX0DER", emu.now())
    assert (again.created, again.linked, again.skipped) == (0, 0, 2)


def test_returns_report_cancelled_and_fatal(session, sandbox, emu):
    from hub.amazon import returns_report
    from hub.amazon.models import ConnectorStatus

    conn = connector(sandbox)
    returns_report.pull(session, conn, "ATVPDKIKX0DER", emu.now())
    assert returns_report.pull(session, conn, "ATVPDKIKX0DER", emu.now()).status == "no_data"
    emu.flags["fatal_reports"] = 1
    returns_report.pull(session, conn, "ATVPDKIKX0DER", emu.now())
    assert returns_report.pull(session, conn, "ATVPDKIKX0DER", emu.now()).status == "failed"
    status = session.get(ConnectorStatus, f"amazon-returns:{SELLER}:ATVPDKIKX0DER")
    assert "FATAL" in status.last_error


def test_returns_report_header_variants():
    from hub.amazon.returns_report import parse_rows

    text = "order id\tSeller RMA ID\tAMAZON RMA ID\tA-to-z claim\n" \
           "114-1-2\tM1\tDk1\tN\n\n"
    assert parse_rows(text) == [{"order_id": "114-1-2", "merchant_rma_id": "M1",
                                 "amazon_rma_id": "Dk1", "a_to_z": "N"}]
    with pytest.raises(ValueError):
        parse_rows("settlement-id\ttotal\n1\t2\n")


def test_refunds_near_their_deadline_alert_hq_once(app, client, api_key, session, sandbox, emu,
                                                   tmp_path, monkeypatch):
    import email
    import email.policy
    from datetime import timedelta

    from hub.models import utcnow
    from hub.refunds import sla

    monkeypatch.setitem(app.config, "MAIL_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "HQ_ALERT_EMAIL", "hq@example.com")
    refund = completed_refund(client, api_key, session, sandbox)
    assert sla.remind(session) == {"at_risk": 0, "overdue": 0}  # due in two days
    refund.due_at = utcnow() + timedelta(hours=3)
    session.commit()
    assert sla.remind(session) == {"at_risk": 1, "overdue": 0}
    assert sla.remind(session) == {"at_risk": 0, "overdue": 0}  # once per stage
    refund.due_at = utcnow() - timedelta(minutes=1)
    session.commit()
    assert sla.remind(session) == {"at_risk": 0, "overdue": 1}
    session.commit()
    outbox.drain(session)
    session.commit()
    alerts = sorted(tmp_path.glob("hq-alert-*.eml"))
    assert len(alerts) == 2
    last = email.message_from_bytes(alerts[-1].read_bytes(), policy=email.policy.default)
    assert last["To"] == "hq@example.com" and "1 refunds overdue" in last["Subject"]
    assert str(refund.id) in last.get_content()


def test_one_push_run_at_a_time_across_workers(rq_amazon, client, api_key, session, sandbox,
                                               emu, redis_conn):
    from hub.amazon import jobs

    refund = completed_refund(client, api_key, session, sandbox)
    held = redis_conn.lock("homing:amazon-push", timeout=60)
    assert held.acquire(blocking=False)  # another worker's run is still going
    jobs.push_refunds(rq_amazon)
    session.expire_all()
    assert session.get(Refund, refund.id).status == "queued" and _feeds(emu) == []
    held.release()
    jobs.push_refunds(rq_amazon)
    session.expire_all()
    assert session.get(Refund, refund.id).status == "succeeded"
    assert not redis_conn.exists("homing:amazon-push")  # released after the run


def test_a_worker_process_killed_after_create_feed_submits_once(scratch_database, sandbox,
                                                               emu):
    """The same crash as above, for real: another process, its own database connection,
    killed with SIGKILL after createFeed. Its transaction dies with it; the next run (here,
    in this process) finds the feed at Amazon and never sends a second one."""
    from tests.support.apps import sandbox_app

    app = sandbox_app(scratch_database, sandbox.url)
    _kill_and_resume(app, scratch_database, sandbox, emu)


def _kill_and_resume(app, database_url, sandbox, emu) -> None:
    import signal
    import subprocess
    import sys

    from hub.amazon import jobs
    from hub.amazon.bench import seed
    from hub.extensions import db

    emu.add_orders(seed(app, 3, lambda done, total: None))
    with app.app_context():
        outbox.drain(db.session)  # refund intents queued for the push
        db.session.commit()
    killed = subprocess.run([sys.executable, "-m", "tests.integration.push_and_die",
                             database_url, sandbox.url], capture_output=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    assert len(_feeds(emu)) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(FeedSubmission.status)) == "creating"
        assert {r.status for r in db.session.scalars(sa.select(Refund))} == {"submitting"}
    jobs.push_refunds(app)
    with app.app_context():
        statuses = [r.status for r in db.session.scalars(sa.select(Refund))]
        assert statuses == ["succeeded"] * 3
        assert db.session.scalar(sa.select(FeedSubmission.feed_id)) == _feeds(emu)[0]["feedId"]
    assert len(_feeds(emu)) == 1 and len(emu.state()["applied"]) == 3
