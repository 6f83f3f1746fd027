"""The fault campaign (issue 21): the production shape as processes, N refunds, faults on a
seeded schedule, then the invariants. ``hub.faults.bench`` runs it (``homing bench faults``,
tests/faults/test_campaign.py); ``scenarios`` plans it, ``stack`` starts the processes,
``proxy`` cuts PostgreSQL and Redis, ``invariants`` checks the outcome."""
