"""The fault tests: the sandbox's injected faults (through python-amazon-sp-api over HTTP), the
campaign's parts (invariants, plans, the TCP proxy) and the fault campaign itself.

The campaign (marked ``campaign``) takes minutes and starts processes of its own, so it is a
step of its own in .ci/run (``bin/test tests/faults -m campaign``); a plain ``bin/test``
skips it and says how to run it."""

from __future__ import annotations

import os

import pytest

from tests.integration.conftest import emu, sandbox, scratch_database  # noqa: F401


def pytest_configure(config):
    config.addinivalue_line("markers", "campaign: the fault campaign (its own .ci/run step)")


def pytest_collection_modifyitems(config, items):
    wanted = "campaign" in (config.option.markexpr or "") or \
        os.environ.get("HOMING_FAULT_CAMPAIGN") == "1"
    if wanted:
        return
    skip = pytest.mark.skip(reason="the fault campaign is its own step: "
                                   "bin/test tests/faults -m campaign (see .ci/run)")
    for item in items:
        if item.get_closest_marker("campaign"):
            item.add_marker(skip)
