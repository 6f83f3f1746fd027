"""Money as an exact Decimal amount in a currency, stored as integer minor units.

Pure domain code: no Flask, no database. Amounts never pass through float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

# ISO 4217 exponents that differ from the usual two decimals.
_EXPONENTS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
                     "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}
# Currencies of the Amazon marketplaces and the usual store countries.
SUPPORTED = frozenset({
    "USD", "CAD", "MXN", "BRL", "GBP", "EUR", "SEK", "PLN", "TRY", "AED", "SAR", "EGP",
    "INR", "JPY", "AUD", "SGD", "NZD", "CHF", "DKK", "NOK", "CZK", "ZAR", "KWD", "BHD",
})


def amount_text(minor: int, currency: str) -> str:
    """Minor units as the plain decimal amount the API and exports show ("108.86")."""
    return str(Money.from_minor(minor, currency).amount)


class MoneyError(ValueError):
    """An amount or currency that cannot be represented exactly."""


def exponent(currency: str) -> int:
    if currency not in SUPPORTED:
        raise MoneyError(f"unsupported currency {currency!r}")
    return _EXPONENTS.get(currency, 2)


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        places = exponent(self.currency)
        try:
            amount = Decimal(self.amount)
        except (InvalidOperation, TypeError, ValueError):
            raise MoneyError(f"{self.amount!r} is not an amount") from None
        if not amount.is_finite():
            raise MoneyError("amount must be finite")
        if amount != amount.quantize(Decimal(1).scaleb(-places)):
            raise MoneyError(f"{amount} has more decimals than {self.currency} allows")
        object.__setattr__(self, "amount", amount.quantize(Decimal(1).scaleb(-places)))

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        if isinstance(minor, bool) or not isinstance(minor, int):
            raise MoneyError("minor units must be an integer")
        return cls(Decimal(minor).scaleb(-exponent(currency)), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @classmethod
    def rounded(cls, amount: Decimal, currency: str) -> Money:
        """Round half-even (banker's rounding) to the currency's minor unit."""
        return cls(Decimal(amount).quantize(Decimal(1).scaleb(-exponent(currency)),
                                            rounding=ROUND_HALF_EVEN), currency)

    def to_minor(self) -> int:
        return int(self.amount.scaleb(exponent(self.currency)))

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError("can only combine Money with Money")
        if other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
