"""The journey stack itself: served over HTTP by gunicorn, jobs in the RQ worker, Amazon in the
sandbox. If this fails, every journey would; it says which part is missing."""

from __future__ import annotations


def test_the_stack_serves_the_demo_and_runs_jobs_in_the_worker(stack):
    health = stack.http.get("/api/v1/health").json()
    assert health["status"] == "ok", health
    assert stack.http.get("/return/").status_code == 200
    assert stack.api("GET", "/api/v1/refunds").status_code == 200  # the demo's admin key
    stack.run_job("amazon-push-refunds")  # nothing queued: the job runs and finds no work
    # The sandbox knows Homing's Amazon orders, as Amazon knows its own.
    assert stack.emu._order(stack.seed["order_id"]) is not None
