"""Approval tiers: who may approve a counter decision, up to which amount and for which
reasons. The policy's ``approvals.amount`` is what a clerk may approve alone (the seeds'
rule: USD 50 or the currency's equal); above it, or for any approval reason, the first tier
of ``approvals.chain`` that covers both the amount and every reason decides. The chain is
chosen per store group (the store's region), else per channel, else the default. Tiers
beyond the store's own (HQ, finance) are approved from HQ's queue.

Pure domain code: no Flask, no database."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hub.policy.document import threshold
from hub.text import N_

ROLES = ("clerk", "supervisor", "hq", "finance")
STORE_ROLES = ("clerk", "supervisor")
REASON_CODES = ("amount", "grade", "reason_mismatch", "risk", "override")
ROLE_LABELS = {
    "clerk": N_("a clerk"),
    "supervisor": N_("a store supervisor"),
    "hq": N_("HQ operations"),
    "finance": N_("finance"),
}
# The tier an HQ user acts for (a store user acts for their own role).
HQ_ACTORS = {"hq_ops": "hq", "admin": "hq", "finance": "finance"}  # user role -> tier


@dataclass(frozen=True)
class Tier:
    role: str
    up_to: int | None  # minor units in the request's currency; None: no upper limit
    reasons: frozenset[str]

    def covers(self, total: int, reasons: Iterable[str]) -> bool:
        return (self.up_to is None or total <= self.up_to) and set(reasons) <= self.reasons


# Without a chain in the policy (versions published before tiers): a supervisor decides all.
_FALLBACK = [{"role": "supervisor", "reasons": list(REASON_CODES)}]


def chain_for(policy: Mapping, currency: str, channel: str = "", store_group: str = ""
              ) -> list[Tier]:
    chain = (policy.get("approvals") or {}).get("chain") or {}
    tiers = ((chain.get("by_store_group") or {}).get(store_group)
             or (chain.get("by_channel") or {}).get(channel)
             or chain.get("default") or _FALLBACK)
    return [Tier(t["role"], threshold(t["up_to"], currency) if "up_to" in t else None,
                 frozenset(t.get("reasons", REASON_CODES))) for t in tiers]


def required_role(tiers: list[Tier], total: int, reasons: Iterable[str]) -> str:
    """The lowest tier that may approve this; HQ when no tier covers it (nothing waits for
    a tier that does not exist)."""
    reasons = list(reasons)
    for tier in tiers:
        if tier.covers(total, reasons):
            return tier.role
    return "hq"


def may_approve(tiers: list[Tier], role: str, total: int, reasons: Iterable[str]) -> bool:
    """Whether someone acting as ``role`` may approve: their tier covers it, or a higher tier
    of theirs does (an HQ approver may take what a supervisor could)."""
    reasons = list(reasons)
    needed = required_role(tiers, total, reasons)
    roles = [t.role for t in tiers]
    if role == needed:
        return True
    if needed not in roles:  # no tier covers it: HQ's
        return role == "hq"
    return role in roles[roles.index(needed):]


def at_store(role: str) -> bool:
    return role in STORE_ROLES


def validate_chain(approvals: Mapping) -> list[dict]:
    """Problems with ``approvals.chain`` as {"field", "message"}."""
    errors: list[dict] = []
    chain = approvals.get("chain")
    if chain is None:
        return errors
    if not isinstance(chain, Mapping):
        return [{"field": "approvals.chain", "message": "must be a JSON object"}]
    groups = [("approvals.chain.default", chain.get("default", []))]
    for name in ("by_channel", "by_store_group"):
        section = chain.get(name) or {}
        if not isinstance(section, Mapping):
            errors.append({"field": f"approvals.chain.{name}", "message": "must be a JSON object"})
            continue
        groups += [(f"approvals.chain.{name}.{key}", value) for key, value in section.items()]
    for path, tiers in groups:
        if not isinstance(tiers, list):
            errors.append({"field": path, "message": "must be a list of tiers"})
            continue
        for i, tier in enumerate(tiers):
            errors += _tier_problems(f"{path}[{i}]", tier)
    return errors


def _tier_problems(path: str, tier: object) -> list[dict]:
    if not isinstance(tier, Mapping):
        return [{"field": path, "message": "must be an object with role, up_to and reasons"}]
    errors = []
    if tier.get("role") not in ROLES:
        errors.append({"field": f"{path}.role", "message": f"must be one of {', '.join(ROLES)}"})
    reasons = tier.get("reasons", list(REASON_CODES))
    if not isinstance(reasons, list) or any(r not in REASON_CODES for r in reasons):
        errors.append({"field": f"{path}.reasons",
                       "message": f"must be a list from {', '.join(REASON_CODES)}"})
    up_to = tier.get("up_to", {})
    if not isinstance(up_to, Mapping):
        errors.append({"field": f"{path}.up_to", "message": "must map currencies to amounts"})
    else:
        for currency, amount in up_to.items():
            try:
                threshold({currency: amount}, currency)
            except Exception:  # noqa: BLE001 - any unreadable amount is the same problem
                errors.append({"field": f"{path}.up_to.{currency}",
                               "message": f"{amount!r} is not an amount in {currency}"})
    return errors
