from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.money import Money, MoneyError


@pytest.mark.parametrize("amount, currency, minor", [
    ("19.99", "USD", 1999), ("1999", "JPY", 1999), ("1.999", "KWD", 1999), ("0", "EUR", 0),
    ("-5.10", "GBP", -510),
])
def test_minor_units_follow_the_currency(amount, currency, minor):
    money = Money(Decimal(amount), currency)
    assert money.to_minor() == minor
    assert Money.from_minor(minor, currency) == money


@pytest.mark.parametrize("amount, currency", [("0.001", "USD"), ("1.5", "JPY"), ("NaN", "USD")])
def test_amounts_that_do_not_fit_the_currency_are_refused(amount, currency):
    with pytest.raises(MoneyError):
        Money(Decimal(amount), currency)


def test_unknown_currency_and_mixing_currencies_are_refused():
    with pytest.raises(MoneyError, match="unsupported currency"):
        Money(Decimal(1), "XXX")
    with pytest.raises(MoneyError, match="cannot combine"):
        Money(Decimal(1), "USD") + Money(Decimal(1), "EUR")


def test_rounding_is_half_even():
    assert Money.rounded(Decimal("0.125"), "USD").to_minor() == 12
    assert Money.rounded(Decimal("0.135"), "USD").to_minor() == 14


@given(st.integers(-10**12, 10**12), st.sampled_from(["USD", "JPY", "KWD", "EUR"]))
def test_minor_round_trip_is_exact(minor, currency):
    assert Money.from_minor(minor, currency).to_minor() == minor
