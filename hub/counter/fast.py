"""The fast path: one tap accepts a unit as "unopened, as new" (every check passed, grade A,
the policy's default disposition for its category). Pure domain code."""

from __future__ import annotations

from collections.abc import Mapping

from hub.intake.inspection import UnitDecision, checklist_for
from hub.policy.document import default_disposition


def as_new(category: str, policy: Mapping) -> UnitDecision:
    return UnitDecision(
        reception="received", decision="accept", grade="A",
        disposition=default_disposition(policy, category), reason_confirmed=True,
        checklist={key: True for key, _label, _major in checklist_for(category)})
