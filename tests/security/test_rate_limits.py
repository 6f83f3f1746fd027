"""Guessing. Promise: voucher look-ups are limited per caller, not per address: anonymous
callers (the shopper's order look-up) per client address; API keys per key; store tablets per
enrolled device, so counters behind one NAT address do not share one budget and one noisy key
is stopped alone."""

from __future__ import annotations

import pytest

from tests.security.conftest import clerk_signed_in


@pytest.fixture
def small_budget(app):
    saved = app.config["RATELIMIT_CODE_LOOKUP_STORE"]
    app.config["RATELIMIT_CODE_LOOKUP_STORE"] = "3 per minute"
    yield 3
    app.config["RATELIMIT_CODE_LOOKUP_STORE"] = saved


def test_a_busy_counter_is_not_stopped_at_the_eleventh_scan(client, api_key, admin, rma):
    clerk = api_key("clerk", "NYC-1")
    code = rma["voucher"]["short_code"]
    answers = [client.get(f"/api/v1/vouchers/{code}", headers=clerk).status_code
               for _ in range(15)]
    assert answers == [200] * 15


def test_each_key_has_its_own_budget(client, api_key, admin, rma, small_budget):
    noisy, quiet = api_key("clerk", "NYC-1"), api_key("clerk", "NYC-1")
    code = rma["voucher"]["short_code"]
    answers = [client.get(f"/api/v1/vouchers/{code}", headers=noisy).status_code
               for _ in range(small_budget + 1)]
    assert answers[-1] == 429 and answers[:-1] == [200] * small_budget
    assert client.get(f"/api/v1/vouchers/{code}", headers=quiet).status_code == 200


def test_each_tablet_has_its_own_budget(app, client, session, admin, small_budget):
    clerk_signed_in(client, session)
    for _ in range(small_budget):
        assert client.post("/store/scan", data={"code": "AAAA-AAAA-AA"}).status_code != 429
    assert client.post("/store/scan", data={"code": "AAAA-AAAA-AA"}).status_code == 429
    other = app.test_client()  # another tablet at the same address
    clerk_signed_in(other, session, staff="102", pin="1357")
    assert other.post("/store/scan", data={"code": "AAAA-AAAA-AA"}).status_code != 429


def test_anonymous_order_look_ups_are_limited_per_address(client, admin, app):
    limit = int(app.config["RATELIMIT_CODE_LOOKUP"].split()[0])
    answers = [client.post("/return/find", data={"order_id": "114-0000000-0000000",
                                                 "proof": f"{i:05d}"}).status_code
               for i in range(limit + 1)]
    assert answers[-1] == 429 and 429 not in answers[:-1]
