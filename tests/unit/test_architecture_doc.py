"""docs/architecture.md cannot drift from the code: it is drawn from the imports and the
state machines, and this test compares (HOMING_WRITE_DOCS=1 rewrites the page)."""

from __future__ import annotations

import os

from tests.support.architecture import render
from tests.unit.test_layers import ROOT

PAGE = ROOT / "docs" / "architecture.md"


def test_the_architecture_page_matches_the_code():
    expected = render()
    if os.environ.get("HOMING_WRITE_DOCS"):
        PAGE.write_text(expected, encoding="utf-8")
    assert PAGE.exists() and PAGE.read_text(encoding="utf-8") == expected, (
        "docs/architecture.md is out of date: HOMING_WRITE_DOCS=1 .venv/bin/pytest "
        "tests/unit/test_architecture_doc.py")
