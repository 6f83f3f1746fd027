"""Read Vendor Central's exports (returns, debit notes, chargebacks, shortage and co-op
claims) into charge lines. Pure domain code: no Flask, no database.

Headers are matched by name, leniently (``Debit Note Number``, ``invoice_number``, ``Qty``),
as the store import does (hub.stores.importing). Every row comes out either as a ChargeRow or
as a RowProblem naming its line; columns Homing does not read are reported once. A row whose
currency differs from the file's first currency, or that repeats an earlier row's line (same
kind, debit note, VRET and ASIN), is refused by line; the rest still imports."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from hub.money import Money, MoneyError
from hub.text import N_

CHARGE_KINDS = ("return", "debit_note", "chargeback", "shortage", "coop")

FIELDS = ("kind", "debit_note_number", "vret_number", "rma_id", "return_id", "asin", "units",
          "amount", "unit_cost", "currency", "date", "description")
ALIASES = {
    "kind": ("type", "kind", "chargetype", "claimtype", "transactiontype", "documenttype",
             "category"),
    "debit_note_number": ("debitnotenumber", "debitnote", "debitnoteno", "invoicenumber",
                          "invoiceno", "returninvoicenumber", "claimid", "claimnumber",
                          "chargebackid", "disputeid", "agreementid", "documentnumber"),
    "vret_number": ("vret", "vretnumber", "vretid", "shipmentrequestid", "returnshipmentid",
                    "consignorsreferencenumber", "consignorreference"),
    "rma_id": ("rma", "rmaid", "rmanumber", "returnauthorization", "amazonrma"),
    "return_id": ("returnid", "returnsreferencenumber", "returnnoticenumber",
                  "returnreference"),
    "asin": ("asin", "amazonproductidentifier", "productid"),
    "units": ("units", "quantity", "qty", "returnedunits", "unitscharged", "shortageunits",
              "quantityreturned"),
    "amount": ("amount", "totalamount", "chargeamount", "debitamount", "total", "netamount",
               "claimamount", "totalcost"),
    "unit_cost": ("unitcost", "cost", "costperunit", "netcost", "unitprice"),
    "currency": ("currency", "currencycode", "curr"),
    "date": ("date", "invoicedate", "debitnotedate", "returndate", "chargebackdate",
             "claimdate", "issuedate"),
    "description": ("description", "reason", "issue", "comment", "comments", "notes"),
}
KIND_WORDS = {
    "return": ("return", "returns", "vendorreturn", "vret", "returndebitnote"),
    "debit_note": ("debitnote", "debit", "debitnotes"),
    "chargeback": ("chargeback", "chargebacks", "compliance", "operationalchargeback"),
    "shortage": ("shortage", "shortages", "shortageclaim", "shortclaim"),
    "coop": ("coop", "cooperative", "coopclaim", "marketingcoop", "coopagreement"),
}
MATCHED_KINDS = ("return", "debit_note", "shortage")  # those a VRET receipt can answer
MAX_ROWS = 50_000
_ASIN = re.compile(r"^[A-Z0-9]{10}$")
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")  # also safe in a URL and a file name

# Why a line was refused or noted; translated where the report is shown.
PROBLEMS = {
    "unknown_columns": N_("Columns not read: %(columns)s."),
    "missing_field": N_("%(field)s is empty."),
    "bad_reference": N_("%(field)s %(value)s is not a Vendor Central reference."),
    "bad_asin": N_("ASIN %(value)s is not 10 letters and digits."),
    "bad_units": N_("Units %(value)s is not a whole number above zero."),
    "bad_amount": N_("Amount %(value)s is not an amount in %(currency)s."),
    "bad_currency": N_("Currency %(value)s is not a currency code."),
    "mixed_currency": N_("Currency %(value)s differs from the file's %(currency)s: import "
                         "each currency on its own."),
    "bad_date": N_("Date %(value)s is not a date."),
    "unknown_kind": N_("Type %(value)s is not a return, debit note, chargeback, shortage or "
                       "co-op claim."),
    "duplicate_line": N_("Repeats line %(first)d (same type, debit note, VRET and ASIN)."),
    "vret_not_received": N_("VRET %(value)s was never received here: listed as a charge "
                            "without a receipt."),
    "already_imported": N_("Already imported: left as it was."),
    "too_many_rows": N_("The file has more than %(max)d rows; split it."),
}


class ExportFormatError(ValueError):
    """The file as a whole cannot be read."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ChargeRow:
    line: int
    kind: str
    debit_note_number: str
    vret_number: str
    rma_id: str
    return_id: str
    asin: str
    units: int
    amount_minor: int
    currency: str
    charged_on: date | None
    description: str

    @property
    def line_key(self) -> str:
        return "|".join((self.kind, self.debit_note_number, self.vret_number, self.asin))


