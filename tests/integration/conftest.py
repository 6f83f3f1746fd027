"""Fixtures of the Amazon tests: the SP-API sandbox on its own port, reset per test."""

from __future__ import annotations

import pytest

from hub.sandbox import SandboxServer


@pytest.fixture(scope="module")
def sandbox():
    server = SandboxServer().start()
    yield server
    server.stop()


@pytest.fixture
def emu(sandbox):
    """A fresh sandbox whose feeds are processed at once (the clock is tested on its own)."""
    sandbox.emulator.reset()
    sandbox.emulator.delays.update(queue=0, processing=0)
    return sandbox.emulator
