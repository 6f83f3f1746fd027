"""Approval tiers (hub.policy.approvals) and the fast path's decision (hub.counter.fast)."""

from __future__ import annotations

from hub.counter.fast import as_new
from hub.intake.inspection import approval_reasons, check_decision
from hub.policy.approvals import chain_for, may_approve, required_role
from hub.policy.document import default_policy, validate_policy


def test_the_default_is_the_seeds_rule_a_supervisor_above_usd_50():
    policy = default_policy()
    assert approval_reasons(policy, "USD", 5000, []) == []
    assert approval_reasons(policy, "USD", 6000, []) == ["amount"]
    assert approval_reasons(policy, "JPY", 7501, []) == ["amount"]  # the currency's equal
    tiers = chain_for(policy, "USD")
    assert required_role(tiers, 6000, ["amount"]) == "supervisor"
    assert required_role(tiers, 150_000, ["amount"]) == "hq"  # beyond the store's tiers


def test_an_approver_below_the_tier_is_refused_and_a_higher_one_may():
    tiers = chain_for(default_policy(), "USD")
    assert not may_approve(tiers, "clerk", 6000, ["amount"])
    assert may_approve(tiers, "supervisor", 6000, ["amount"])
    assert may_approve(tiers, "hq", 6000, ["amount"])  # a higher tier takes it too
    assert not may_approve(tiers, "supervisor", 150_000, ["amount"])
    assert not may_approve(tiers, "finance", 150_000, ["amount"])


def test_chains_per_store_group_then_channel_and_reasons_per_tier():
    policy = default_policy()
    policy["approvals"]["chain"]["by_channel"]["amazon-business"] = [
        {"role": "clerk", "up_to": {"USD": "20.00"}, "reasons": ["reason_mismatch"]},
        {"role": "finance", "reasons": ["amount", "reason_mismatch"]}]
    policy["approvals"]["chain"]["by_store_group"]["Outlets"] = [{"role": "supervisor"}]
    assert validate_policy(policy) == []
    b2b = chain_for(policy, "USD", "amazon-business")
    assert required_role(b2b, 1000, ["reason_mismatch"]) == "clerk"
    assert required_role(b2b, 1000, ["grade"]) == "hq"  # no tier takes grade: HQ's
    assert required_role(b2b, 10**7, ["amount"]) == "finance"
    outlet = chain_for(policy, "USD", "amazon-business", "Outlets")
    assert required_role(outlet, 10**7, ["amount", "risk"]) == "supervisor"


def test_bad_chains_and_the_removed_auto_accept_are_reported():
    policy = default_policy()
    policy["approvals"]["chain"]["default"] = [{"role": "boss", "up_to": {"USD": "x"},
                                                "reasons": ["whim"]}]
    policy["auto_accept"] = {"amount": {"USD": "50.00"}}
    fields = {e["field"] for e in validate_policy(policy)}
    assert {"approvals.chain.default[0].role", "approvals.chain.default[0].reasons",
            "approvals.chain.default[0].up_to.USD", "auto_accept"} <= fields


def test_as_new_passes_every_check_grade_a_and_the_policys_disposition():
    policy = default_policy()
    policy["dispositions"]["by_category"]["electronics"] = "transfer_dc"
    for category in ("apparel", "electronics", "shoes", "general", "toys"):
        decision = as_new(category, policy)
        assert check_decision(category, decision) == []
        assert decision.grade == "A" and all(decision.checklist.values())
    assert as_new("electronics", policy).disposition == "transfer_dc"
    assert as_new("apparel", policy).disposition == "restock"
