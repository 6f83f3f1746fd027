"""Which accounts a refund and a disposition post to. Pure code: no Flask, no database.

Every entry is built from one rule: each amount goes to the account of its role, positive on
the debit side, negative on the credit side, and one balancing line closes it. So every entry
balances by construction, per currency, to the cent."""

from __future__ import annotations

from dataclasses import dataclass

# The default chart: role -> (code, name, kind). Overridable per role in LEDGER_ACCOUNTS.
DEFAULT_CHART = {
    "amazon_clearing": ("1210", "Amazon clearing", "asset"),
    "inventory_returns": ("1310", "Returned inventory", "asset"),
    "refunds_payable": ("2110", "Refunds payable (non-Amazon channels)", "liability"),
    "sales_tax_payable": ("2210", "Sales tax payable", "liability"),
    "sales_returns": ("4110", "Sales returns and allowances", "contra_revenue"),
    "shipping_revenue": ("4210", "Shipping income", "revenue"),
    "restocking_fee_income": ("4310", "Restocking fee income", "revenue"),
    "cost_of_goods_sold": ("5010", "Cost of goods sold", "expense"),
    # Store credit issued instead of refunds: owed to shoppers until spent or expired.
    "store_credit": ("2310", "Store credit outstanding", "liability"),
    "credit_bonus": ("5210", "Store credit bonus given", "expense"),
    "credit_redemptions": ("4020", "Sales paid with store credit", "revenue"),
    "credit_breakage": ("4410", "Expired store credit", "revenue"),
    "returns_write_off": ("5110", "Returns written off", "expense"),
}
# Refund component -> the role it posts to.
COMPONENT_ROLES = {
    "Principal": "sales_returns", "Promotion": "sales_returns",
    "PromotionClawback": "sales_returns", "Tax": "sales_tax_payable",
    "ShippingTax": "sales_tax_payable", "Shipping": "shipping_revenue",
    "RestockingFee": "restocking_fee_income",
}
# Dispositions that put the unit back into stock; the others write it off.
RESTOCKED = frozenset({"restock", "open_box", "transfer_dc", "return_to_vendor"})


@dataclass(frozen=True)
class Posting:
    role: str
    debit: int
    credit: int
    memo: str


def _side(role: str, amount: int, memo: str) -> Posting:
    return Posting(role, amount, 0, memo) if amount >= 0 else Posting(role, 0, -amount, memo)


def refund_postings(components: dict[str, int], clearing_role: str) -> list[Posting]:
    """A refund owed to the shopper: the sales it reverses, the tax given back, the shipping
    refunded and the fees kept, against the account the money leaves from."""
    by_role: dict[str, int] = {}
    for name, amount in components.items():
        if name not in COMPONENT_ROLES:
            raise ValueError(f"component {name!r} has no account role")
        role = COMPONENT_ROLES[name]
        by_role[role] = by_role.get(role, 0) + amount
    postings = [_side(role, amount, role.replace("_", " ")) for role, amount in by_role.items()
                if amount]
    total = sum(components.values())
    if total:
        postings.append(_side(clearing_role, -total, "refund to the shopper"))
    return postings


def reversal(postings: list[Posting]) -> list[Posting]:
    """The entry that undoes another (a refund Amazon finally refused)."""
    return [Posting(p.role, p.credit, p.debit, "reversal: " + p.memo) for p in postings]


# A refund in this status moves no money: its entry stays reversed until Amazon pays it.
NOT_OWED = frozenset({"failed"})


def owed(status: str, total: int) -> int:
    """What a refund's entries must add up to on its clearing account, given its status."""
    return 0 if status in NOT_OWED else total


def refund_correction(postings: list[Posting], *, total: int, carried: int,
                      target: int) -> list[Posting]:
    """The entry that brings a refund's journal from ``carried`` (what its entries add up to
    on the clearing account now) to ``target``: the refund again (Amazon paid it after all),
    its reversal (Amazon refused it), or nothing. Its amount never changes after the
    counter, so anything else is a journal someone edited: refused, never guessed at."""
    if target == carried:
        return []
    if target - carried == total:
        return list(postings)
    if carried - target == total:
        return reversal(postings)
    raise ValueError(f"the journal carries {carried}, the refund owes {target} of {total}")


def disposition_postings(disposition: str, cost: int) -> list[Posting]:
    """A returned unit at its cost: back into inventory, or written off."""
    if cost <= 0:
        return []
    role = "inventory_returns" if disposition in RESTOCKED else "returns_write_off"
    memo = "returned to stock" if disposition in RESTOCKED else f"written off ({disposition})"
    return [Posting(role, cost, 0, memo), Posting("cost_of_goods_sold", 0, cost, memo)]


def balanced(postings: list[Posting]) -> bool:
    return sum(p.debit for p in postings) == sum(p.credit for p in postings)


def credit_issue_postings(components: dict[str, int], bonus: int) -> list[Posting]:
    """Credit instead of a refund: the same reversal of sales, tax and shipping as a refund,
    owed on the store-credit liability instead of paid out; the bonus is an expense the
    brand gives on top, owed on the same liability."""
    postings = refund_postings(components, "store_credit")
    if bonus:
        postings += [Posting("credit_bonus", bonus, 0, "store credit bonus"),
                     Posting("store_credit", 0, bonus, "store credit bonus")]
    return postings


def credit_redeem_postings(amount: int) -> list[Posting]:
    """Credit spent at the till or the web shop: the liability pays for a sale."""
    return [Posting("store_credit", amount, 0, "store credit redeemed"),
            Posting("credit_redemptions", 0, amount, "sale paid with store credit")]


def credit_expiry_postings(amount: int) -> list[Posting]:
    """What was left on an expired credit is no longer owed."""
    if amount <= 0:
        return []
    return [Posting("store_credit", amount, 0, "store credit expired"),
            Posting("credit_breakage", 0, amount, "store credit expired")]
