"""The demo sandbox's own clockwork: Amazon cuts a settlement every 15 minutes here (really
every two weeks), so the demo's reconciliation has something to match."""

from __future__ import annotations

from flask import Flask

from hub.jobs.runner import periodic


@periodic("sandbox-close-settlement", every_seconds=900)
def close_sandbox_settlement(app: Flask) -> None:
    emulator = app.extensions.get("homing_sandbox")
    if emulator is not None and emulator.open_lines:
        emulator.close_settlement()