@dataclass(frozen=True)
class RowProblem:
    line: int
    code: str
    params: dict

    @property
    def message(self) -> str:
        return PROBLEMS[self.code] % self.params


@dataclass
class ParsedExport:
    rows: list[ChargeRow]
    problems: list[RowProblem]
    total: int


class _Refuse(Exception):
    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code, self.params = code, params


def _norm(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(header or "").lower())


def resolve_columns(headers: list[str]) -> tuple[dict[str, int], list[str]]:
    """field -> column index, and the headers no field reads."""
    by_norm: dict[str, int] = {}
    for index, header in enumerate(headers):
        by_norm.setdefault(_norm(header), index)
    columns: dict[str, int] = {}
    for field_name, aliases in ALIASES.items():
        for alias in aliases:
            if alias in by_norm and by_norm[alias] not in columns.values():
                columns[field_name] = by_norm[alias]
                break
    unread = [h for i, h in enumerate(headers) if i not in columns.values() and str(h).strip()]
    return columns, unread


def table_rows(data: bytes, filename: str) -> Iterator[list[str]]:
    """The file's rows as lists of text, CSV (any delimiter Excel writes) or XLSX."""
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx"):
        yield from _xlsx_rows(data)
        return
    text = _decode(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    yield from csv.reader(io.StringIO(text), dialect)


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _xlsx_rows(data: bytes) -> Iterator[list[str]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ExportFormatError("unreadable", "The file is not a readable XLSX workbook.") \
            from exc
    try:
        for row in book.worksheets[0].iter_rows(values_only=True):
            yield [_cell(v) for v in row]
    finally:
        book.close()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_export(data: bytes, filename: str, default_kind: str = "debit_note") -> ParsedExport:
    rows = table_rows(data, filename)
    header: list[str] | None = None
    header_line = 0
    for number, row in enumerate(rows, start=1):
        if any(cell.strip() for cell in row):
            header, header_line = row, number
            break
    if header is None:
        raise ExportFormatError("empty", "The file has no header row.")
    columns, unread = resolve_columns(header)
    if "debit_note_number" not in columns or ("amount" not in columns
                                              and "unit_cost" not in columns):
        raise ExportFormatError("no_columns", "The file has no debit note number or amount "
                                "column (headers such as \"Debit Note Number\" and "
                                "\"Amount\").")
    problems = [RowProblem(header_line, "unknown_columns", {"columns": ", ".join(unread)})] \
        if unread else []
    return _rows(rows, columns, header_line, default_kind, problems)


def _rows(rows: Iterable[list[str]], columns: dict[str, int], header_line: int,
          default_kind: str, problems: list[RowProblem]) -> ParsedExport:
    parsed: list[ChargeRow] = []
    seen: dict[str, int] = {}
    currency: str | None = None
    total = 0
    for number, row in enumerate(rows, start=header_line + 1):
        if not any(cell.strip() for cell in row):
            continue
        total += 1
        if total > MAX_ROWS:
            problems.append(RowProblem(number, "too_many_rows", {"max": MAX_ROWS}))
            break
        try:
            charge = _charge(number, row, columns, default_kind)
            if currency is not None and charge.currency != currency:
                raise _Refuse("mixed_currency", value=charge.currency, currency=currency)
            if charge.line_key in seen:
                raise _Refuse("duplicate_line", first=seen[charge.line_key])
        except _Refuse as exc:
            problems.append(RowProblem(number, exc.code, exc.params))
            continue
        currency = currency or charge.currency
        seen[charge.line_key] = number
        parsed.append(charge)
    return ParsedExport(parsed, problems, total)


def _charge(number: int, row: list[str], columns: dict[str, int], default_kind: str
            ) -> ChargeRow:
    def get(name: str) -> str:
        index = columns.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    kind = _kind(get("kind")) if get("kind") else default_kind
    debit_note = _reference(get("debit_note_number"), "debit_note_number", required=True)
    vret = _reference(get("vret_number"), "vret_number")
    asin = get("asin").upper()
    if asin and not _ASIN.match(asin):
        raise _Refuse("bad_asin", value=asin[:40])
    if kind in MATCHED_KINDS and not asin:
        raise _Refuse("missing_field", field="ASIN")
    units = _units(get("units"), required=kind in MATCHED_KINDS)
    currency = get("currency").upper()
    if not currency:
        raise _Refuse("missing_field", field="Currency")
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise _Refuse("bad_currency", value=currency[:10])
    amount = _amount(get("amount"), get("unit_cost"), units, currency)
    return ChargeRow(number, kind, debit_note, vret,
                     _reference(get("rma_id"), "rma_id"), _reference(get("return_id"),
                                                                     "return_id"),
                     asin, units, amount, currency, _date(get("date")),
                     get("description")[:500])


def _kind(value: str) -> str:
    word = _norm(value)
    for kind, words in KIND_WORDS.items():
        if word in words:
            return kind
    raise _Refuse("unknown_kind", value=value[:40])


def _reference(value: str, field_name: str, required: bool = False) -> str:
    if not value:
        if required:
            raise _Refuse("missing_field", field=field_name.replace("_", " "))
        return ""
    if not _REFERENCE.match(value):
        raise _Refuse("bad_reference", field=field_name.replace("_", " "), value=value[:40])
    return value


def _units(value: str, required: bool) -> int:
    if not value:
        if required:
            raise _Refuse("missing_field", field="Units")
        return 0
    try:
        units = int(Decimal(value.replace(",", "")))
        if units != Decimal(value.replace(",", "")) or units <= 0:
            raise ValueError
    except (InvalidOperation, ValueError):
        raise _Refuse("bad_units", value=value[:20]) from None
    return units


def _amount(amount: str, unit_cost: str, units: int, currency: str) -> int:
    text = amount or unit_cost
    if not text:
        raise _Refuse("missing_field", field="Amount")
    cleaned = re.sub(r"[^\d.,-]", "", text)
    if cleaned.count(",") and not cleaned.count("."):
        cleaned = cleaned.replace(",", ".")  # 12,50 as written in Europe
    cleaned = cleaned.replace(",", "")
    try:
        value = abs(Decimal(cleaned))  # a debit note may be written negative
        minor = Money(value, currency).to_minor()
    except (InvalidOperation, MoneyError, ValueError):
        raise _Refuse("bad_amount", value=text[:20], currency=currency) from None
    if not amount:
        minor *= max(units, 1)
    return minor


def _date(value: str) -> date | None:
    if not value:
        return None
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d", "%b %d, %Y",
                "%d-%b-%Y"):
        try:
            return datetime.strptime(value[:12].strip(), fmt).date()
        except ValueError:
            continue
    raise _Refuse("bad_date", value=value[:20])


__all__ = ["CHARGE_KINDS", "ChargeRow", "ExportFormatError", "ParsedExport", "RowProblem",
           "parse_export"]
