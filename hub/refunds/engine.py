"""The refund engine: how much a set of returned units is worth, to the cent, and why.

Model. Every amount of an order line (price, tax, each promotion) is split once into fixed
per-unit shares with largest-remainder rounding, so the shares always sum to the line and
every unit has the same value whenever it comes back. Order-level promotions are first split
across lines in proportion to their prices. What a set of returned units is worth
(``entitlement``) is a function of the set alone; the refund for one return is the
entitlement after it minus the entitlement before it. Hence the totals do not depend on the
order of the returns, refunding every unit pays back exactly what was paid minus the policy's
deductions, and shipping comes back at most once.

One exception is spelled out: when a promotion's condition (buy X get Y, minimum spend) stops
holding for the units the shopper keeps, the discount those kept units enjoyed is clawed back
from the refund (policy ``clawback_promotions``). A refund never goes below zero, so if a
claw-back exceeds what a later return is worth the difference is not charged to the shopper.

Pure domain code: no Flask, no database."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from hub.money import Money
from hub.text import N_

# Components in the order Amazon's adjustment feed lists them.
COMPONENTS = ("Principal", "Promotion", "Tax", "Shipping", "ShippingTax", "RestockingFee",
              "PromotionClawback")
SHIPPING_RULES = ("never", "always", "all_returned", "seller_fault",
                  "all_returned_or_seller_fault")


# --- allocation -------------------------------------------------------------------------------

def allocate(total: int, weights: Sequence[int | Decimal]) -> list[int]:
    """Split ``total`` minor units in proportion to ``weights`` (largest remainder, ties to the
    earlier part). The parts always sum to ``total``; all-zero weights split evenly."""
    if not weights:
        return []
    if not any(weights):
        weights = [1] * len(weights)
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    whole = sum(weights)
    sign = -1 if total < 0 else 1
    exact = [Decimal(abs(total)) * Decimal(w) / Decimal(whole) for w in weights]
    parts = [int(x) for x in exact]
    remainders = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in remainders[: abs(total) - sum(parts)]:
        parts[i] += 1
    return [sign * p for p in parts]


def percent_of(amount: int, percent: Decimal | int) -> int:
    """``amount`` × ``percent`` / 100, rounded half-even to a whole minor unit."""
    return int((Decimal(amount) * Decimal(percent) / 100).quantize(Decimal(1), ROUND_HALF_EVEN))


# --- inputs -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Promotion:
    id: str
    amount: int  # the discount given, positive minor units
    kind: str = "plain"  # plain | buy_x_get_y | min_spend
    condition: Mapping = field(default_factory=dict)  # {"buy": 2, "get": 1} | {"min_spend": N}


@dataclass(frozen=True)
class PaidLine:
    line_id: str
    quantity: int
    item_price: int  # whole line, minor units (as Amazon reports ItemPrice)
    item_tax: int = 0
    shipping_price: int = 0
    shipping_tax: int = 0
    category: str = "general"
    promotions: tuple[Promotion, ...] = ()


@dataclass(frozen=True)
class PaidOrder:
    currency: str
    lines: tuple[PaidLine, ...]
    promotions: tuple[Promotion, ...] = ()

    def line(self, line_id: str) -> PaidLine:
        for line in self.lines:
            if line.line_id == line_id:
                return line
        raise KeyError(line_id)

    @property
    def paid_total(self) -> int:
        return sum(line.item_price + line.item_tax + line.shipping_price + line.shipping_tax
                   - sum(p.amount for p in line.promotions) for line in self.lines) \
            - sum(p.amount for p in self.promotions)


@dataclass(frozen=True)
class ReturnedUnit:
    line_id: str
    unit: int  # 0-based unit number within the line
    grade: str = "A"
    seller_fault: bool = False


@dataclass(frozen=True)
class RefundRules:
    """The money part of a policy document."""
    grade_percent: Mapping[str, Decimal] = field(default_factory=lambda: {
        "A": Decimal(100), "B": Decimal(100), "C": Decimal(80), "D": Decimal(50)})
    restocking_percent: Mapping[str, Decimal] = field(default_factory=dict)  # by category
    shipping: str = "all_returned_or_seller_fault"
    clawback_promotions: bool = True

    @classmethod
    def from_policy(cls, document: Mapping) -> RefundRules:
        refunds = document.get("refunds", {})
        return cls(
            grade_percent={g: Decimal(str(p)) for g, p in refunds.get(
                "grade_percent", {"A": 100, "B": 100, "C": 80, "D": 50}).items()},
            restocking_percent={c: Decimal(str(p)) for c, p in refunds.get(
                "restocking_percent", {}).items()},
            shipping=refunds.get("shipping", "all_returned_or_seller_fault"),
            clawback_promotions=bool(refunds.get("clawback_promotions", True)),
        )


# --- outputs ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Explanation:
    code: str
    params: Mapping
    text: str  # the English sentence (API, logs); screens translate message_for(code, params)


# What each explanation says, marked for translation and translated where it is shown: the
# screen fills "item" with the item's name and "amount" with the money in the reader's locale.
MESSAGES = {
    "seller_fault": N_("%(item)s: refunded in full, because the fault was ours."),
    "grade_deduction": N_("%(item)s: checked as grade %(grade)s, so %(percent)s%% of its price "
                          "is refunded."),
    "restocking_fee": N_("%(item)s: a restocking fee of %(percent)s%% applies."),
    "shipping_refunded": N_("Shipping is refunded too."),
    "shipping_kept.never": N_("Shipping is not refunded."),
    "shipping_kept.all_returned": N_("Shipping is refunded only when everything in the order "
                                     "comes back."),
    "shipping_kept.seller_fault": N_("Shipping is refunded only when the fault was ours."),
    "shipping_kept.all_returned_or_seller_fault": N_(
        "Shipping is refunded only when everything in the order comes back or the fault was "
        "ours."),
    "promotion_clawback": N_("The items you keep no longer qualify for the %(promotion)s offer, "
                             "so the discount they got (%(amount)s) is deducted from this "
                             "refund."),
    "promotion_clawback_returned": N_("%(amount)s of the %(promotion)s discount deducted from "
                                      "an earlier return comes back with this one."),
    "clawback_recovered": N_("%(amount)s of a discount an earlier refund could not deduct "
                             "is deducted now."),
    "clawback_capped": N_("The deduction is limited to what this return is worth: nothing is "
                          "charged to you."),
}


def message_for(code: str, params: Mapping) -> str:
    """The message id (an English template) of an explanation, for the screen to translate."""
    if code == "shipping_kept":
        return MESSAGES.get(f"shipping_kept.{params.get('rule')}", MESSAGES["shipping_kept.never"])
    return MESSAGES[code]


def _say(code: str, currency: str = "", **params) -> Explanation:
    """An explanation with its English text (items named by line and unit, money plain)."""
    english = dict(params)
    if "line_id" in params:
        english["item"] = f"Item {params['line_id']} (unit {int(params.get('unit', 0)) + 1})"
    if "amount_minor" in params:
        english["amount"] = str(Money.from_minor(params["amount_minor"], currency))
    return Explanation(code, params, message_for(code, params) % english)


@dataclass
class LineRefund:
    line_id: str
    quantity: int
    components: dict[str, int]

    @property
    def amount(self) -> int:
        return sum(self.components.values())


@dataclass
class RefundBreakdown:
    currency: str
    lines: list[LineRefund]
    explanations: list[Explanation]
    shipping_refunded: bool

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def money(self) -> Money:
        return Money.from_minor(self.total, self.currency)

    def components(self) -> dict[str, int]:
        out = dict.fromkeys(COMPONENTS, 0)
        for line in self.lines:
            for name, value in line.components.items():
                out[name] += value
        return {k: v for k, v in out.items() if v}

    def as_dict(self) -> dict:
        fmt = self._fmt
        return {
            "currency": self.currency, "total": fmt(self.total),
            "total_minor": self.total,
            "components": {k: fmt(v) for k, v in self.components().items()},
            "lines": [{"line_id": ln.line_id, "quantity": ln.quantity, "amount": fmt(ln.amount),
                       "components": {k: fmt(v) for k, v in ln.components.items() if v}}
                      for ln in self.lines],
            "explanation": [{"code": e.code, **e.params, "text": e.text}
                            for e in self.explanations],
        }

    def _fmt(self, minor: int) -> str:
        return str(Money.from_minor(minor, self.currency).amount)


# --- the engine ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Unit:
    principal: int
    tax: int
    promos: dict[str, int]  # promotion id -> this unit's share of the discount


class RefundEngine:
    """Per-unit shares of one order, computed once."""

    def __init__(self, order: PaidOrder, rules: RefundRules):
        self.order, self.rules = order, rules
        for promo in (*order.promotions, *(p for ln in order.lines for p in ln.promotions)):
            if promo.amount < 0:
                raise ValueError(f"promotion {promo.id} must be a positive discount")
        if rules.shipping not in SHIPPING_RULES:
            raise ValueError(f"unknown shipping rule {rules.shipping!r}")
        order_promo_by_line = {
            promo.id: dict(zip((ln.line_id for ln in order.lines),
                               allocate(promo.amount, [ln.item_price for ln in order.lines]),
                               strict=True))
            for promo in order.promotions}
        self.units: dict[str, list[_Unit]] = {}
        for line in order.lines:
            if line.quantity < 1:
                raise ValueError(f"line {line.line_id} has no units")
            even = [1] * line.quantity
            principal = allocate(line.item_price, even)
            tax = allocate(line.item_tax, even)
            promo_shares = {p.id: allocate(p.amount, even) for p in line.promotions}
            for promo_id, per_line in order_promo_by_line.items():
                promo_shares[promo_id] = allocate(per_line[line.line_id], even)
            self.units[line.line_id] = [
                _Unit(principal[u], tax[u], {pid: shares[u] for pid, shares in
                                             promo_shares.items()})
                for u in range(line.quantity)]

    # The refund for one return: what the returned set is worth after minus before.
    def refund(self, returning: Iterable[ReturnedUnit],
               already_returned: Iterable[ReturnedUnit] = (),
               refunded_before: Iterable[RefundBreakdown] | None = None) -> RefundBreakdown:
        """``refunded_before``: the refunds actually made for ``already_returned`` (they can
        differ from its entitlement when a claw-back was capped); by default the entitlement.

        The total is the entitlement after minus before; its lines are in Amazon's shape
        (see ``_amazon_lines``)."""
        before, now = list(already_returned), list(returning)
        keys = [(u.line_id, u.unit) for u in before + now]
        if len(set(keys)) != len(keys):
            raise ValueError("a unit cannot be returned twice")
        after = self.entitlement(before + now)
        prior = self.entitlement(before)
        paid = prior.total if refunded_before is None else sum(r.total for r in refunded_before)
        total = after.total - paid
        shipping = after.shipping_refunded and not prior.shipping_refunded
        explanations = self._explain_return(now, after, prior, shipping)
        if total <= 0:
            if total < 0:  # a claw-back larger than this return: never charge back
                explanations.append(_say("clawback_capped"))
            lines = [LineRefund(line.line_id, quantity, {})
                     for line in self.order.lines
                     if (quantity := sum(1 for u in now if u.line_id == line.line_id))]
            return RefundBreakdown(self.order.currency, lines, explanations, shipping)
        lines = self._amazon_lines(before, now, prior, after, total - (after.total - prior.total),
                                   explanations)
        return RefundBreakdown(self.order.currency, lines, explanations, shipping)

    # --- Amazon's shape -------------------------------------------------------------------------
    #
    # Amazon refuses a refund line whose net is not positive, a positive promotion adjustment,
    # a negative price, tax or shipping refund, and more of any of them than was charged
    # (hub/amazon/feed.py has the rule and its sources). The entitlement's own lines are a set
    # function and can break all of these: a claw-back that appears when a later unit comes
    # back lands on lines refunded earlier, and one that shrinks again comes back as a
    # positive amount. So a refund's lines are built per returned unit instead:
    #   - each returned unit brings its price, tax, restocking fee and its own promotion share
    #     (negative), as in the entitlement;
    #   - a unit whose promotion discount was already clawed back while it was kept does not
    #     give that discount back again: its promotion share is not deducted (a graded unit's
    #     remainder of the share goes to its price refund, never above what it cost);
    #   - a new claw-back (a promotion that stops holding with this return) is deducted from
    #     the lines of this return in that promotion's scope, then from its other lines, as
    #     ``PromotionClawback`` (never positive, never more than the line is worth; the feed
    #     takes it off the price refund);
    #   - a line left at zero carries no amounts at all.
    # The regrouping changes no total: the sum is the entitlement after minus before.

    def _amazon_lines(self, before: list[ReturnedUnit], now: list[ReturnedUnit],
                      prior: RefundBreakdown, after: RefundBreakdown, recovered: int,
                      explanations: list[Explanation]) -> list[LineRefund]:
        """``recovered``: a claw-back capped earlier that this refund takes back (only when
        the refunds actually made were given; zero or negative)."""
        old = {ln.line_id: ln.components for ln in prior.lines}
        lines: dict[str, dict[str, int]] = {}
        for line in after.lines:
            was = old.get(line.line_id, {})
            lines[line.line_id] = {k: line.components.get(k, 0) - was.get(k, 0)
                                   for k in COMPONENTS if k != "PromotionClawback"}
        self._repaid_discounts(before, now, lines)
        for _promo, amount, scope in self._new_clawbacks(before, now):
            first = [i for i in lines if i in scope and _has(now, i)]
            _deduct(lines, amount, first + [i for i in lines if i not in first])
        if recovered < 0:
            taken = _deduct(lines, -recovered, list(lines))
            explanations.append(_say("clawback_recovered", self.order.currency,
                                     amount_minor=taken))
        elif recovered and now:  # refunds made were less than the entitlement: pay the
            # difference on this return's first unit (none accepted yet: on a later one)
            lines[next(u.line_id for u in now)]["Principal"] += recovered
        out = []
        for line in self.order.lines:
            components = lines.get(line.line_id, {})
            if sum(components.values()) <= 0:
                components = {}  # nothing to refund on this item: no amounts at all
            quantity = sum(1 for u in now if u.line_id == line.line_id)
            components = {k: v for k, v in components.items() if v}
            if quantity or components:
                out.append(LineRefund(line.line_id, quantity, components))
        return out

    def _explain_return(self, now: Sequence[ReturnedUnit], after: RefundBreakdown,
                        prior: RefundBreakdown, shipping_now: bool) -> list[Explanation]:
        """Why this return is worth what it is: its own units, shipping if it changes or is
        kept, and each claw-back by how much it moves with this return (a unit returned
        later gives back the part of an earlier claw-back that was charged on it)."""
        out: list[Explanation] = []
        self._explain_units(now, out)
        out += [e for e in after.explanations if e.code == "shipping_refunded" and shipping_now]
        out += [e for e in after.explanations if e.code == "shipping_kept"
                and not prior.shipping_refunded]
        lost_after, lost_before = _clawbacks(after), _clawbacks(prior)
        for promo in dict.fromkeys([*lost_before, *lost_after]):
            delta = lost_after.get(promo, 0) - lost_before.get(promo, 0)
            if delta:
                out.append(_say("promotion_clawback" if delta > 0 else
                                "promotion_clawback_returned", self.order.currency,
                                promotion=promo, amount_minor=abs(delta)))
        return out

    def _scopes(self) -> list[tuple[Promotion, tuple[PaidLine, ...]]]:
        scoped = [(p, (line,)) for line in self.order.lines for p in line.promotions]
        return scoped + [(p, self.order.lines) for p in self.order.promotions]

    def _lost(self, promo: Promotion, lines: Sequence[PaidLine],
              returned: Sequence[ReturnedUnit]) -> int:
        """The discount the kept units of ``promo``'s scope lose (as the entitlement counts
        it): nothing while none of its units came back or while it still holds."""
        if not self.rules.clawback_promotions or promo.kind == "plain":
            return 0
        gone = {(u.line_id, u.unit) for u in returned}
        scope = {ln.line_id for ln in lines}
        kept = {ln.line_id: [u for u in range(ln.quantity) if (ln.line_id, u) not in gone]
                for ln in self.order.lines}
        if not any(u.line_id in scope for u in returned) or not any(kept.values()):
            return 0
        if _still_holds(promo, lines, kept, self.units):
            return 0
        return sum(self.units[ln.line_id][u].promos.get(promo.id, 0)
                   for ln in lines for u in kept[ln.line_id])

    def _repaid_discounts(self, before: list[ReturnedUnit], now: list[ReturnedUnit],
                          lines: dict[str, dict[str, int]]) -> None:
        """Units coming back whose promotion discount was clawed back while they were kept:
        their share is not deducted again."""
        for promo, scope in self._scopes():
            if not self._lost(promo, scope, before):
                continue
            ids = {ln.line_id for ln in scope}
            for unit in now:
                if unit.line_id not in ids:
                    continue
                share = self.units[unit.line_id][unit.unit].promos.get(promo.id, 0)
                c = lines[unit.line_id]
                back = min(share, -c["Promotion"])
                c["Promotion"] += back
                c["Principal"] += share - back

    def _new_clawbacks(self, before: list[ReturnedUnit], now: list[ReturnedUnit]
                       ) -> list[tuple[str, int, set[str]]]:
        """(promotion, discount lost, its lines) for each promotion this return breaks."""
        out = []
        for promo, scope in self._scopes():
            if self._lost(promo, scope, before):
                continue
            lost = self._lost(promo, scope, before + now)
            if lost:
                out.append((promo.id, lost, {ln.line_id for ln in scope}))
        return out

    def entitlement(self, returned: Sequence[ReturnedUnit]) -> RefundBreakdown:
        """What this set of returned units is worth in total."""
        explanations: list[Explanation] = []
        by_line: dict[str, dict[str, int]] = {}
        counts: dict[str, int] = {}
        for unit in returned:
            line = self.order.line(unit.line_id)
            if not 0 <= unit.unit < line.quantity:
                raise ValueError(f"line {line.line_id} has no unit {unit.unit}")
            share = self.units[unit.line_id][unit.unit]
            c = by_line.setdefault(unit.line_id, dict.fromkeys(COMPONENTS, 0))
            counts[unit.line_id] = counts.get(unit.line_id, 0) + 1
            percent, restock_pct = self._deductions(unit, line)
            principal = percent_of(share.principal, percent)
            promotion = percent_of(sum(share.promos.values()), percent)
            c["Principal"] += principal
            c["Promotion"] -= promotion
            c["Tax"] += percent_of(share.tax, percent)
            c["RestockingFee"] -= percent_of(principal - promotion, restock_pct)
        self._explain_units(returned, explanations)
        shipping = self._shipping_due(returned)
        charged = any(ln.shipping_price or ln.shipping_tax for ln in self.order.lines)
        if shipping:
            for line in self.order.lines:
                c = by_line.setdefault(line.line_id, dict.fromkeys(COMPONENTS, 0))
                c["Shipping"] += line.shipping_price
                c["ShippingTax"] += line.shipping_tax
        if charged:  # free shipping needs no sentence
            explanations.append(_say("shipping_refunded" if shipping else "shipping_kept",
                                     rule=self.rules.shipping))
        if self.rules.clawback_promotions:
            self._clawback(returned, by_line, explanations)
        lines = [LineRefund(line_id, counts.get(line_id, 0), components)
                 for line_id, components in by_line.items()]
        return RefundBreakdown(self.order.currency, lines, explanations, shipping)

    def _deductions(self, unit: ReturnedUnit, line: PaidLine) -> tuple[Decimal, Decimal]:
        if unit.seller_fault:
            return Decimal(100), Decimal(0)
        if unit.grade not in self.rules.grade_percent:
            raise ValueError(f"grade {unit.grade!r} is not in the policy")
        return (self.rules.grade_percent[unit.grade],
                self.rules.restocking_percent.get(line.category, Decimal(0)))

    def _shipping_due(self, returned: Sequence[ReturnedUnit]) -> bool:
        everything = len(returned) == sum(line.quantity for line in self.order.lines)
        fault = any(u.seller_fault for u in returned)
        return {"never": False, "always": bool(returned), "all_returned": everything,
                "seller_fault": fault,
                "all_returned_or_seller_fault": everything or fault}[self.rules.shipping]

    def _clawback(self, returned: Sequence[ReturnedUnit], by_line: dict[str, dict[str, int]],
                  explanations: list[Explanation]) -> None:
        gone = {(u.line_id, u.unit) for u in returned}
        kept = {line.line_id: [u for u in range(line.quantity) if (line.line_id, u) not in gone]
                for line in self.order.lines}
        if not returned or not any(kept.values()):
            return
        scoped = [(p, (line,)) for line in self.order.lines for p in line.promotions]
        scoped += [(p, self.order.lines) for p in self.order.promotions]
        for promo, lines in scoped:
            if promo.kind == "plain" or _still_holds(promo, lines, kept, self.units):
                continue
            lost = sum(self.units[ln.line_id][u].promos.get(promo.id, 0)
                       for ln in lines for u in kept[ln.line_id])
            returned_lines = [ln.line_id for ln in lines if ln.line_id in by_line
                              and any(u.line_id == ln.line_id for u in returned)]
            if not lost or not returned_lines:
                continue
            weights = [max(0, sum(by_line[i].values())) for i in returned_lines]
            for line_id, part in zip(returned_lines, allocate(lost, weights), strict=True):
                by_line[line_id]["PromotionClawback"] -= part
            explanations.append(_say("promotion_clawback", self.order.currency,
                                     promotion=promo.id, amount_minor=lost))

    def _explain_units(self, returned: Sequence[ReturnedUnit],
                       explanations: list[Explanation]) -> None:
        for unit in returned:
            line = self.order.line(unit.line_id)
            percent, restock = self._deductions(unit, line)
            if unit.seller_fault:
                explanations.append(_say("seller_fault", line_id=line.line_id, unit=unit.unit))
                continue
            if percent != 100:
                explanations.append(_say("grade_deduction", line_id=line.line_id,
                                         unit=unit.unit, grade=unit.grade,
                                         percent=_percent(percent)))
            if restock:
                explanations.append(_say("restocking_fee", line_id=line.line_id,
                                         unit=unit.unit, category=line.category,
                                         percent=_percent(restock)))


def _percent(value: Decimal) -> str:
    """80 rather than 80.00 (policies may say "80.0")."""
    return format(Decimal(value).normalize(), "f")


def _clawbacks(breakdown: RefundBreakdown) -> dict[str, int]:
    """Promotion id -> the discount clawed back in an entitlement."""
    return {e.params["promotion"]: e.params["amount_minor"] for e in breakdown.explanations
            if e.code == "promotion_clawback"}


def _still_holds(promo: Promotion, lines: Sequence[PaidLine], kept: dict[str, list[int]],
                 units: dict[str, list[_Unit]]) -> bool:
    kept_units = sum(len(kept[ln.line_id]) for ln in lines)
    if kept_units == 0:
        return True
    if promo.kind == "buy_x_get_y":
        needed = int(promo.condition.get("buy", 1)) + int(promo.condition.get("get", 1))
        return kept_units >= needed
    if promo.kind == "min_spend":
        spend = sum(units[ln.line_id][u].principal for ln in lines for u in kept[ln.line_id])
        return spend >= int(promo.condition.get("min_spend", 0))
    return True


def _has(units: Sequence[ReturnedUnit], line_id: str) -> bool:
    return any(u.line_id == line_id for u in units)


def _deduct(lines: dict[str, dict[str, int]], amount: int, order: list[str]) -> int:
    """Take ``amount`` off the lines in ``order`` as PromotionClawback, each line at most
    what it is still worth (in proportion within the first group that has room). Returns
    what was taken; the caller made sure the refund is worth at least ``amount``."""
    left = amount
    for line_id in order:
        if left <= 0:
            break
        worth = sum(lines[line_id].values())
        part = min(left, max(0, worth))
        lines[line_id]["PromotionClawback"] = lines[line_id].get("PromotionClawback", 0) - part
        left -= part
    return amount - left
