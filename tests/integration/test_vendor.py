"""Vendor returns on PostgreSQL: a VRET received on the tablet, Vendor Central's exports
imported (hostile ones too), the differences in HQ's dispute queue with an evidence pack, a
returns credit note through the sandbox over HTTP (yes, no, don't-know), and orders Amazon
sold itself never refunded by Homing."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from hub.policy.document import default_policy
from hub.sandbox.emulator import ApiError
from hub.vendor import jobs
from hub.vendor.amazon import VendorAmazon
from hub.vendor.models import (
    VendorCharge,
    VendorCreditNote,
    VendorDispute,
    VendorImport,
    VendorReceipt,
)
from tests.conftest import count
from tests.integration.amazon_helpers import connector
from tests.integration.factories import create_order, seed_stores, store_user
from tests.integration.hq_helpers import hq_user, sign_in
from tests.integration.test_store_app import _sign_in, _tablet

ASIN_A, ASIN_B = "B07XJ8C8F5", "B08N5WRWNW"
EXPORT = (
    "Debit Note Number,Type,VRET,Return ID,ASIN,Quantity,Amount,Currency,Invoice Date,Region\n"
    f"DN-5001,Return,VRET-77001,RET-9001,{ASIN_A},10,250.00,USD,2026-11-20,NA\n"
    f"DN-5001,Return,VRET-77001,RET-9001,{ASIN_B},2,40.00,USD,2026-11-20,NA\n"
)


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (120, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def _tablet_ready(client, session):
    seed_stores(session)
    store_user(session, "NYC-1", "clerk", "101", "2468")
    _tablet(client, session)
    assert _sign_in(client).status_code == 302


def _receive(client, vret="VRET-77001", counts=((ASIN_A, 8, "A", False),
                                                 (ASIN_B, 1, "not_ours", False))):
    opened = client.post("/store/vendor", data={"vret": vret.lower().replace("-", " - ", 0),
                                                "rma": "RMA-1"})
    assert opened.status_code == 303, opened.get_data(as_text=True)
    path = opened.headers["Location"]
    for asin, units, grade, damage in counts:
        data = {"asin": asin, "units": str(units), "grade": grade, "disposition": "restock"}
        if damage:
            data["amazon_damage"] = "1"
        assert client.post(f"{path}/lines", data=data).status_code == 303
    photo = client.post(f"{path}/photo", data={"photo": (io.BytesIO(_jpeg()), "box.jpg")},
                        content_type="multipart/form-data")
    assert photo.status_code == 303
    assert client.post(f"{path}/close").status_code == 303
    return path


def _import(client, text: str, name="debit-notes.csv", kind="debit_note"):
    return client.post("/hq/vendor/imports", data={
        "file": (io.BytesIO(text.encode() if isinstance(text, str) else text), name),
        "kind": kind}, content_type="multipart/form-data")


def _hq(client, session, role="finance"):
    hq_user(session, role)
    assert sign_in(client, f"{role}@hq.example").status_code == 302


def test_a_vret_is_received_on_the_tablet_and_a_shortage_lands_in_the_dispute_queue(
        client, session):
    _tablet_ready(client, session)
    path = _receive(client)
    page = client.get(path).get_data(as_text=True)
    assert "VRET-77001" in page and 'id="vret-received"' in page
    receipt = session.scalar(sa.select(VendorReceipt))
    assert receipt.status == "received" and receipt.rma_id == "RMA-1"

    client.post("/store/logout")
    _hq(client, session)
    imported = _import(client, EXPORT)
    assert imported.status_code == 303
    report = client.get(imported.headers["Location"]).get_data(as_text=True)
    assert "Columns not read: Region." in report
    disputes = {(d.asin, d.kind): d for d in session.scalars(sa.select(VendorDispute))}
    # 10 charged, 8 arrived: 2 missing at $25.00 each; one unit of B is not the brand's.
    assert disputes[(ASIN_A, "units_missing")].units == 2
    assert disputes[(ASIN_A, "units_missing")].amount_minor == 5000
    assert disputes[(ASIN_B, "units_missing")].units == 1
    assert disputes[(ASIN_B, "not_ours")].units == 1
    queue = client.get("/hq/vendor").get_data(as_text=True)
    assert "DN-5001" in queue and "Units missing" in queue

    pdf = client.get("/hq/vendor/debit-notes/DN-5001/evidence.pdf")
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"
    archive = zipfile.ZipFile(io.BytesIO(client.get(
        "/hq/vendor/debit-notes/DN-5001/evidence.zip").data))
    names = archive.namelist()
    assert "evidence-DN-5001.pdf" in names and "received.csv" in names
    assert any(n.startswith("photos/") for n in names)
    assert "B07XJ8C8F5,8,A" in archive.read("received.csv").decode()

    dispute = disputes[(ASIN_A, "units_missing")]
    done = client.post(f"/hq/vendor/disputes/{dispute.id}",
                       data={"action": "disputed", "note": "Case 123456"})
    assert done.status_code == 303
    session.refresh(dispute)
    assert dispute.status == "disputed" and dispute.note == "Case 123456"
    # A second click on the same (now stale) button changes nothing.
    client.post(f"/hq/vendor/disputes/{dispute.id}", data={"action": "disputed"})
    session.refresh(dispute)
    assert dispute.status == "disputed"


def test_hostile_exports_are_reported_by_line_and_change_nothing_else(client, session):
    _hq(client, session)
    hostile = (
        "Debit Note Number,VRET,ASIN,Quantity,Amount,Currency,Secret Column\n"
        f"DN-1,VRET-NEVER,{ASIN_A},3,30.00,USD,x\n"  # never received: noted, imported
        f"DN-1,VRET-NEVER,{ASIN_A},3,30.00,USD,x\n"  # duplicate line
        f"DN-2,VRET-9,{ASIN_B},1,10.00,EUR,x\n"  # mixed currency
        f"DN-3,VRET-9,NOTANASIN!,1,10.00,USD,x\n"
        f"DN-4,VRET-9,{ASIN_B},-2,10.00,USD,x\n"
        f"=cmd|' /C calc'!A0,VRET-9,{ASIN_B},1,10.00,USD,x\n"
        f"DN-5,VRET-9,{ASIN_B},1,ten,USD,x\n"
    )
    imported = _import(client, hostile)
    run = session.scalar(sa.select(VendorImport))
    codes = {(p["line"], p["code"]) for p in run.report}
    assert {(1, "unknown_columns"), (2, "vret_not_received"), (3, "duplicate_line"),
            (4, "mixed_currency"), (5, "bad_asin"), (6, "bad_units"), (7, "bad_reference"),
            (8, "bad_amount")} <= codes
    assert count(session, VendorCharge) == 1 and run.added == 1
    # The VRET never arrived: the whole charge is a charge without a receipt.
    (dispute,) = session.scalars(sa.select(VendorDispute))
    assert dispute.kind == "no_receipt" and dispute.units == 3
    page = client.get(imported.headers["Location"]).get_data(as_text=True)
    assert "Repeats line 2" in page and "differs from the file&#39;s USD" in page
    # The same export again: nothing new, nothing changed.
    _import(client, hostile)
    assert count(session, VendorCharge) == 1 and count(session, VendorDispute) == 1
    second = session.scalars(sa.select(VendorImport).order_by(VendorImport.id)).all()[-1]
    assert second.added == 0 and second.already_known == 1
    # Files that cannot be read at all: a clear message, nothing written.
    for data, name in ((b"\x00\x01garbage", "x.csv"), (b"PK\x03\x04broken", "x.xlsx"),
                       (b"", "empty.csv"), (b"Foo,Bar\n1,2\n", "other.csv")):
        answer = _import(client, data, name)
        assert answer.status_code == 302, name
    assert count(session, VendorImport) == 2


def test_an_xlsx_export_imports_by_header_name(client, session):
    from openpyxl import Workbook

    _hq(client, session)
    book = Workbook()
    sheet = book.active
    sheet.append(["Claim ID", "Claim Type", "ASIN", "Shortage Units", "Claim Amount",
                  "Currency Code", "Claim Date", "VRET ID"])
    sheet.append(["SC-1", "Shortage", ASIN_A, 4, 88.5, "USD", "2026-11-02", "VRET-5"])
    sheet.append(["CB-1", "Chargeback", "", None, 12, "USD", None, None])
    out = io.BytesIO()
    book.save(out)
    assert _import(client, out.getvalue(), "claims.xlsx").status_code == 303
    charges = {c.debit_note_number: c for c in session.scalars(sa.select(VendorCharge))}
    assert charges["SC-1"].kind == "shortage" and charges["SC-1"].amount_minor == 8850
    assert charges["SC-1"].units == 4 and charges["CB-1"].kind == "chargeback"


def test_the_tablet_refuses_bad_counts_and_other_stores_shipments(client, session):
    _tablet_ready(client, session)
    bad = client.post("/store/vendor", data={"vret": "<script>"})
    assert bad.status_code == 422 and "packing slip" in bad.get_data(as_text=True)
    path = client.post("/store/vendor", data={"vret": "VRET-1"}).headers["Location"]
    for data in ({"asin": "short", "units": "1", "grade": "A", "disposition": "restock"},
                 {"asin": ASIN_A, "units": "0", "grade": "A", "disposition": "restock"},
                 {"asin": ASIN_A, "units": "1", "grade": "Z", "disposition": "restock"},
                 {"asin": ASIN_A, "units": "1", "grade": "A", "disposition": "burn"}):
        assert client.post(f"{path}/lines", data=data).status_code == 422
    assert client.post(f"{path}/close").status_code == 409  # nothing counted
    assert client.post(f"{path}/photo", data={"photo": (io.BytesIO(b"no"), "x.jpg")},
                       content_type="multipart/form-data").status_code == 422
    other = VendorReceipt(vret_number="VRET-OTHER", store_id=session.scalar(
        sa.text("SELECT id FROM stores WHERE code = 'NYC-2'")))
    session.add(other)
    session.commit()
    assert client.get(f"/store/vendor/{other.id}").status_code == 404
    assert client.post("/store/vendor", data={"vret": "VRET-OTHER"}).status_code == 409


def test_only_hq_finance_and_ops_work_vendor_central(client, session):
    seed_stores(session)
    hq_user(session, "supervisor", store_code="NYC-1", staff_number="900")
    sign_in(client, "supervisor@hq.example")
    assert client.get("/hq/vendor").status_code == 403
    assert _import(client, EXPORT).status_code == 403
    assert count(session, VendorCharge) == 0


@pytest.fixture
def vendor_amazon(sandbox, emu):
    return VendorAmazon(connector(sandbox), "ATVPDKIKX0DER", "HOMINGVENDOR")


def _credit_note(client, session) -> VendorCreditNote:
    _tablet_ready(client, session)
    _receive(client)
    client.post("/store/logout")
    _hq(client, session)
    _import(client, EXPORT)
    receipt = session.scalar(sa.select(VendorReceipt))
    written = client.post(f"/hq/vendor/receipts/{receipt.id}/credit-note", data={})
    assert written.status_code == 303, written.get_data(as_text=True)
    note = session.scalar(sa.select(VendorCreditNote))
    from hub.outbox.models import OutboxMessage
    from hub.outbox.service import deliver

    for message in session.scalars(sa.select(OutboxMessage).where(
            OutboxMessage.topic == "vendor.credit_note")):
        deliver(session, message)
    session.commit()
    assert note.status == "queued"
    return note


def test_a_returns_credit_note_is_accepted_by_the_sandbox_over_http(
        client, session, vendor_amazon, emu):
    note = _credit_note(client, session)
    assert note.amount_minor == 8 * 2500  # the brand's 8 units at what Amazon charged
    assert jobs.submit_one(session, vendor_amazon, note.id) == "submitted"
    assert jobs.check_one(session, vendor_amazon, note.id) == "accepted"
    (sent,) = emu.vendor.submitted
    assert sent["invoiceType"] == "CreditNote" and sent["id"] == note.number
    details = sent["items"][0]["creditNoteDetails"]
    assert details == {"returnsReferenceNumber": "RET-9001", "consignorsReferenceNumber":
                       "VRET-77001", "debitNoteNumber": "DN-5001", "rmaId": "RMA-1",
                       "goodsReturnDate": details["goodsReturnDate"]}
    page = client.get(f"/hq/vendor/credit-notes/{note.id}").get_data(as_text=True)
    assert 'data-status="accepted"' in page


def test_a_rejected_credit_note_shows_amazons_reason_and_goes_again_under_a_new_number(
        client, session, vendor_amazon, emu):
    note = _credit_note(client, session)
    emu.vendor.reject_next.append({"errors": [{"code": "InvalidDebitNote",
                                               "message": "Debit note DN-5001 is closed."}]})
    jobs.submit_one(session, vendor_amazon, note.id)
    assert jobs.check_one(session, vendor_amazon, note.id) == "rejected"
    page = client.get(f"/hq/vendor/credit-notes/{note.id}").get_data(as_text=True)
    assert "InvalidDebitNote" in page and "Debit note DN-5001 is closed." in page
    resent = client.post(f"/hq/vendor/credit-notes/{note.id}/resend",
                         data={"debit_note_number": "DN-5002", "returns_reference": "RET-9001"})
    new = session.scalars(sa.select(VendorCreditNote).order_by(VendorCreditNote.id)).all()[-1]
    assert resent.headers["Location"].endswith(f"/hq/vendor/credit-notes/{new.id}")
    session.refresh(note)
    assert note.status == "superseded" and new.number != note.number
    assert new.replaces_id == note.id and new.debit_note_number == "DN-5002"
    # A second resend of the old one is refused.
    client.post(f"/hq/vendor/credit-notes/{note.id}/resend", data={})
    assert count(session, VendorCreditNote) == 2


def test_no_answer_from_amazon_never_resends_blindly(client, session, vendor_amazon, emu):
    note = _credit_note(client, session)
    emu.inject("submitInvoices", 500, after_work=True)  # Amazon took it, we never heard
    assert jobs.submit_one(session, vendor_amazon, note.id) == "unsure"
    jobs.submit_one(session, vendor_amazon, note.id)  # the next run: nothing sent again
    assert len(emu.vendor.submitted) == 1
    page = client.get(f"/hq/vendor/credit-notes/{note.id}").get_data(as_text=True)
    assert "Vendor Central" in page and 'value="no"' in page
    client.post(f"/hq/vendor/credit-notes/{note.id}/checked", data={"amazon_has_it": "no"})
    session.refresh(note)
    assert note.status == "queued"
    jobs.submit_one(session, vendor_amazon, note.id)
    # Amazon had it after all: the same number is refused as a duplicate, never paid twice.
    assert jobs.check_one(session, vendor_amazon, note.id) == "rejected"
    assert note.amazon_errors[0]["code"] == "DuplicateInvoice"


def test_the_sandbox_validates_submit_invoices_against_amazons_model(emu):
    good = {"invoices": [{"invoiceType": "CreditNote", "id": "CN-1",
                          "date": "2026-12-01T10:00:00Z", "remitToParty": {"partyId": "V1"},
                          "invoiceTotal": {"currencyCode": "USD", "amount": "10.00"}}]}
    assert emu.submit_invoices("V1", good)
    for broken in ({}, {"invoices": []},
                   {"invoices": [{**good["invoices"][0], "invoiceType": "Refund"}]},
                   {"invoices": [{**good["invoices"][0], "date": "yesterday"}]},
                   {"invoices": [{**good["invoices"][0], "remitToParty": {}}]},
                   {"invoices": [{**good["invoices"][0],
                                  "invoiceTotal": {"currencyCode": "USD", "amount": 10}}]},
                   {"invoices": [{**good["invoices"][0], "items": [{"itemSequenceNumber": 1}]}]}):
        with pytest.raises(ApiError) as refused:
            emu.submit_invoices("V1", broken)
        assert refused.value.status == 400


# --- orders Amazon sold itself ------------------------------------------------------------

def test_an_order_amazon_sold_is_amazons_to_refund(client, api_key, session):
    seed_stores(session)
    admin = api_key("admin")
    create_order(client, admin, channel="vendor", order_id="114-7654321-7654321")
    refused = client.post("/api/v1/returns", headers=admin, json={
        "channel": "vendor", "order_id": "114-7654321-7654321",
        "lines": [{"item_id": "11111111111111", "quantity": 1,
                   "reason": "changed_mind.better_price"}], "locale": "en"})
    assert refused.status_code == 422
    assert "Amazon refunds it" in refused.get_data(as_text=True)
    found = client.post("/return/find", data={"order_id": "114-7654321-7654321",
                                               "proof": "10001"})
    assert found.status_code == 302, found.get_data(as_text=True)
    page = client.get("/return/items").get_data(as_text=True)
    assert 'id="sold-by-amazon"' in page and "Your Orders on Amazon" in page
    # At the counter, the order number typed instead of a voucher says the same.
    store_user(session, "NYC-1", "clerk", "101", "2468")
    _tablet(client, session)
    _sign_in(client)
    counter = client.post("/store/scan", data={"code": "114-7654321-7654321"})
    assert "Amazon sold this order itself" in counter.get_data(as_text=True)


def test_a_vendor_refund_is_never_paid_by_homing_unless_the_policy_says_why(
        client, api_key, session):
    from hub.amazon.service import queue_refund
    from hub.refunds.models import Refund

    errors = publish_policy_errors({"brand_takes_back": True, "reason": ""})
    assert errors and errors[0]["field"] == "vendor_orders.reason"
    refund = _vendor_refund(session, takes_back=False)
    queue_refund(session, type("M", (), {"payload": {"refund_id": refund.id}})())
    assert refund.status == "amazon_refunded"
    refund = _vendor_refund(session, takes_back=True)
    queue_refund(session, type("M", (), {"payload": {"refund_id": refund.id}})())
    assert refund.status == "manual"
    assert session.scalar(sa.select(sa.func.count(Refund.id))) == 2


def publish_policy_errors(section: dict) -> list[dict]:
    from hub.policy.document import validate_policy

    doc = default_policy()
    doc["vendor_orders"] = section
    return validate_policy(doc)


def _vendor_refund(session, takes_back: bool):
    """A refund intent for a vendor order, as an intake would write it."""
    from hub.orders.models import Order
    from hub.policy.service import current_policy
    from hub.refunds.models import Refund
    from hub.returns.models import ReturnAuthorization

    version = current_policy(session)
    doc = default_policy()
    if takes_back:
        doc["vendor_orders"] = {"brand_takes_back": True,
                                "reason": "Brand store goodwill for local customers"}
    order = Order(channel="vendor", external_id=f"114-000000{int(takes_back)}-0000000",
                  marketplace_id="ATVPDKIKX0DER", currency="USD", status="delivered")
    session.add(order)
    session.flush()
    rma = ReturnAuthorization(number=f"R-V{int(takes_back)}", order_id=order.id,
                              status="completed", policy_snapshot=doc, currency="USD",
                              policy_version_id=version.id,
                              expires_at=datetime.now(UTC) + timedelta(days=14))
    session.add(rma)
    session.flush()
    refund = Refund(rma_id=rma.id, order_id=order.id, channel="vendor", status="pending",
                    currency="USD", idempotency_key=f"vendor-test-{int(takes_back)}")
    session.add(refund)
    session.flush()
    return refund



def test_a_worker_that_died_mid_call_leaves_the_note_unsure_and_overdue_for_hq(
        client, session, vendor_amazon, emu):
    from hub.jobs.deadlines import overdue

    note = _credit_note(client, session)
    jobs._claim(session, note.id)  # claimed; the worker dies before Amazon answers
    session.execute(sa.update(VendorCreditNote).where(VendorCreditNote.id == note.id)
                    .values(updated_at=datetime.now(UTC) - timedelta(minutes=11)))
    session.commit()
    assert jobs.mark_stale_submissions(session) == 1
    session.commit()
    session.refresh(note)
    assert note.status == "unsure" and emu.vendor.submitted == []
    session.execute(sa.update(VendorCreditNote).where(VendorCreditNote.id == note.id)
                    .values(updated_at=datetime.now(UTC) - timedelta(hours=5)))
    session.commit()
    (item,) = [o for o in overdue(session, datetime.now(UTC)) if o.kind == "vendor_credit_note"]
    assert item.state == "unsure" and item.owner == "HQ: a check in Vendor Central"
