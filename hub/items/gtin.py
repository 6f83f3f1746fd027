"""GTINs (EAN-13, EAN-8, UPC-A, UPC-E, GTIN-14) read from a barcode or typed: normalised to one
comparable form, with their check digits verified.

Pure domain code. Every GTIN is compared as 14 digits (GTIN-14, zero-padded on the left), so a
UPC-A and the EAN-13 with a leading 0 are the same item, as GS1 defines them. UPC-E is expanded
to its UPC-A first. A Code 128 barcode counts only when it carries a GS1 GTIN (AI 01)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hub.text import N_

MAX_INPUT = 64  # longer than any GTIN or GS1-128 element string we read; the rest is noise
FORMATS = ("ean_13", "ean_8", "upc_a", "upc_e", "code_128", "typed")
_SYMBOLOGY_ID = re.compile(r"^\][A-Za-z][0-9]")  # "]C1", "]E0": prefixes some scanners add
_AI_01 = re.compile(r"^(?:\(01\)|01)(\d{14})")

ERRORS = {
    "empty": N_("Scan the item's barcode or type the digits under it."),
    "too_long": N_("That is far too long for a barcode number."),
    "not_digits": N_("A product barcode number has only digits."),
    "bad_length": N_("A product barcode has 8, 12, 13 or 14 digits (UPC-E: 6 to 8)."),
    "bad_check_digit": N_("The last digit does not fit the others: a digit was misread or "
                          "mistyped. Scan again or check the digits."),
    "not_a_gtin": N_("This barcode is not a product number (EAN or UPC)."),
}


class GtinError(ValueError):
    def __init__(self, code: str):
        super().__init__(ERRORS[code])
        self.code = code


@dataclass(frozen=True)
class Gtin:
    digits: str  # always 14 digits

    @property
    def display(self) -> str:
        """As printed under the barcode: EAN-8, UPC-A (12), EAN-13 or GTIN-14."""
        if self.digits.startswith("000000"):
            return self.digits[6:]
        if self.digits.startswith("00"):
            return self.digits[2:]
        if self.digits.startswith("0"):
            return self.digits[1:]
        return self.digits


def check_digit(data: str) -> str:
    """The GS1 check digit for ``data`` (the digits before it): weights 3, 1, 3, ... from
    the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(data)))
    return str((10 - total % 10) % 10)


def is_valid(digits: str) -> bool:
    return len(digits) >= 2 and digits.isdigit() and check_digit(digits[:-1]) == digits[-1]


def expand_upc_e(code: str) -> str:
    """UPC-E (6 digits, or 7/8 with number system 0 or 1 and the check digit) as its UPC-A."""
    if len(code) == 6:
        system, middle, given = "0", code, None
    elif len(code) in (7, 8):
        system, middle, given = code[0], code[1:7], code[7] if len(code) == 8 else None
    else:
        raise GtinError("bad_length")
    if system not in "01":
        raise GtinError("not_a_gtin")
    d = middle
    last = d[5]
    if last in "012":
        body = d[0:2] + last + "0000" + d[2:5]
    elif last == "3":
        body = d[0:3] + "00000" + d[3:5]
    elif last == "4":
        body = d[0:4] + "00000" + d[4]
    else:
        body = d[0:5] + "0000" + last
    upc_a = system + body
    check = check_digit(upc_a)
    if given is not None and given != check:
        raise GtinError("bad_check_digit")
    return upc_a + check


def _clean(raw: object) -> str:
    if not isinstance(raw, str):
        raise GtinError("empty")
    if len(raw) > MAX_INPUT:
        raise GtinError("too_long")
    text = _SYMBOLOGY_ID.sub("", raw.strip())
    text = re.sub(r"[\s\-]", "", text)
    if not text:
        raise GtinError("empty")
    return text


def parse(raw: object, barcode_format: str = "typed") -> Gtin:
    """The GTIN in a barcode's text (``barcode_format`` as BarcodeDetector names it) or in
    typed digits; raises GtinError with a code saying what is wrong."""
    text = _clean(raw)
    if barcode_format == "code_128":
        found = _AI_01.match(text.replace("\x1d", ""))
        if not found:
            raise GtinError("not_a_gtin")
        text = found.group(1)
    if not text.isdigit() or not text.isascii():
        raise GtinError("not_digits")
    if barcode_format == "upc_e" or (barcode_format == "typed" and len(text) in (6, 7)):
        return Gtin(expand_upc_e(text).zfill(14))
    if barcode_format == "typed" and len(text) == 8 and not is_valid(text):
        # Eight typed digits are EAN-8 or UPC-E; only the check digit can tell them apart.
        try:
            return Gtin(expand_upc_e(text).zfill(14))
        except GtinError:
            raise GtinError("bad_check_digit") from None
    if len(text) not in (8, 12, 13, 14):
        raise GtinError("bad_length")
    if not is_valid(text):
        raise GtinError("bad_check_digit")
    return Gtin(text.zfill(14))


def normalise(raw: object, barcode_format: str = "typed") -> str:
    """The 14-digit form, or raise GtinError."""
    return parse(raw, barcode_format).digits


def same_item(a: str, b: str) -> bool:
    """Whether two stored GTINs (any length) name the same item."""
    return bool(a) and bool(b) and a.zfill(14) == b.zfill(14)
