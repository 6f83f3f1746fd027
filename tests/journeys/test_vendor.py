"""Vendor Central through the real stack (gunicorn, PostgreSQL, the RQ worker, the sandbox
over HTTP with python-amazon-sp-api): a VRET shipment received at a store on the tablet, the
debit-note export imported in HQ, the shortage disputed with its evidence pack downloaded,
and the returns credit note submitted and accepted by Amazon (the sandbox).

The old code fails at the first step: the tablet had no way to receive a vendor return."""

from __future__ import annotations

import io
import secrets
import zipfile
from pathlib import Path

import sqlalchemy as sa

from hub.vendor.models import VendorCreditNote
from tests.journeys.clerk_helpers import (
    DESKTOP,
    TABLET_LANDSCAPE,
    enrol_and_sign_in,
    photo,
    sign_in_to_hq,
)

ASIN = "B07XJ8C8F5"


def _count(page, asin: str, units: int, grade: str = "A", damaged: bool = False) -> None:
    page.fill("#asin", asin)
    page.fill("#units", str(units))
    page.select_option("#grade", grade)
    if damaged:
        page.check("#amazon_damage")
    page.select_option("#disposition", "restock")
    page.click("text=Add to the count")
    page.wait_for_selector(f"#vret-lines tr[data-asin='{asin}']")


def _note(stack, vret: str) -> tuple[str, str]:
    """(number, status) of the VRET's latest credit note."""
    with stack.session() as s:
        note = s.scalar(sa.select(VendorCreditNote).where(
            VendorCreditNote.number.like(f"CN-{vret}-%")).order_by(VendorCreditNote.id.desc()))
        return note.number, note.status


def test_a_vret_is_received_reconciled_disputed_and_credited(
        stack, emu, new_page, screenshot, tmp_path):
    vret = f"VRET-{secrets.randbelow(10**8):08d}"
    debit_note = f"DN-{secrets.randbelow(10**8):08d}"

    # The clerk receives Amazon's shipment on the tablet: 9 of the 10 units charged arrive.
    page = new_page(viewport=TABLET_LANDSCAPE)
    enrol_and_sign_in(page, stack)
    page.click("text=Amazon returns (VRET)")
    page.wait_for_url("**/store/vendor")
    page.fill("#vret", vret.lower())
    page.fill("#rma", "RMA-J1")
    page.click("text=Start counting")
    page.wait_for_url("**/store/vendor/*")
    _count(page, ASIN, 8)
    _count(page, "B08N5WRWNW", 1, damaged=True)
    page.set_input_files("#photo", str(photo(tmp_path / "box.jpg")))  # submits itself
    page.wait_for_selector(".photos img")
    screenshot(page, "store-vret")
    page.click("#close-vret")
    page.wait_for_selector("#vret-received")

    # HQ imports the debit-note export from Vendor Central.
    export = tmp_path / "debit-notes.csv"
    export.write_text(
        "Debit Note Number,Type,VRET,Return ID,ASIN,Quantity,Amount,Currency,Note\n"
        f"{debit_note},Return,{vret},RET-J1,{ASIN},10,250.00,USD,x\n"
        f"{debit_note},Return,{vret},RET-J1,B08N5WRWNW,1,30.00,USD,x\n"
        f"{debit_note},Return,{vret},RET-J1,{ASIN},10,250.00,USD,x\n")  # a duplicate line
    hq = new_page(viewport=DESKTOP)
    sign_in_to_hq(hq, stack)
    hq.click("nav >> text=Vendor Central")
    hq.wait_for_url("**/hq/vendor")
    hq.set_input_files("#export-file", str(export))
    hq.click("#import-export")
    hq.wait_for_url("**/hq/vendor/imports/*")
    assert "3 rows: 2 new, 0 already known, 1 refused." in hq.inner_text("#import-summary")
    assert hq.locator("#import-report tr[data-code=duplicate_line]").count() == 1
    screenshot(hq, "hq-vendor-import")

    # The shortage waits in the dispute queue; its evidence pack downloads as PDF and ZIP.
    hq.goto(f"{stack.url}/hq/vendor")
    row = hq.locator(f"#disputes tr:has(a:text-is('{debit_note}'))[data-kind=units_missing]")
    assert "$50.00" in row.inner_text()
    assert hq.locator(f"#disputes tr:has(a:text-is('{debit_note}'))"
                      "[data-kind=amazon_damage]").count() == 1
    screenshot(hq, "hq-vendor-disputes")
    row.locator("a").click()
    hq.wait_for_url(f"**/hq/vendor/debit-notes/{debit_note}")
    with hq.expect_download() as pdf:
        hq.click("#evidence-pdf")
    assert Path(pdf.value.path()).read_bytes()[:5] == b"%PDF-"
    with hq.expect_download() as pack:
        hq.click("#evidence-zip")
    archive = zipfile.ZipFile(io.BytesIO(Path(pack.value.path()).read_bytes()))
    assert f"evidence-{debit_note}.pdf" in archive.namelist()
    assert any(name.startswith("photos/") for name in archive.namelist())
    shortage = hq.locator("#differences tr[data-kind=units_missing]")
    shortage.locator("input[name=note]").fill("VC case 4711")
    shortage.locator("button[value=disputed]").click()
    hq.wait_for_url(f"**/hq/vendor/debit-notes/{debit_note}")
    assert hq.locator("#differences tr[data-kind=units_missing][data-status=disputed]") \
        .count() == 1

    # The returns credit note goes to Amazon (the sandbox, over HTTP) and is accepted.
    hq.click("#write-credit-note")
    hq.wait_for_url("**/hq/vendor/credit-notes/*")
    stack.run_job("outbox-relay")
    stack.wait_for(lambda: _note(stack, vret)[1] != "draft", what="the note queued")
    stack.run_job("vendor-credit-notes")
    stack.wait_for(lambda: _note(stack, vret)[1] == "accepted", timeout=60,
                   what="Amazon to accept the credit note")
    hq.reload()
    assert hq.get_attribute("#credit-status", "data-status") == "accepted"
    screenshot(hq, "hq-vendor-credit-note")
    (sent,) = [i for i in emu.vendor.submitted if i["id"] == _note(stack, vret)[0]]
    details = sent["items"][0]["creditNoteDetails"]
    assert details["consignorsReferenceNumber"] == vret
    assert details["returnsReferenceNumber"] == "RET-J1"
    assert details["debitNoteNumber"] == debit_note and details["rmaId"] == "RMA-J1"

    # The same console in German and Japanese.
    hq.goto(f"{stack.url}/hq/vendor?lang=de")
    german = hq.inner_text("main")
    assert "Einen Vendor-Central-Export importieren" in german
    assert "Von Amazon angenommen" in german
    hq.goto(f"{stack.url}/hq/vendor?lang=ja")
    japanese = hq.inner_text("main")
    assert "Vendor Central のエクスポートをインポート" in japanese
    assert "Amazon が承認" in japanese
    hq.goto(f"{stack.url}/hq/vendor?lang=en")
