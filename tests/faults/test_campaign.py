"""The fault campaign at CI size (issue 21): a few hundred refunds drained by two workers
while every fault kind strikes at least once, then every invariant must hold.

Its own .ci/run step (``bin/test tests/faults -m campaign``, about five minutes on two
cores); ``homing bench faults`` runs the long ones."""

from __future__ import annotations

import pytest

from hub.faults.bench import report, run_campaign
from hub.faults.scenarios import ALL_KINDS
from tests.conftest import PG_ADMIN_URL

REFUNDS, SEED = 300, 21


@pytest.mark.campaign
@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
def test_every_fault_kind_and_every_invariant_holds(redis_url):
    admin = PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    result = run_campaign("random", REFUNDS, SEED, admin_url=admin, redis_url=redis_url,
                          settle_timeout=180)
    text = "\n".join(report(result))
    print(text)
    assert set(result.plan.kinds) == set(ALL_KINDS), text
    failed = [c.name for c in result.checks if not c.passed]
    assert failed == [], text
    # Every fault here passes: a run that never drains proves little, even if what waits
    # is visible.
    assert result.timings["quiescent"], text
    # Holding proves something only if the faults really struck (not merely queued).
    assert result.missed == [], f"planned faults that never struck: {result.missed}\n{text}"
