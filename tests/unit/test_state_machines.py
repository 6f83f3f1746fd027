"""Every status column changes only through its machine: the function beside the machine's
table checks the edge and assigns. This reads the source for any other assignment."""

from __future__ import annotations

import ast

import pytest

from hub.amazon import states as submission_states
from hub.counter import states as counter_states
from hub.credits import states as credit_states
from hub.intake import states as intake_states
from hub.ledger import states as entry_states
from hub.outbox import states as outbox_states
from hub.refunds import states as refund_states
from hub.returns import states as return_states
from hub.vouchers import states as voucher_states
from tests.unit.test_layers import ROOT, not_the_product

STATUS_COLUMNS = {"status", "reception_status", "acceptance_status"}
MACHINES = {"hub/refunds/actions.py", "hub/amazon/states.py", "hub/intake/states.py",
            "hub/returns/actions.py", "hub/vouchers/states.py", "hub/vouchers/actions.py",
            "hub/outbox/states.py", "hub/ledger/states.py", "hub/counter/states.py",
            "hub/creditnotes/states.py", "hub/vendor/states.py", "hub/credits/states.py"}
NOT_STATUS_COLUMNS = {"hub/amazon/connector.py", "hub/web/errors.py"}  # HTTP status codes


def status_writes(source: str) -> list[int]:
    """Lines that assign a status column (also in tuples and bulk ``.values(status=...)``)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
        for target in targets:
            for element in (target.elts if isinstance(target, ast.Tuple) else [target]):
                if isinstance(element, ast.Attribute) and element.attr in STATUS_COLUMNS:
                    lines.append(node.lineno)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr == "values" and {k.arg for k in node.keywords} & STATUS_COLUMNS:
            lines.append(node.lineno)
    return sorted(lines)


def writers() -> dict[str, list[int]]:
    found = {}
    for path in sorted(ROOT.glob("hub/**/*.py")) + sorted(ROOT.glob("portal/**/*.py")):
        name = str(path.relative_to(ROOT))
        module = name[:-3].replace("/", ".")
        if not_the_product(module) or name in MACHINES | NOT_STATUS_COLUMNS:
            continue
        lines = status_writes(path.read_text(encoding="utf-8"))
        if lines:
            found[name] = lines
    return found


def test_no_status_column_is_written_outside_its_machine():
    assert writers() == {}


def test_the_scan_sees_every_way_of_writing():
    assert status_writes("x.status = 'a'\nx.a, x.status = 1, 2\n"
                         "sa.update(T).values(status='b')\ny.reception_status += 1\n") == \
        [1, 2, 3, 4]
    assert status_writes("x.status == 'a'\nf(status='a')\n") == []


@pytest.mark.parametrize("table", [
    refund_states.REFUND_TRANSITIONS, submission_states.SUBMISSION_TRANSITIONS,
    intake_states.INTAKE_TRANSITIONS, return_states.RMA_TRANSITIONS,
    return_states.UNIT_RECEPTION, return_states.UNIT_ACCEPTANCE,
    voucher_states.VOUCHER_TRANSITIONS, outbox_states.OUTBOX_TRANSITIONS,
    entry_states.ENTRY_TRANSITIONS, counter_states.APPROVAL_TRANSITIONS,
    counter_states.VISIT_TRANSITIONS, credit_states.CREDIT_TRANSITIONS])
def test_every_transition_leads_to_a_known_state(table):
    assert set().union(*table.values()) <= set(table)


def test_refusals_name_the_edge():
    class Thing:
        status = "done"

    with pytest.raises(submission_states.TransitionError, match="done cannot become creating"):
        submission_states.move(Thing(), "creating")


def test_a_delivered_message_is_final_and_only_a_dead_one_is_replayed():
    table = outbox_states.OUTBOX_TRANSITIONS
    assert table["delivered"] == set()
    assert table["dead"] == {"pending"}
    assert set(outbox_states.DUE) <= {s for s, edges in table.items() if "enqueued" in edges}


def test_a_journal_entry_once_posted_or_recorded_never_changes():
    class Entry:
        status = "posted"

    for final in ("posted", "recorded"):
        Entry.status = final
        for target in entry_states.ENTRY_TRANSITIONS:
            with pytest.raises(entry_states.TransitionError):
                entry_states.move(Entry(), target)
    Entry.status = "failed"
    entry_states.move(Entry(), "posted")


def test_a_spent_credit_stays_spent():
    class Credit:
        status = "spent"

    with pytest.raises(credit_states.TransitionError):
        credit_states.move(Credit(), "active")
