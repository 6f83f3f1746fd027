"""What a clerk decides about each returned unit, and when a supervisor must approve.

Pure domain code: no Flask, no database. The store app and the intake API both feed a
``UnitDecision`` per unit through ``check_decision`` and ask ``approval_reasons`` before
completing; the refund itself comes from the refund engine."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from hub.policy.document import GRADES, threshold
from hub.text import N_

RECEPTIONS = ("received", "missing", "wrong_item")
DECISIONS = ("accept", "reject")
DISPOSITIONS = ("restock", "open_box", "transfer_dc", "return_to_vendor", "liquidate", "scrap")
DISPOSITION_LABELS = {
    "restock": N_("Restock here"),
    "open_box": N_("Sell as open box"),
    "transfer_dc": N_("Send to the distribution centre"),
    "return_to_vendor": N_("Return to vendor"),
    "liquidate": N_("Liquidate"),
    "scrap": N_("Scrap"),
}
REJECT_REASONS = {
    "missing": N_("The unit was not handed in"),
    "wrong_item": N_("A different item was handed in"),
    "damaged_by_customer": N_("Damaged after delivery"),
    "used_or_worn": N_("Used or worn beyond the policy"),
    "missing_parts": N_("Parts or accessories are missing"),
    "serial_mismatch": N_("Serial number does not match the order"),
    "other": N_("Other (see notes)"),
}
GRADE_LABELS = {
    "A": N_("A — as new, original packaging"),
    "B": N_("B — as new, packaging opened or damaged"),
    "C": N_("C — used, light signs of wear"),
    "D": N_("D — heavily used or damaged"),
}

# Category checklists: each check the unit passes or fails. A failed "major" check caps the
# grade at C; two or more failed checks of any kind cap it at D. The clerk can always pick a
# lower grade than the suggestion, never a higher one than the checks allow.
_GENERAL = (
    ("packaging", N_("Original packaging present"), False),
    ("complete", N_("All parts and accessories present"), True),
    ("undamaged", N_("No visible damage"), True),
)
CHECKLISTS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "general": _GENERAL,
    "electronics": _GENERAL + (
        ("powers_on", N_("Powers on and works"), True),
        ("serial_matches", N_("Serial number matches the order"), True),
        ("no_account_lock", N_("Signed out of any account, no lock"), True),
    ),
    "apparel": (
        ("tags_attached", N_("Tags attached"), False),
        ("unworn", N_("Unworn and unwashed"), True),
        ("no_odour_or_stains", N_("No odour, stains or make-up marks"), True),
    ),
    "shoes": (
        ("box_present", N_("Shoe box present"), False),
        ("clean_soles", N_("Soles clean, not worn outside"), True),
    ),
}


def checklist_for(category: str) -> tuple[tuple[str, str, bool], ...]:
    return CHECKLISTS.get(category, _GENERAL)


def best_grade_allowed(category: str, answers: Mapping[str, bool]) -> str:
    """The highest grade the checklist answers allow (unanswered checks count as passed)."""
    failed = [(key, major) for key, _, major in checklist_for(category)
              if answers.get(key) is False]
    if len(failed) >= 2:
        return "D"
    if any(major for _, major in failed):
        return "C"
    if failed:
        return "B"
    return "A"


@dataclass(frozen=True)
class UnitDecision:
    reception: str  # received | missing | wrong_item
    decision: str  # accept | reject
    grade: str | None = None
    disposition: str | None = None
    reject_reason: str = ""
    reason_confirmed: bool = True  # does what the clerk sees match the shopper's reason?
    checklist: Mapping[str, bool] = field(default_factory=dict)
    notes: str = ""


def check_decision(category: str, d: UnitDecision) -> list[dict]:
    """Problems with one unit's decision, as {"field", "code", "message"} plus the untranslated
    "template" and its "params" (the tablet shows them in the clerk's language)."""
    problems: list[dict] = []

    def fail(field_name: str, code: str, template: str, **params) -> None:
        problems.append({"field": field_name, "code": code, "message": template % params,
                         "template": template, "params": params})

    if d.reception not in RECEPTIONS:
        fail("reception", "invalid_reception", N_("Reception must be one of %(choices)s."),
             choices=", ".join(RECEPTIONS))
    if d.decision not in DECISIONS:
        fail("decision", "invalid_decision", N_("Choose accept or reject."))
    if problems:
        return problems
    if d.reception != "received" and d.decision == "accept":
        fail("decision", "not_received", N_("A unit that was not handed in cannot be accepted."))
    if d.decision == "accept":
        best = best_grade_allowed(category, d.checklist)
        if d.grade not in GRADES:
            fail("grade", "grade_required", N_("Grade the unit (%(choices)s)."),
                 choices=", ".join(GRADES))
        elif GRADES.index(d.grade) < GRADES.index(best):
            fail("grade", "grade_above_checklist",
                 N_("The checklist allows at best grade %(grade)s."), grade=best)
        if d.disposition not in DISPOSITIONS:
            fail("disposition", "disposition_required", N_("Choose where the unit goes."))
    elif d.reject_reason not in REJECT_REASONS:
        fail("reject_reason", "reject_reason_required", N_("Say why the unit is rejected."))
    if d.decision == "reject" and d.reject_reason == "other" and not d.notes.strip():
        fail("notes", "notes_required", N_("Describe the reason in the notes."))
    unknown = set(d.checklist) - {key for key, _, _ in checklist_for(category)}
    if unknown:
        fail("checklist", "unknown_check", N_("Unknown checks: %(checks)s."),
             checks=", ".join(sorted(unknown)))
    if len(d.notes) > 2000:
        fail("notes", "too_long", N_("Notes are limited to 2000 characters."))
    return problems


APPROVAL_REASONS = {
    "amount": N_("The refund is above the amount a clerk may approve alone."),
    "grade": N_("A unit graded %(grades)s is being accepted."),
    "reason_mismatch": N_("What was found does not match the shopper's reason."),
    "risk": N_("This return was flagged by the risk rules."),
    "override": N_("The clerk took units outside the return policy."),
}


def approval_message(code: str, policy: Mapping) -> tuple[str, dict]:
    """The English template and parameters explaining one approval reason under ``policy``."""
    grades = ", ".join(policy.get("approvals", {}).get("grades", []))
    return APPROVAL_REASONS[code], {"grades": grades} if code == "grade" else {}


def approval_reasons(policy: Mapping, currency: str, refund_total: int,
                     decisions: Iterable[UnitDecision], risk_action: str = "none") -> list[str]:
    """Why a supervisor must approve this intake (empty: the clerk may complete alone)."""
    rules = policy.get("approvals", {})
    decisions = list(decisions)
    accepted = [d for d in decisions if d.decision == "accept"]
    reasons = []
    limit = threshold(rules.get("amount", {}), currency)
    if limit is not None and refund_total > limit:
        reasons.append("amount")
    if any(d.grade in rules.get("grades", []) for d in accepted):
        reasons.append("grade")
    if rules.get("reason_mismatch", True) and any(not d.reason_confirmed for d in accepted):
        reasons.append("reason_mismatch")
    if risk_action in ("supervisor", "hq_review"):
        reasons.append("risk")
    return reasons


def decision_from(data: Mapping) -> tuple[UnitDecision | None, list[dict]]:
    """Read a decision from JSON or form data; the problems say what is wrong with its shape
    (``check_decision`` then judges its content)."""
    problems: list[dict] = []
    checklist = data.get("checklist") or {}
    if not isinstance(checklist, Mapping) or not all(
            isinstance(v, bool) for v in checklist.values()):
        problems.append({"field": "checklist", "code": "invalid_checklist",
                         "message": "checklist maps check names to true (passed) or false"})
        checklist = {}
    confirmed = data.get("reason_confirmed", True)
    if not isinstance(confirmed, bool):
        problems.append({"field": "reason_confirmed", "code": "invalid_boolean",
                         "message": "reason_confirmed must be true or false"})
    fields = {}
    for name in ("reception", "decision", "grade", "disposition", "reject_reason", "notes"):
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            problems.append({"field": name, "code": "invalid_type",
                             "message": f"{name} must be a string"})
            value = None
        fields[name] = value
    if problems:
        return None, problems
    return UnitDecision(
        reception=fields["reception"] or "received", decision=fields["decision"] or "",
        grade=fields["grade"] or None, disposition=fields["disposition"] or None,
        reject_reason=fields["reject_reason"] or "", reason_confirmed=confirmed,
        checklist=dict(checklist), notes=(fields["notes"] or "").strip()), []
