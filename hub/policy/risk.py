"""Fraud risk: a score and explainable flags per return, from rules in the policy.

Each rule adds points and a flag that says why. The score decides what happens: below the
supervisor score nothing; from it a supervisor must approve at the counter; from the review
score HQ reviews before any refund; a blocklisted shopper gets no voucher. Pure domain code."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from hub.policy.document import threshold

POINTS = {"blocklisted": 100, "serial_returner": 35, "velocity": 25, "high_value": 20,
          "wardrobing": 20, "voucher_replay": 40, "serial_already_returned": 40,
          "business_return_rate": 30}


@dataclass(frozen=True)
class RiskContext:
    currency: str
    value_minor: int  # the refund at stake
    categories: frozenset[str] = frozenset()
    blocklisted: tuple[str, ...] = ()  # kinds that matched: email, address, order, phone
    returns_in_window: int = 0  # the shopper's earlier returns within the serial window
    returns_recently: int = 0  # ... within the velocity window
    worn_units: int = 0  # units graded as worn (tags removed, signs of use) at intake
    replay_attempts: int = 0  # scans of a voucher that was already used or cancelled
    # A business buyer's units returned and bought in the business window (this one included).
    business_units_returned: int = 0
    business_units_bought: int = 0


@dataclass(frozen=True)
class Flag:
    code: str
    points: int
    text: str
    params: Mapping = field(default_factory=dict)


@dataclass(frozen=True)
class RiskAssessment:
    score: int
    flags: tuple[Flag, ...]
    action: str  # none | supervisor | hq_review | block

    def as_dict(self) -> dict:
        return {"score": self.score, "action": self.action,
                "flags": [{"code": f.code, "points": f.points, "text": f.text, **f.params}
                          for f in self.flags]}


def assess(ctx: RiskContext, policy: Mapping) -> RiskAssessment:
    rules = policy["risk"]
    flags: list[Flag] = []
    if ctx.blocklisted:
        flags.append(Flag("blocklisted", POINTS["blocklisted"],
                          f"on the blocklist ({', '.join(ctx.blocklisted)})",
                          {"kinds": list(ctx.blocklisted)}))
    serial = rules["serial_returner"]
    if ctx.returns_in_window >= serial["max_returns"]:
        flags.append(Flag("serial_returner", POINTS["serial_returner"],
                          f"{ctx.returns_in_window} returns in {serial['window_days']} days "
                          f"(limit {serial['max_returns']})",
                          {"returns": ctx.returns_in_window}))
    velocity = rules["velocity"]
    if ctx.returns_recently >= velocity["max_returns"]:
        flags.append(Flag("velocity", POINTS["velocity"],
                          f"{ctx.returns_recently} returns in {velocity['window_hours']} hours",
                          {"returns": ctx.returns_recently}))
    high = threshold(rules.get("high_value", {}), ctx.currency)
    if high is not None and ctx.value_minor >= high:
        flags.append(Flag("high_value", POINTS["high_value"], "high-value return",
                          {"value_minor": ctx.value_minor}))
    prone = ctx.categories & set(rules.get("wardrobing_categories", []))
    if prone and ctx.worn_units:
        flags.append(Flag("wardrobing", POINTS["wardrobing"],
                          f"worn items in {', '.join(sorted(prone))}",
                          {"units": ctx.worn_units}))
    if ctx.replay_attempts:
        flags.append(Flag("voucher_replay", POINTS["voucher_replay"],
                          f"voucher presented again after use ({ctx.replay_attempts}x)",
                          {"attempts": ctx.replay_attempts}))
    business = _business_return_rate(ctx, policy)
    if business is not None:
        flags.append(business)
    score = min(100, sum(f.points for f in flags))
    if ctx.blocklisted:
        action = "block"
    elif score >= rules["review_score"]:
        action = "hq_review"
    elif score >= rules["supervisor_score"]:
        action = "supervisor"
    else:
        action = "none"
    return RiskAssessment(score, tuple(flags), action)


def action_for(score: int, policy: Mapping) -> str:
    """What a score asks for (a blocklisted shopper never gets this far)."""
    rules = policy["risk"]
    if score >= rules["review_score"]:
        return "hq_review"
    if score >= rules["supervisor_score"]:
        return "supervisor"
    return "none"


def serial_already_returned(score: int, flags: list[dict], serial_in: str,
                            policy: Mapping) -> tuple[int, list[dict], str]:
    """A unit handed in at the counter carries a serial number that an earlier return
    already brought back: the same physical item returned twice, or a swapped unit. Adds the
    flag once per earlier return; returns the new score, flags and action."""
    if any(f.get("code") == "serial_already_returned" and f.get("return") == serial_in
           for f in flags):
        return score, flags, action_for(score, policy)
    flag = Flag("serial_already_returned", POINTS["serial_already_returned"],
                f"serial number already returned in {serial_in}", {"return": serial_in})
    score = min(100, score + flag.points)
    flags = [*flags, {"code": flag.code, "points": flag.points, "text": flag.text,
                      **flag.params}]
    return score, flags, action_for(score, policy)


def _business_return_rate(ctx: RiskContext, policy: Mapping) -> Flag | None:
    """A business buyer returning more than the policy's share of what they bought."""
    if not ctx.business_units_bought:
        return None
    rules = {"return_rate_alert_percent": 10, "return_rate_window_days": 90,
             **(policy.get("business") or {})}
    percent = Decimal(ctx.business_units_returned * 100) / Decimal(ctx.business_units_bought)
    if percent <= Decimal(str(rules["return_rate_alert_percent"])):
        return None
    shown = percent.quantize(Decimal("0.1"))
    return Flag("business_return_rate", POINTS["business_return_rate"],
                f"business buyer returned {shown} % of the units bought in "
                f"{rules['return_rate_window_days']} days (alert above "
                f"{rules['return_rate_alert_percent']} %)", {"percent": str(shown)})
