"""Bad ids: every route with an integer id, with numbers no row can have. Promise: 404, never
a 500, on PostgreSQL (whose ``integer`` refuses parameters from 2^31) — once for all routes,
by the URL converter, so a new route is covered without thinking of it."""

from __future__ import annotations

import re

import pytest

HUGE = [str(2**31), str(2**63), str(10**30), "9" * 5000]


def _int_routes(app) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if not any(type(c).__name__ == "DatabaseIdConverter" or "Integer" in type(c).__name__
                   for c in rule._converters.values()):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((method, rule.rule))
    return routes


def _url(rule: str, value: str) -> str:
    return re.sub(r"<int:[a-z_]+>", value, re.sub(r"<(?!int:)[^>]+>", "x", rule))


def test_there_are_integer_routes_to_test(app):
    assert len(_int_routes(app)) >= 25


@pytest.mark.parametrize("value", HUGE, ids=["2^31", "2^63", "10^30", "5000 digits"])
def test_ids_beyond_the_column_range_are_not_found_on_every_route(
        app, client, admin, hq_admin, value):
    # Signed in as an HQ admin and with an admin key: the id is used, not refused earlier.
    seen = {}
    for method, rule in _int_routes(app):
        response = client.open(_url(rule, value), method=method, headers=admin,
                               data={} if method != "GET" else None)
        seen[(method, rule)] = response.status_code
    # 405 where the same path has a GET route too (Werkzeug's matcher says the method is
    # wrong before it finds the id impossible): still nothing looked up, nothing named.
    wrong = {route: status for route, status in seen.items() if status not in (404, 405)}
    assert not wrong, f"not 404: {wrong}"
    assert list(seen.values()).count(404) >= len(seen) - 2


def test_a_negative_or_zero_id_is_just_not_found(client, admin):
    assert client.get("/api/v1/refunds/0", headers=admin).status_code == 404
    assert client.get("/api/v1/refunds/-1", headers=admin).status_code == 404
    assert client.get("/api/v1/orders/%31%32", headers=admin).status_code == 404  # "12"


def test_ids_inside_json_bodies_beyond_the_range_are_refused_not_500(client, admin):
    body = {"channel": "amazon-mfn", "order_id": "114-1234567-1234567",
            "lines": [{"line_id": 2**40, "quantity": 1, "reason": "fit.too_small"}]}
    response = client.post("/api/v1/returns", json=body, headers=admin)
    assert response.status_code == 422, response.get_json()
