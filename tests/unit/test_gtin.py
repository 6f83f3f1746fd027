"""GTIN normalisation and check digits (pure): what the counter compares a scanned barcode by."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.items import gtin
from hub.items.gtin import GtinError


@pytest.mark.parametrize("raw, fmt, digits", [
    ("4006381333931", "ean_13", "04006381333931"),
    ("036000291452", "upc_a", "00036000291452"),
    ("0036000291452", "ean_13", "00036000291452"),  # UPC-A is EAN-13 with a leading 0
    ("96385074", "ean_8", "00000096385074"),
    ("01234565", "upc_e", "00012345000065"),
    ("123456", "upc_e", "00012345000065"),
    (" 4006381 333931 ", "typed", "04006381333931"),
    ("400-6381-333931", "typed", "04006381333931"),
    ("]E04006381333931", "ean_13", "04006381333931"),
    ("(01)04006381333931", "code_128", "04006381333931"),
    ("0104006381333931", "code_128", "04006381333931"),
    ("010400638133393121ABC123", "code_128", "04006381333931"),
    ("04252614", "typed", "00042100005264"),  # not a valid EAN-8: read as UPC-E
    ("96385074", "typed", "00000096385074"),
])
def test_every_form_normalises_to_fourteen_digits(raw, fmt, digits):
    assert gtin.normalise(raw, fmt) == digits


def test_upc_a_and_ean_13_with_leading_zero_are_the_same_item():
    assert gtin.same_item(gtin.normalise("036000291452", "upc_a"),
                          gtin.normalise("0036000291452", "ean_13"))
    assert gtin.same_item("036000291452", "00036000291452")
    assert not gtin.same_item("", "")


def test_upc_e_expansion_rules():
    # One per rule of the last middle digit (0-2, 3, 4, 5-9); the check digit is the UPC-A's.
    assert gtin.expand_upc_e("0123450")[:11] == "01200000345"
    assert gtin.expand_upc_e("0123453")[:11] == "01230000045"
    assert gtin.expand_upc_e("0123454")[:11] == "01234000005"
    assert gtin.expand_upc_e("0123457")[:11] == "01234500007"


@pytest.mark.parametrize("raw, fmt, code", [
    ("", "typed", "empty"),
    ("   ", "typed", "empty"),
    (None, "typed", "empty"),
    (12345, "typed", "empty"),
    ("4006381333932", "ean_13", "bad_check_digit"),
    ("036000291453", "upc_a", "bad_check_digit"),
    ("12345678", "typed", "bad_check_digit"),
    ("40063813339", "typed", "bad_length"),
    ("400638133393100", "typed", "bad_length"),
    ("4006381333931X", "typed", "not_digits"),
    ("٤٠٠٦٣٨١٣٣٣٩٣١", "typed", "not_digits"),  # Arabic-Indic digits are not barcode digits
    ("'; DROP TABLE order_lines; --", "typed", "not_digits"),
    ("<script>alert(1)</script>", "ean_13", "not_digits"),
    ("9" * 65, "typed", "too_long"),
    ("9" * 100_000, "ean_13", "too_long"),
    ("HELLO-WORLD", "code_128", "not_a_gtin"),
    ("2123456", "upc_e", "not_a_gtin"),
    ("01234566", "upc_e", "bad_check_digit"),
])
def test_bad_input_is_refused_with_a_specific_code(raw, fmt, code):
    with pytest.raises(GtinError) as caught:
        gtin.normalise(raw, fmt)
    assert caught.value.code == code
    assert str(caught.value) == gtin.ERRORS[code]


def test_display_is_what_is_printed_under_the_barcode():
    assert gtin.parse("036000291452", "upc_a").display == "036000291452"
    assert gtin.parse("4006381333931", "ean_13").display == "4006381333931"
    assert gtin.parse("96385074", "ean_8").display == "96385074"


@given(st.text(alphabet="0123456789", min_size=11, max_size=13))
def test_a_computed_check_digit_always_validates_and_one_wrong_digit_never_does(data):
    code = data + gtin.check_digit(data)
    assert gtin.is_valid(code)
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    assert not gtin.is_valid(wrong)


@given(st.text(max_size=80))
def test_any_text_either_normalises_or_raises_gtin_error(text):
    try:
        digits = gtin.normalise(text)
    except GtinError:
        return
    assert len(digits) == 14 and digits.isdigit() and gtin.is_valid(digits)
