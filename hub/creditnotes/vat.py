"""The VAT breakdown of a refund, per rate (pure: no Flask, no database).

Each refunded line's VAT is what the refund engine gave back as tax (``Tax`` and
``ShippingTax``); its gross is the line's refund, its net the difference. The rate is the
order line's own (tax over net price), snapped to a tenth of a percent."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

TAX_COMPONENTS = ("Tax", "ShippingTax")
# The marketplaces of Amazon's EU VAT programme where UPLOAD_VAT_INVOICE is offered.
EU_VAT_MARKETPLACES = {
    "A1RKKUPIHCS9HS": "ES", "A1F83G8C2ARO7P": "GB", "A13V1IB3VIYZZH": "FR",
    "A1PA6795UKMFR9": "DE", "APJ6JRA9NG5V4": "IT", "A1805IZSGTT6HS": "NL",
    "A1C3SOZRARQ6R3": "PL", "A2NODRKZP88ZB9": "SE",
}


@dataclass(frozen=True)
class RefundedLine:
    gross: int  # the line's refund, minor units
    components: dict[str, int]
    item_price: int  # the order line's price and tax, for its rate
    item_tax: int
    prices_include_vat: bool = True


@dataclass(frozen=True)
class RateTotal:
    rate: Decimal
    net: int
    vat: int

    @property
    def gross(self) -> int:
        return self.net + self.vat

    def as_dict(self) -> dict:
        return {"rate": str(self.rate), "net_minor": self.net, "vat_minor": self.vat,
                "gross_minor": self.gross}


def line_rate(item_price: int, item_tax: int, prices_include_vat: bool) -> Decimal:
    net = item_price - item_tax if prices_include_vat else item_price
    if net <= 0 or item_tax <= 0:
        return Decimal("0.0")
    return (Decimal(item_tax) * 100 / Decimal(net)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def breakdown(lines: Iterable[RefundedLine]) -> list[RateTotal]:
    """One total per VAT rate, highest rate first; the sum of the grosses is the refund."""
    totals: dict[Decimal, list[int]] = {}
    for line in lines:
        vat = sum(line.components.get(name, 0) for name in TAX_COMPONENTS)
        rate = line_rate(line.item_price, line.item_tax, line.prices_include_vat)
        net_vat = totals.setdefault(rate, [0, 0])
        net_vat[0] += line.gross - vat
        net_vat[1] += vat
    return [RateTotal(rate, net, vat) for rate, (net, vat) in
            sorted(totals.items(), key=lambda item: item[0], reverse=True)]


def totals(rates: Sequence[RateTotal]) -> tuple[int, int]:
    """(gross, VAT) of a breakdown."""
    return sum(r.gross for r in rates), sum(r.vat for r in rates)


def number_text(country: str, sequence: int) -> str:
    """The note's printed number: per seller and marketplace, no gaps, e.g. CN-DE-000042."""
    return f"CN-{country}-{sequence:06d}"
