"""A feed submission's fate is settled by Amazon's evidence, never by a guess: the rows of
issue 21's table, each against the sandbox over HTTP through python-amazon-sp-api.

Every fault is the sandbox's own (``/_emu/faults``), on the wire: a 5xx after the feed was
created, a connection dropped after the work or before it, failing and lagging lists."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa

from hub.amazon import service
from hub.amazon.connector import AmazonUnsure
from hub.amazon.models import AmazonFeed, FeedSubmission
from hub.refunds.models import Refund
from tests.integration.amazon_helpers import completed_refund, connector

ORDERS = ("114-1234567-1234567", "114-7654321-7654321", "114-5550001-0000001")


class Clock:
    """Our side's clock, moved by hand so the settle time passes without sleeping."""

    def __init__(self, start):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(emu):
    return Clock(emu.now())


def _refunds(client, api_key, session, sandbox, count=2) -> list[Refund]:
    return [completed_refund(client, api_key, session, sandbox, order_id=order, seed=n == 0)
            for n, order in enumerate(ORDERS[:count])]


def _push(session, conn, clock):
    return service.push(session, lambda seller: conn, now_func=clock)


def _applied_per_refund(emu, session) -> dict[int, int]:
    """How many times Amazon applied each refund's adjustment lines (by our item ids)."""
    lines = {ln.adjustment_item_id: r.id for r in session.scalars(sa.select(Refund))
             for ln in r.lines}
    counts: dict[int, int] = {}
    for applied in emu.state()["applied"]:
        refund_id = lines[applied["merchant_adjustment_item_id"]]
        counts[refund_id] = counts.get(refund_id, 0) + 1
    return counts


def _assert_exactly_once(emu, session, refunds) -> None:
    session.expire_all()
    assert {session.get(Refund, r.id).status for r in refunds} == {"succeeded"}
    assert _applied_per_refund(emu, session) == {r.id: len(r.lines) for r in refunds}
    known = set(session.scalars(sa.select(AmazonFeed.feed_id)))
    assert {f["feedId"] for f in emu.state()["feeds"]} <= known


def _lose_answers(emu, times: int):
    """createFeed reaches Amazon, which creates the feed; the connection then drops."""
    emu.inject("createFeed", None, times, lose_answer=True)


def _drop_requests(emu, times: int):
    """createFeed's connection drops before Amazon did anything."""
    emu.inject("createFeed", None, times, drop_request=True)


def test_a_500_after_amazon_created_the_feed_is_not_a_refusal(client, api_key, session,
                                                               sandbox, emu, clock):
    refunds = _refunds(client, api_key, session, sandbox)
    emu.inject("createFeed", 500, 1, after_work=True)
    conn = connector(sandbox)
    # The unknown answer is followed at once by the search: the feed is found, its report
    # read, and the batch settled, all without a second createFeed.
    [result] = _push(session, conn, clock)
    assert result.status == "done" and "proven ours" in result.detail
    assert len(emu.state()["feeds"]) == 1
    _assert_exactly_once(emu, session, refunds)
    assert session.scalar(sa.select(AmazonFeed.origin)) == "report"


def test_an_answer_lost_twice_never_sends_a_batch_twice(client, api_key, session, sandbox,
                                                        emu, clock):
    first = _refunds(client, api_key, session, sandbox, 1)
    conn = connector(sandbox)
    _lose_answers(emu, 2)
    emu.delays.update(processing=60)  # found while still processing: the batch waits
    [result] = _push(session, conn, clock)
    assert result.status == "creating"
    emu.advance(60)
    later = [completed_refund(client, api_key, session, sandbox, order_id=ORDERS[1],
                              seed=False)]
    results = _push(session, conn, clock)  # the first settles; the second's answer is lost
    assert [r.status for r in results] == ["done", "creating"]
    emu.advance(60)
    [result] = _push(session, conn, clock)
    assert result.status == "done"
    assert len(emu.state()["feeds"]) == 2
    _assert_exactly_once(emu, session, first + later)


def test_refunds_wait_visibly_while_a_found_feed_is_still_processing(client, api_key, session,
                                                                     sandbox, emu, clock):
    refunds = _refunds(client, api_key, session, sandbox)
    emu.delays.update(processing=3600)
    conn = connector(sandbox)
    _lose_answers(emu, 1)
    _push(session, conn, clock)
    for _ in range(3):  # long past the settle time: still no second feed
        clock.advance(conn.feed_settle_seconds)
        [result] = _push(session, conn, clock)
        assert result.status == "creating"
    sub = session.scalar(sa.select(FeedSubmission))
    assert sub.waiting_reason == "candidate_processing" and sub.waiting_since is not None
    assert {session.get(Refund, r.id).status for r in refunds} == {"submitting"}
    assert len(emu.state()["feeds"]) == 1

    emu.advance(3600)
    [result] = _push(session, conn, clock)
    assert result.status == "done"
    _assert_exactly_once(emu, session, refunds)
    session.refresh(sub)
    assert sub.waiting_reason == "" and sub.feed_id == emu.state()["feeds"][0]["feedId"]


