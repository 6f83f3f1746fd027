"""Amazon Business and VAT credit notes through the sandbox over HTTP with
python-amazon-sp-api: the buyer read through a Restricted Data Token, a credit note numbered
with the refund's success and uploaded with UPLOAD_VAT_INVOICE, hostile cases."""

from __future__ import annotations

import hashlib
import threading
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sp_api.api import Orders
from sp_api.auth import access_token_client
from sp_api.base.exceptions import SellingApiForbiddenException
from sqlalchemy.orm import Session

from hub.amazon import service
from hub.amazon.connector import AmazonError
from hub.business import service as business
from hub.creditnotes import service as notes
from hub.creditnotes import upload
from hub.creditnotes.models import CreditNoteSequence
from hub.models import utcnow
from hub.orders.models import Order
from hub.outbox import service as outbox
from hub.refunds.models import Refund
from tests.integration.amazon_helpers import ACCEPT, SELLER, connector
from tests.integration.business_helpers import (
    BUSINESS_LINES,
    BUSINESS_ORDER,
    DE,
    business_order_payload,
    sandbox_fixture,
)
from tests.integration.factories import seed_stores, store_user


def _business_refund(client, api_key, session, sandbox, order_id=BUSINESS_ORDER) -> Refund:
    seed_stores(session)
    store_user(session, "NYC-1", "supervisor", staff_number="201", pin="9753")
    admin = api_key("admin")
    response = client.post("/api/v1/orders", json=business_order_payload(order_id),
                           headers=admin)
    assert response.status_code in (200, 201), response.get_json()
    order = session.scalar(sa.select(Order).where(Order.external_id == order_id))
    sandbox.emulator.add_orders([sandbox_fixture(order)])
    assert business.read_buyer(session, connector(sandbox), order) is not None
    rma = client.post("/api/v1/returns", headers=admin, json={
        "channel": "amazon-business", "order_id": order_id, "latitude": 40.758,
        "longitude": -73.9855, "locale": "de",
        "lines": [{"item_id": BUSINESS_LINES[0]["item_id"], "quantity": 1,
                   "reason": "changed_mind.better_price"},
                  {"item_id": BUSINESS_LINES[1]["item_id"], "quantity": 1,
                   "reason": "changed_mind.better_price"}]})
    assert rma.status_code == 201, rma.get_json()
    clerk = api_key("clerk", "NYC-1")
    intake = client.post("/api/v1/intakes", json={"voucher": rma.get_json()["voucher"]["token"]},
                         headers=clerk).get_json()
    for unit in intake["units"]:
        assert client.post(f"/api/v1/intakes/{intake['id']}/units/{unit['unit_id']}",
                           json=ACCEPT, headers=clerk).status_code == 200
    done = client.post(f"/api/v1/intakes/{intake['id']}/complete", headers=clerk,
                       json={"supervisor": {"staff_number": "201", "pin": "9753"}})
    assert done.status_code == 200, done.get_json()
    outbox.drain(session)
    session.commit()
    results = service.push(session, lambda seller: connector(sandbox))
    session.commit()
    assert results and results[0].status == "done", results
    return session.scalar(sa.select(Refund).where(Refund.order_id == order.id))


def _upload_until_decided(session, sandbox, emu, rounds: int = 4) -> None:
    conn = connector(sandbox)
    for _ in range(rounds):
        upload.advance_all(session, lambda seller: conn, utcnow())
        session.commit()


