"""Match what Amazon charged for a vendor return to what arrived. Pure domain code.

For each debit-note line (kind, debit note, VRET, ASIN, units, amount) against the units
counted from that VRET for that ASIN:
- no_receipt:    the VRET never arrived here: the whole line is in question;
- units_missing: Amazon charged for more units than arrived (the brand's and others');
- not_ours:      units that arrived but are not the brand's (Amazon charged for them);
- amazon_damage: the brand's units that arrived damaged in Amazon's hands.
Amounts are the line's amount shared by units, with largest-remainder rounding, so the parts
never exceed what Amazon charged."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hub.text import N_

DIFFERENCE_KINDS = ("no_receipt", "units_missing", "not_ours", "amazon_damage")
DIFFERENCE_LABELS = {
    "no_receipt": N_("Charged, never received"),
    "units_missing": N_("Units missing"),
    "not_ours": N_("Units not the brand's"),
    "amazon_damage": N_("Damage Amazon caused"),
}
NOT_OURS = "not_ours"


@dataclass(frozen=True)
class Charged:
    debit_note_number: str
    vret_number: str
    asin: str
    units: int
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class Counted:
    asin: str
    units: int
    grade: str
    amazon_damage: bool = False


@dataclass(frozen=True)
class Difference:
    debit_note_number: str
    vret_number: str
    asin: str
    kind: str
    units: int
    amount_minor: int
    currency: str


def share(amount_minor: int, units: int, parts: list[int]) -> list[int]:
    """``amount_minor`` for ``units`` units, split into ``parts`` (units each) by largest
    remainder; the parts sum to at most the whole."""
    if units <= 0:
        return [0 for _ in parts]
    exact = [amount_minor * p for p in parts]
    floors = [e // units for e in exact]
    whole = amount_minor * sum(parts) // units
    order = sorted(range(len(parts)), key=lambda i: exact[i] % units, reverse=True)
    for i in order[: whole - sum(floors)]:
        floors[i] += 1
    return floors


def differences(charge: Charged, counted: Iterable[Counted] | None) -> list[Difference]:
    """The differences of one charged line; ``counted`` is None when the VRET never arrived."""
    def diff(kind: str, units: int, amount: int) -> Difference:
        return Difference(charge.debit_note_number, charge.vret_number, charge.asin, kind,
                          units, amount, charge.currency)

    if counted is None:
        return [diff("no_receipt", charge.units, charge.amount_minor)]
    same = [c for c in counted if c.asin == charge.asin]
    ours = sum(c.units for c in same if c.grade != NOT_OURS)
    others = sum(c.units for c in same if c.grade == NOT_OURS)
    damaged = sum(c.units for c in same if c.grade != NOT_OURS and c.amazon_damage)
    not_ours = min(others, charge.units)
    missing = max(0, charge.units - ours - others)
    damage = min(damaged, max(0, charge.units - not_ours - missing))
    units = {"units_missing": missing, "not_ours": not_ours, "amazon_damage": damage}
    kinds = [k for k in ("units_missing", "not_ours", "amazon_damage") if units[k]]
    amounts = share(charge.amount_minor, charge.units, [units[k] for k in kinds])
    return [diff(k, units[k], a) for k, a in zip(kinds, amounts, strict=True)]


def reconcile(charges: Iterable[Charged], receipts: Mapping[str, list[Counted]]
              ) -> list[Difference]:
    """Every difference of these charges; ``receipts`` maps each VRET received to its counts.
    A charge without a VRET number cannot be matched to a shipment and is left out."""
    found: list[Difference] = []
    for charge in charges:
        if not charge.vret_number:
            continue
        found.extend(differences(charge, receipts.get(charge.vret_number)))
    return found
