"""HQ's credit notes: the list, one note with its PDF as issued, a rejected note corrected
under a new number; roles and hostile input."""

from __future__ import annotations

import sqlalchemy as sa

from hub.creditnotes import upload
from hub.creditnotes.models import CreditNote
from hub.models import utcnow
from tests.integration.amazon_helpers import connector
from tests.integration.hq_helpers import hq_user, sign_in
from tests.integration.test_credit_notes import _business_refund


def _sign_in(client, session, role="finance", store_code=None):
    user = hq_user(session, role, store_code=store_code, staff_number="301" if store_code
                   else None)
    return sign_in(client, user.email)


def test_hq_lists_shows_and_corrects_a_rejected_note(client, api_key, session, sandbox, emu):
    refund = _business_refund(client, api_key, session, sandbox)
    emu.flags["reject_vat_invoice"] = "Invoice number format is not valid"
    conn = connector(sandbox)
    for _ in range(3):
        upload.advance_all(session, lambda seller: conn, utcnow())
        session.commit()
    note = session.scalar(sa.select(CreditNote).where(CreditNote.refund_id == refund.id))
    assert note.status == "rejected"
    _sign_in(client, session)
    page = client.get("/hq/credit-notes").get_data(as_text=True)
    assert "CN-DE-000001" in page and "Invoice number format is not valid" in page
    detail = client.get(f"/hq/credit-notes/{note.id}").get_data(as_text=True)
    assert "PO-4711-2026" in detail and "Correct and resend" in detail
    pdf = client.get(f"/hq/credit-notes/{note.id}/pdf")
    assert pdf.data == note.pdf and pdf.mimetype == "application/pdf"
    bad = client.post(f"/hq/credit-notes/{note.id}/correct",
                      data={"company": "X", "buyer_vat_id": "<script>", "po_number": ""},
                      follow_redirects=True)
    assert "starts with its country code" in bad.get_data(as_text=True)
    session.refresh(note)
    assert note.status == "rejected"  # nothing changed
    done = client.post(f"/hq/credit-notes/{note.id}/correct", follow_redirects=True, data={
        "company": "Muster Maschinenbau GmbH", "buyer_vat_id": "DE987654321",
        "po_number": "PO-4711-2026"})
    assert "CN-DE-000002" in done.get_data(as_text=True)
    session.refresh(note)
    assert note.status == "superseded"
    assert client.get("/hq/credit-notes/999999").status_code == 404
    # The return's drill-down tells the credit notes' story with the refund's.
    from hub.returns.models import ReturnAuthorization

    number = session.get(ReturnAuthorization, refund.rma_id).number
    story = client.get(f"/hq/returns/{number}").get_data(as_text=True)
    assert "Amazon rejected the VAT credit note" in story
    assert "VAT credit note corrected under a new number" in story


def test_a_store_supervisor_cannot_read_credit_notes(client, session):
    from tests.integration.factories import seed_stores

    seed_stores(session)
    _sign_in(client, session, role="supervisor", store_code="NYC-1")
    assert client.get("/hq/credit-notes").status_code == 403
