"""The credit note as a PDF (fpdf2, pure Python). Rendered once when the note is issued, in
the marketplace's language; the bytes are stored and never rendered again."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from flask_babel import format_date, gettext
from fpdf import FPDF

from hub.money import Money

# A Unicode font where the system has one (Debian's fonts-dejavu); else the PDF core font,
# which covers Latin-1 only (other characters print as "?").
FONT_FILES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
              "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf")


@dataclass
class NoteDocument:
    number: str
    issued_at: datetime
    currency: str
    seller_name: str
    seller_vat_id: str
    order_id: str
    original_invoice: str
    rates: list[dict]  # RateTotal.as_dict()
    total_minor: int
    vat_minor: int
    buyer_company: str = ""
    buyer_vat_id: str = ""
    po_number: str = ""
    replaces: str = ""
    lines: list[tuple[str, int, int]] = field(default_factory=list)  # (title, qty, gross)


def _font(pdf: FPDF) -> tuple[str, bool]:
    for path in FONT_FILES:
        if Path(path).exists():
            pdf.add_font("Body", fname=path)
            return "Body", True
    return "Helvetica", False


def render(doc: NoteDocument) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_creation_date(doc.issued_at)
    pdf.set_title(doc.number)
    pdf.add_page()
    family, unicode_font = _font(pdf)

    def text(value: str) -> str:
        return value if unicode_font else value.encode("latin-1", "replace").decode("latin-1")

    def money(minor: int) -> str:
        return str(Money.from_minor(minor, doc.currency))

    def row(label: str, value: str) -> None:
        pdf.cell(60, 7, text(label))
        pdf.cell(0, 7, text(value), new_x="LMARGIN", new_y="NEXT")

    pdf.set_font(family, size=18)
    pdf.cell(0, 12, text(gettext("Credit note %(number)s", number=doc.number)),
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=10)
    row(gettext("Date"), format_date(doc.issued_at, "long"))
    row(gettext("Seller"), doc.seller_name)
    row(gettext("Seller VAT id"), doc.seller_vat_id or "-")
    row(gettext("Amazon order"), doc.order_id)
    row(gettext("Original invoice"), doc.original_invoice)
    if doc.replaces:
        row(gettext("Corrects credit note"), doc.replaces)
    if doc.buyer_company or doc.buyer_vat_id or doc.po_number:
        row(gettext("Buyer"), doc.buyer_company or "-")
        row(gettext("Buyer VAT id"), doc.buyer_vat_id or "-")
        row(gettext("PO number"), doc.po_number or "-")
    pdf.ln(4)
    for title, quantity, gross in doc.lines:
        pdf.cell(120, 7, text(f"{quantity} × {title}"[:80]))
        pdf.cell(0, 7, text(money(gross)), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(family, size=9)
    for head, width in ((gettext("VAT rate"), 40), (gettext("Net"), 50), (gettext("VAT"), 50),
                        (gettext("Gross"), 0)):
        pdf.cell(width, 7, text(head), border="B")
    pdf.ln(7)
    for rate in doc.rates:
        pdf.cell(40, 7, text(f"{rate['rate']} %"))
        pdf.cell(50, 7, text(money(rate["net_minor"])))
        pdf.cell(50, 7, text(money(rate["vat_minor"])))
        pdf.cell(0, 7, text(money(rate["gross_minor"])), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=11)
    row(gettext("Total VAT"), money(doc.vat_minor))
    row(gettext("Total refunded"), money(doc.total_minor))
    return bytes(pdf.output())