def test_business_refund_gets_a_numbered_credit_note_accepted_by_amazon(
        client, api_key, session, sandbox, emu):
    refund = _business_refund(client, api_key, session, sandbox)
    assert refund.status == "succeeded"
    [note] = notes.notes_for_refund(session, refund.id)
    assert note.number == "CN-DE-000001" and note.status == "issued"
    assert (note.po_number, note.buyer_company, note.buyer_vat_id) == (
        "PO-4711-2026", "Muster Maschinenbau GmbH", "DE123456789")
    # VAT per rate from the refund engine: 19 % on the drill, 7 % on the book.
    rates = {r["rate"]: r for r in note.vat_breakdown}
    assert set(rates) == {"19.0", "7.0"}
    assert rates["19.0"]["vat_minor"] == 1900 and rates["7.0"]["vat_minor"] == 350
    assert note.total_amount == refund.amount
    assert note.pdf.startswith(b"%PDF-") and note.sha256 == hashlib.sha256(note.pdf).hexdigest()

    _upload_until_decided(session, sandbox, emu)
    session.refresh(note)
    assert note.status == "accepted", (note.status, note.rejection_reason)
    [sent] = emu.state()["vat_uploads"]
    assert sent["options"] == {"orderid": BUSINESS_ORDER, "invoicenumber": "CN-DE-000001",
                               "documenttype": "CreditNote",
                               "transactionid": f"refund-{refund.id}",
                               "totalamount": "172.50",
                               "totalvatamount": "22.50"}
    assert sent["sha256"] == note.sha256 and sent["is_pdf"] and sent["accepted"]


def test_a_rejected_note_is_corrected_and_resent_under_a_new_number(
        client, api_key, session, sandbox, emu):
    refund = _business_refund(client, api_key, session, sandbox)
    emu.flags["reject_vat_invoice"] = "The buyer VAT number does not match the order"
    _upload_until_decided(session, sandbox, emu)
    [note] = notes.notes_for_refund(session, refund.id)
    assert note.status == "rejected"
    assert "VAT number does not match" in note.rejection_reason

    with pytest.raises(notes.CorrectionError):
        notes.correct(session, note, company="X", buyer_vat_id="12345", po_number="",
                      actor=notes.SYSTEM)
    fixed = notes.correct(session, note, company="Muster Maschinenbau GmbH",
                          buyer_vat_id="DE 987654321", po_number="PO-4711-2026",
                          actor=notes.SYSTEM)
    session.commit()
    assert fixed.number == "CN-DE-000002" and fixed.replaces_id == note.id
    assert note.status == "superseded" and fixed.buyer_vat_id == "DE987654321"
    with pytest.raises(notes.CorrectionError):  # only once
        notes.correct(session, note, company="", buyer_vat_id="", po_number="",
                      actor=notes.SYSTEM)
    _upload_until_decided(session, sandbox, emu)
    session.refresh(fixed)
    assert fixed.status == "accepted"
    assert [u["options"]["invoicenumber"] for u in emu.state()["vat_uploads"]] == [
        "CN-DE-000001", "CN-DE-000002"]


def test_pii_without_a_restricted_data_token_is_refused(client, api_key, session, sandbox,
                                                        emu):
    from hub.amazon.connector import SANDBOX_CREDENTIALS

    seed_stores(session)
    client.post("/api/v1/orders", json=business_order_payload(), headers=api_key("admin"))
    order = session.scalar(sa.select(Order).where(Order.external_id == BUSINESS_ORDER))
    emu.add_orders([sandbox_fixture(order)])
    access_token_client.cache.clear()  # the sandbox was reset: its old tokens are void
    conn = connector(sandbox)
    client_ = conn._client(Orders, DE)
    with pytest.raises(SellingApiForbiddenException):
        client_.get_order_buyer_info(BUSINESS_ORDER)  # the access token alone: refused
    plain = client_.get_order(BUSINESS_ORDER).payload
    assert plain["IsBusinessOrder"] and "BuyerInfo" not in plain
    # With an RDT for buyerInfo the same operation answers.
    with_rdt = client_.get_order(BUSINESS_ORDER, RestrictedResources=["buyerInfo"]).payload
    assert with_rdt["BuyerInfo"]["PurchaseOrderNumber"] == "PO-4711-2026"
    assert SANDBOX_CREDENTIALS  # the sandbox's fixed credentials, never real ones