def test_a_dropped_request_is_sent_again_only_after_amazons_list_settles(
        client, api_key, session, sandbox, emu, clock):
    refunds = _refunds(client, api_key, session, sandbox)
    conn = connector(sandbox)
    _drop_requests(emu, 1)
    [result] = _push(session, conn, clock)  # request dropped; Amazon lists nothing yet
    assert result.status == "creating"
    emu.inject("getFeeds", 500, times=1)
    [result] = _push(session, conn, clock)  # getFeeds fails: nothing decided
    assert result.status == "error"
    assert session.scalar(sa.select(FeedSubmission.status)) == "creating"
    [result] = _push(session, conn, clock)  # Amazon lists nothing, but not settled yet
    assert result.status == "creating"
    assert session.scalar(sa.select(FeedSubmission.waiting_reason)) == "listing_settling"
    assert emu.state()["feeds"] == []

    clock.advance(conn.feed_settle_seconds)
    [result] = _push(session, conn, clock)
    assert result.status == "done"
    _assert_exactly_once(emu, session, refunds)


def test_a_late_feed_in_amazons_list_is_found_before_anything_is_resent(
        client, api_key, session, sandbox, emu, clock):
    """Amazon's list lags: the feed shows only a while after it was made. A list read before
    the settle time proves nothing."""
    refunds = _refunds(client, api_key, session, sandbox)
    conn = connector(sandbox)
    _lose_answers(emu, 1)
    emu.set_consistency(list_lag_seconds=60)
    _push(session, conn, clock)
    clock.advance(conn.feed_settle_seconds / 2)
    [result] = _push(session, conn, clock)
    assert result.status == "creating" and emu.state()["feeds"]
    assert session.scalar(sa.select(FeedSubmission.waiting_reason)) == "listing_settling"
    emu.advance(60)  # the list has caught up, still within the settle time
    [result] = _push(session, conn, clock)
    assert result.status == "done"
    _assert_exactly_once(emu, session, refunds)


def test_a_feed_that_is_not_ours_is_never_adopted(client, api_key, session, sandbox, emu,
                                                 clock):
    """Someone else's adjustment feed for the same seller lands in the window: its report
    names messages that are not ours, so it is recorded as foreign and our batch goes on."""
    from hub.amazon import feed as feed_xml

    refunds = _refunds(client, api_key, session, sandbox)
    order = ORDERS[0]
    conn = connector(sandbox)
    _drop_requests(emu, 1)
    [result] = _push(session, conn, clock)
    assert result.status == "creating"
    # A feed made by hand in Seller Central: one message, an id that is not a refund of ours.
    line = session.get(Refund, refunds[0].id).lines[0]
    document = feed_xml.build("A1DEMOSELLER", [feed_xml.FeedRefund(
        987654321, order, "USD", (feed_xml.FeedLine("99999999999999", "hand-1",
                                                    {"Principal": 100}),))])
    doc_id = conn.upload_feed("ATVPDKIKX0DER", document)
    conn.create_feed("ATVPDKIKX0DER", doc_id)
    assert line is not None

    clock.advance(conn.feed_settle_seconds)
    [result] = _push(session, conn, clock)
    assert result.status == "done"
    foreign = session.scalar(sa.select(AmazonFeed).where(AmazonFeed.origin == "foreign"))
    assert foreign is not None and foreign.submission_id is None
    session.expire_all()
    assert {session.get(Refund, r.id).status for r in refunds} == {"succeeded"}
    assert _applied_per_refund(emu, session) == {r.id: len(r.lines) for r in refunds}


def test_only_one_submission_per_seller_and_marketplace_is_uncertain(client, api_key, session,
                                                                      sandbox, emu, clock):
    first = _refunds(client, api_key, session, sandbox, 1)
    conn = connector(sandbox)
    _drop_requests(emu, 5)
    [result] = _push(session, conn, clock)
    assert result.status == "creating"
    completed_refund(client, api_key, session, sandbox, order_id=ORDERS[1], seed=False)
    results = _push(session, conn, clock)  # the new refund is not batched behind an unknown
    assert [r.status for r in results] == ["creating"]
    assert session.scalar(sa.select(sa.func.count()).select_from(FeedSubmission)) == 1
    second = FeedSubmission(seller_id="A1DEMOSELLER", marketplace_id="ATVPDKIKX0DER",
                            feed_type="POST_PAYMENT_ADJUSTMENT_DATA", status="creating")
    session.add(second)
    with pytest.raises(sa.exc.IntegrityError):  # the database holds the rule too
        session.flush()
    session.rollback()
    assert first


