"""The vendor feature's pure code: reading Vendor Central's exports leniently, matching a
debit note to what arrived, and the sandbox's model checks."""

from __future__ import annotations

import pytest

from hub.vendor.importing import parse_export
from hub.vendor.matching import Charged, Counted, differences, share


def test_headers_are_matched_by_name_whatever_their_spelling():
    parsed = parse_export(b"debit_note_no;VRET ID;asin;Qty;Unit Cost;currency_code\n"
                          b"DN-1;VRET-1;b07xj8c8f5;3;12,50;EUR\n", "x.csv")
    (row,) = parsed.rows
    assert (row.debit_note_number, row.vret_number, row.asin, row.units) == \
        ("DN-1", "VRET-1", "B07XJ8C8F5", 3)
    assert row.amount_minor == 3750 and row.currency == "EUR" and parsed.problems == []


def test_each_bad_line_is_named_and_the_rest_still_reads():
    parsed = parse_export(
        b"Debit Note Number,ASIN,Units,Amount,Currency,Type,Extra\n"
        b"DN-1,B07XJ8C8F5,1,10.00,JPY,Return,\n"  # JPY has no minor unit: 10.00 is 10
        b"DN-2,B07XJ8C8F5,1,10.5,JPY,Return,\n"
        b"DN-3,B07XJ8C8F5,1,10,USD,Return,\n"
        b"DN-4,B07XJ8C8F5,1,10,JPY,Refund,\n"
        b",B07XJ8C8F5,1,10,JPY,Return,\n", "x.csv")
    assert [r.debit_note_number for r in parsed.rows] == ["DN-1"]
    assert [(p.line, p.code) for p in parsed.problems] == [
        (1, "unknown_columns"), (3, "bad_amount"), (4, "mixed_currency"),
        (5, "unknown_kind"), (6, "missing_field")]


@pytest.mark.parametrize("counted, expected", [
    (None, {"no_receipt": (10, 10000)}),
    ([Counted("A", 10, "A")], {}),
    ([Counted("A", 7, "B")], {"units_missing": (3, 3000)}),
    ([Counted("A", 6, "A"), Counted("A", 1, "not_ours"), Counted("A", 2, "D", True)],
     {"units_missing": (1, 1000), "not_ours": (1, 1000), "amazon_damage": (2, 2000)}),
    ([Counted("A", 12, "A")], {}),  # more arrived than charged: nothing to dispute
    ([Counted("B", 10, "A")], {"units_missing": (10, 10000)}),  # another ASIN
])
def test_differences_of_a_debit_note_line(counted, expected):
    found = differences(Charged("DN", "V", "A", 10, 10000, "USD"), counted)
    assert {d.kind: (d.units, d.amount_minor) for d in found} == expected


def test_shares_never_exceed_the_charge():
    assert share(1000, 3, [1, 1, 1]) == [334, 333, 333]
    assert sum(share(1001, 7, [2, 3])) <= 1001 * 5 // 7 + 1
    assert share(500, 0, [1]) == [0]