def test_bad_feed_options_and_a_document_that_is_not_a_pdf(session, sandbox, emu):
    emu.add_orders([{"AmazonOrderId": BUSINESS_ORDER, "seller_id": SELLER,
                     "MarketplaceId": DE, "currency": "EUR", "items": []}])
    conn = connector(sandbox)
    doc = conn.upload_feed(DE, b"%PDF-1.4 not really\n%%EOF", "application/pdf")
    good = {"metadata:OrderId": BUSINESS_ORDER, "metadata:InvoiceNumber": "CN-DE-1",
            "metadata:DocumentType": "CreditNote", "metadata:TransactionId": "t-1",
            "metadata:TotalAmount": "10.00", "metadata:TotalVATAmount": "1.60"}
    for bad in ({**good, "metadata:DocumentType": "Receipt"},
                {k: v for k, v in good.items() if k != "metadata:TransactionId"},
                {**good, "metadata:TotalVATAmount": "11.00"},
                {**good, "metadata:Evil": "x"},
                {k: v for k, v in good.items() if k != "metadata:OrderId"}):
        with pytest.raises(AmazonError) as refused:
            conn.create_vat_invoice_feed(DE, doc, bad)
        assert refused.value.status == 400
    with pytest.raises(AmazonError):  # not an EU VAT marketplace
        conn.create_vat_invoice_feed("ATVPDKIKX0DER", doc, good)
    text = conn.upload_feed(DE, b"hello, I am not a PDF", "application/pdf")
    conn.create_vat_invoice_feed(DE, text, good)
    [upload_] = [u for u in emu.state()["vat_uploads"]]
    assert upload_["is_pdf"] is False
    emu.state()  # processes the due feed
    assert emu.state()["vat_uploads"][0]["accepted"] is False
    assert "not a valid PDF" in emu.state()["vat_uploads"][0]["error"]


def test_createfeed_without_an_answer_is_settled_from_the_feed_list(
        client, api_key, session, sandbox, emu):
    refund = _business_refund(client, api_key, session, sandbox)
    emu.inject("createFeed", lose_answer=True)
    conn = connector(sandbox)
    conn.feed_settle_seconds = 0
    [note] = notes.notes_for_refund(session, refund.id)
    upload.advance(session, conn, note, utcnow())
    session.commit()
    assert note.status == "unsure"  # never "no": the feed may exist
    upload.advance(session, conn, note, utcnow() + timedelta(seconds=60))
    session.commit()
    assert note.status == "submitted" and note.feed_id
    assert len(emu.state()["vat_uploads"]) == 1  # adopted, not uploaded twice
    upload.advance(session, conn, note, utcnow())
    assert note.status == "accepted"


def test_numbers_have_no_gaps_and_no_duplicates_under_concurrency(scratch_database):
    engine = sa.create_engine(scratch_database.replace("postgresql://",
                                                       "postgresql+psycopg://", 1))
    CreditNoteSequence.__table__.create(engine)
    seller = f"S{uuid.uuid4().hex[:6]}"
    # A rolled-back transaction gives its number back.
    with Session(engine) as s:
        assert notes.next_number(s, seller, DE) == 1
        s.rollback()
    got: list[int] = []
    first = Session(engine)
    got.append(notes.next_number(first, seller, DE))  # holds the row lock

    def second():
        with Session(engine) as s:
            got.append(notes.next_number(s, seller, DE))
            s.commit()

    waiter = threading.Thread(target=second)
    waiter.start()
    waiter.join(timeout=1)
    assert waiter.is_alive()  # blocked behind the first transaction's lock
    first.commit()
    first.close()
    waiter.join(timeout=10)
    assert got == [1, 2]
    with Session(engine) as s:
        assert notes.next_number(s, seller, "A13V1IB3VIYZZH") == 1  # per marketplace
    engine.dispose()


def test_a_note_stuck_before_amazon_is_listed_overdue(client, api_key, session, sandbox, emu):
    from hub.jobs.deadlines import overdue

    refund = _business_refund(client, api_key, session, sandbox)
    [note] = notes.notes_for_refund(session, refund.id)
    assert not [i for i in overdue(session, utcnow()) if i.kind == "credit_note"]
    [item] = [i for i in overdue(session, utcnow() + timedelta(hours=1))
              if i.kind == "credit_note"]
    assert (item.ref, item.state, item.owner) == (note.number, "issued", "vat-credit-notes")
