from __future__ import annotations

from hub.policy.document import default_policy
from hub.policy.risk import RiskContext, assess

POLICY = default_policy()


def test_a_clean_return_has_no_flags():
    result = assess(RiskContext("USD", 2999), POLICY)
    assert (result.score, result.flags, result.action) == (0, (), "none")


def test_rules_add_up_and_explain_themselves():
    result = assess(RiskContext("USD", 60000, frozenset({"apparel"}), returns_in_window=6,
                                worn_units=1), POLICY)
    assert [f.code for f in result.flags] == ["serial_returner", "high_value", "wardrobing"]
    assert result.score == 75 and result.action == "hq_review"
    assert result.flags[0].text == "6 returns in 90 days (limit 5)"


def test_supervisor_band_and_blocklist():
    assert assess(RiskContext("EUR", 100, returns_recently=3, replay_attempts=0),
                  POLICY).action == "none"
    assert assess(RiskContext("EUR", 100, returns_in_window=5), POLICY).action == "supervisor"
    assert assess(RiskContext("EUR", 100, blocklisted=("email",)), POLICY).action == "block"


def test_thresholds_are_per_currency():
    assert assess(RiskContext("JPY", 75000), POLICY).flags[0].code == "high_value"
    assert assess(RiskContext("USD", 75000), POLICY).flags[0].code == "high_value"
    assert assess(RiskContext("USD", 49999), POLICY).flags == ()
