from hub.intake.inspection import (
    UnitDecision,
    approval_reasons,
    best_grade_allowed,
    check_decision,
    decision_from,
)
from hub.policy.document import default_policy


def accept(grade="A", **kw) -> UnitDecision:
    return UnitDecision("received", "accept", grade=grade, disposition="restock", **kw)


def codes(problems):
    return [p["code"] for p in problems]


def test_checklist_caps_the_grade():
    assert best_grade_allowed("electronics", {}) == "A"
    assert best_grade_allowed("electronics", {"packaging": False}) == "B"  # minor check
    assert best_grade_allowed("electronics", {"powers_on": False}) == "C"  # major check
    assert best_grade_allowed("apparel", {"tags_attached": False, "unworn": False}) == "D"
    assert best_grade_allowed("unknown-category", {"undamaged": False}) == "C"


def test_a_grade_better_than_the_checklist_allows_is_refused():
    d = accept("A", checklist={"powers_on": False})
    assert codes(check_decision("electronics", d)) == ["grade_above_checklist"]
    assert check_decision("electronics", accept("C", checklist={"powers_on": False})) == []


def test_decisions_must_be_complete_and_consistent():
    assert codes(check_decision("general", UnitDecision("received", "accept"))) == [
        "grade_required", "disposition_required"]
    assert codes(check_decision("general", UnitDecision("missing", "accept", grade="A",
                                                        disposition="restock"))) == [
        "not_received"]
    assert codes(check_decision("general", UnitDecision("received", "reject"))) == [
        "reject_reason_required"]
    assert codes(check_decision("general", UnitDecision("received", "reject",
                                                        reject_reason="other"))) == [
        "notes_required"]
    assert codes(check_decision("general", UnitDecision("lost", "maybe"))) == [
        "invalid_reception", "invalid_decision"]
    assert codes(check_decision("general", accept(checklist={"bogus": True}))) == [
        "unknown_check"]
    assert check_decision("general", UnitDecision("missing", "reject",
                                                  reject_reason="missing")) == []


def test_approval_reasons_follow_the_policy():
    policy = default_policy()  # USD threshold 200.00, grade D, reason mismatch
    assert approval_reasons(policy, "USD", 5000, [accept("B")]) == []  # the seeds' USD 50
    assert approval_reasons(policy, "USD", 5001, [accept("B")]) == ["amount"]
    assert approval_reasons(policy, "USD", 100, [accept("D")]) == ["grade"]
    assert approval_reasons(policy, "USD", 100, [accept("A", reason_confirmed=False)]) == [
        "reason_mismatch"]
    rejected = UnitDecision("received", "reject", grade="D", reject_reason="used_or_worn")
    assert approval_reasons(policy, "USD", 0, [rejected]) == []  # rejecting needs no approval
    assert approval_reasons(policy, "USD", 100, [accept()], risk_action="supervisor") == ["risk"]
    assert approval_reasons(policy, "XAF", 10**9, [accept()]) == []  # no threshold set
    policy["approvals"]["reason_mismatch"] = False
    assert approval_reasons(policy, "USD", 100, [accept("A", reason_confirmed=False)]) == []


def test_decision_from_reports_shape_problems():
    d, problems = decision_from({"decision": "accept", "grade": "B", "disposition": "restock",
                                 "checklist": {"packaging": False}, "notes": "  box torn "})
    assert problems == [] and d.grade == "B" and d.reception == "received" and d.notes == "box torn"
    _, problems = decision_from({"decision": 1, "checklist": {"x": "yes"},
                                 "reason_confirmed": "no"})
    assert codes(problems) == ["invalid_checklist", "invalid_boolean", "invalid_type"]


def test_approval_message_names_the_policy_grades():
    from hub.intake.inspection import approval_message

    policy = default_policy()
    policy["approvals"]["grades"] = ["C", "D"]
    template, params = approval_message("grade", policy)
    assert template % params == "A unit graded C, D is being accepted."
    assert approval_message("amount", policy)[1] == {}
