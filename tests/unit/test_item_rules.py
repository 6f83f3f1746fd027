"""The rules around item verification that need no database: which of Amazon's identifiers is
the GTIN, the serial-number risk flag, and the policy's serial categories."""

from hub.items.catalog import gtin_from_identifiers
from hub.policy.document import default_policy, serial_required, validate_policy
from hub.policy.risk import serial_already_returned


def test_the_gtin_comes_from_amazons_identifiers_in_order_of_trust():
    assert gtin_from_identifiers([{"identifierType": "UPC", "identifier": "036000291452"},
                                  {"identifierType": "EAN", "identifier": "0036000291452"}]
                                 ) == "00036000291452"
    assert gtin_from_identifiers([{"identifierType": "ISBN", "identifier": "0201379627"}]) == ""
    assert gtin_from_identifiers([{"identifierType": "EAN", "identifier": "4006381333932"},
                                  {"identifierType": "UPC", "identifier": "036000291452"}]
                                 ) == "00036000291452"  # a malformed EAN proves nothing
    assert gtin_from_identifiers(None) == gtin_from_identifiers([]) == ""
    assert gtin_from_identifiers([{"identifierType": "EAN", "identifier": None}]) == ""


def test_a_serial_already_returned_is_flagged_once_and_asks_for_a_supervisor():
    policy = default_policy()
    score, flags, action = serial_already_returned(0, [], "RMA-1", policy)
    assert (score, action) == (40, "supervisor")
    assert flags[0]["code"] == "serial_already_returned" and flags[0]["return"] == "RMA-1"
    again = serial_already_returned(score, flags, "RMA-1", policy)
    assert again == (40, flags, "supervisor")
    score, flags, action = serial_already_returned(score, flags, "RMA-2", policy)
    assert (score, action, len(flags)) == (80, "hq_review", 2)
    assert serial_already_returned(90, [], "RMA-3", policy)[0] == 100


def test_the_policy_says_which_categories_need_a_serial_number():
    policy = default_policy()
    assert serial_required(policy, "electronics") and not serial_required(policy, "apparel")
    assert not serial_required({}, "electronics")  # an old policy version: never asked
    assert validate_policy(policy) == []
    for bad in ("electronics", [1], ["x" * 61], [""]):
        policy["items"] = {"serial_required": bad}
        assert [e["field"] for e in validate_policy(policy)] == ["items.serial_required"]
