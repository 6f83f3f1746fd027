"""The fault campaign (issue 21): the production shape as processes, N refunds, faults on a
seeded schedule, then the invariants. Run by ``homing bench faults`` and tests/faults."""

from __future__ import annotations


def run_campaign(scenario: str, refunds: int, seed: int, **options):
    """Plan and run one campaign; returns a ``hub.faults.campaign.Result``."""
    from hub.faults import campaign, scenarios

    plan = scenarios.plan(scenario, refunds, seed)
    if options.get("settle_timeout") is not None:
        plan.settle_timeout = float(options.pop("settle_timeout"))
    options.pop("settle_timeout", None)
    return campaign.run(plan, **options)
