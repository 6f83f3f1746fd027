"""The fault tests: the sandbox's injected faults (through python-amazon-sp-api over HTTP) and
the fault campaign (hub.faults), which runs as its own CI step (see test_campaign.py)."""

from __future__ import annotations

from tests.integration.conftest import emu, sandbox, scratch_database  # noqa: F401