def test_transport_errors_are_unknown_answers_not_refusals(sandbox, monkeypatch):
    conn = connector(sandbox)

    def boom(*args, **kwargs):
        raise httpx.ReadError("connection reset by peer")

    monkeypatch.setattr(httpx.Client, "request", boom)
    with pytest.raises(AmazonUnsure):
        conn.create_feed("ATVPDKIKX0DER", "doc")


def test_finances_showing_money_moved_stop_a_resend(client, api_key, session, sandbox, emu,
                                                    clock):
    """The list shows no feed, but Amazon's financial events show a refund on the order that
    none of ours explains: the second witness wins, nothing is sent, HQ is told why."""
    from hub.amazon import sync
    from hub.orders.models import Order, OrderLine

    [refund] = _refunds(client, api_key, session, sandbox, 1)
    conn = connector(sandbox)
    _drop_requests(emu, 1)
    [result] = _push(session, conn, clock)
    assert result.status == "creating"
    order = session.get(Order, refund.order_id)
    item = session.get(OrderLine, refund.lines[0].order_line_id).external_item_id
    emu.amazon_refund(order.external_id, item, {"Principal": 500}, kind="auto")
    emu.advance(600)
    sync.pull_financial_events(session, conn, "ATVPDKIKX0DER", emu.now())
    session.commit()

    clock.advance(conn.feed_settle_seconds)
    [result] = _push(session, conn, clock)
    assert result.status == "creating" and "finances" in result.detail
    assert session.scalar(sa.select(FeedSubmission.waiting_reason)) == "finance_shows_refund"
    assert emu.state()["feeds"] == []


def test_orders_amazon_refunded_itself_leave_an_uncertain_batch_and_the_rest_go_once(
        client, api_key, session, sandbox, emu, clock):
    """The list shows no feed and Amazon's finances show a refund on one order of three: a
    processed feed of ours would have refunded all three, so that one is Amazon's own. It
    leaves the batch (set aside, never sent); the other two are sent once, not held forever
    (seen in the long campaign: 2,000 refunds waited behind 20 Amazon refunds)."""
    from hub.amazon import sync
    from hub.orders.models import Order, OrderLine

    refunds = _refunds(client, api_key, session, sandbox, 3)
    conn = connector(sandbox)
    _drop_requests(emu, 1)
    [result] = _push(session, conn, clock)
    assert result.status == "creating"
    first = refunds[0]
    order = session.get(Order, first.order_id)
    item = session.get(OrderLine, first.lines[0].order_line_id).external_item_id
    emu.amazon_refund(order.external_id, item, {"Principal": 500}, kind="auto")
    emu.advance(600)
    sync.pull_financial_events(session, conn, "ATVPDKIKX0DER", emu.now())
    session.commit()

    clock.advance(conn.feed_settle_seconds)
    for _ in range(3):
        _push(session, conn, clock)
    session.expire_all()
    statuses = {r.id: session.get(Refund, r.id).status for r in refunds}
    assert statuses == {first.id: "amazon_refunded", refunds[1].id: "succeeded",
                        refunds[2].id: "succeeded"}
    applied = _applied_per_refund(emu, session)
    assert applied.get(first.id, 0) == 0
    assert applied[refunds[1].id] == len(refunds[1].lines)
    assert applied[refunds[2].id] == len(refunds[2].lines)
    assert len(emu.state()["feeds"]) == 1


def test_every_feed_amazon_lists_is_known_to_homing(client, api_key, session, sandbox, emu,
                                                    clock):
    """The feed audit: a feed Homing did not make (here one sent by hand) is registered and
    carried to its report, so no feed at Amazon goes unaccounted for."""
    from hub.amazon import feed as feed_xml

    refunds = _refunds(client, api_key, session, sandbox, 1)
    conn = connector(sandbox)
    document = feed_xml.build("A1DEMOSELLER", [feed_xml.FeedRefund(
        424242, ORDERS[0], "USD", (feed_xml.FeedLine("99999999999999", "hand-2",
                                                     {"Principal": 100}),))])
    hand_made = conn.create_feed("ATVPDKIKX0DER", conn.upload_feed("ATVPDKIKX0DER", document))
    [result] = _push(session, conn, clock)
    assert result.status == "done"
    origins = dict(session.execute(sa.select(AmazonFeed.feed_id, AmazonFeed.origin)).all())
    assert origins[hand_made] == "foreign"
    assert set(origins) == {f["feedId"] for f in emu.state()["feeds"]}
    _push(session, conn, clock)  # audited again only after AUDIT_EVERY: no extra call
    assert emu.requests.get("getFeeds") == 1
    assert refunds
