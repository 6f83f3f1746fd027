"""Policy validation explains every problem, whatever shape the JSON has."""

from __future__ import annotations

import pytest

from hub.policy.document import default_policy, validate_policy


def test_the_defaults_are_valid():
    assert validate_policy(default_policy()) == []


@pytest.mark.parametrize("section", ["windows", "refunds", "approvals", "risk", "intake",
                                     "dispositions"])
def test_a_section_of_the_wrong_type_is_reported_not_crashed_on(section):
    doc = default_policy() | {section: "soon"}
    errors = validate_policy(doc)
    assert {"field": section, "message": "must be a JSON object"} in errors


def test_nested_groups_of_the_wrong_type_are_reported():
    doc = default_policy()
    doc["windows"]["by_channel"] = ["amazon-mfn"]
    doc["refunds"]["grade_percent"] = 90
    fields = {e["field"] for e in validate_policy(doc)}
    assert {"windows.by_channel", "refunds.grade_percent"} <= fields
