"""Bad bodies. Promise: a clear 4xx naming what is wrong, nothing half-written, never a
500 and never a silently shortened request."""

from __future__ import annotations

import io

import sqlalchemy as sa
from PIL import Image

from hub.returns.models import ReturnAuthorization
from tests.conftest import count

ORDER = "114-1234567-1234567"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(out, "PNG")
    return out.getvalue()


def _lines(n: int) -> list[dict]:
    return [{"item_id": "11111111111111", "quantity": 1, "reason": "fit.too_small"}] * n


def test_more_lines_than_a_return_takes_is_refused_whole(client, admin, session):
    body = {"channel": "amazon-mfn", "order_id": ORDER, "lines": _lines(205)}
    response = client.post("/api/v1/returns", json=body, headers=admin)
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["code"] == "too_many_lines" and problem["max_lines"] == 200
    assert "205" in problem["detail"]
    assert count(session, ReturnAuthorization) == 0


def test_not_json_not_an_object_and_too_deep(client, admin):
    assert client.post("/api/v1/returns", data="lines=1", headers=admin,
                       content_type="application/x-www-form-urlencoded").status_code == 415
    assert client.post("/api/v1/returns", json=[1, 2], headers=admin).status_code == 400
    broken = client.post("/api/v1/returns", data='{"lines": [', headers=admin,
                         content_type="application/json")
    assert broken.status_code == 400 and broken.get_json()["code"] == "malformed_json"
    deep = "[" * 100_000 + "]" * 100_000
    nested = client.post("/api/v1/returns", data=deep, headers=admin,
                         content_type="application/json")
    assert nested.status_code == 400


def test_wrong_types_everywhere_are_named(client, admin):
    body = {"channel": "amazon-mfn", "order_id": ORDER,
            "lines": [{"item_id": "11111111111111", "quantity": True, "reason": "x"},
                      {"item_id": None, "quantity": 10**100}, "line"],
            "latitude": "NaN", "longitude": 1e400}
    response = client.post("/api/v1/returns", json=body, headers=admin)
    assert response.status_code == 422
    fields = {error["field"] for error in response.get_json()["errors"]}
    assert {"lines[0].quantity", "lines[1].line_id", "lines[2]", "latitude"} <= fields


def test_a_body_over_the_size_limit_is_413(client, admin, app):
    big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/api/v1/returns", data=big, headers=admin,
                           content_type="application/json")
    assert response.status_code == 413


def test_an_overlong_order_id_or_reason_is_not_a_500(client, admin):
    body = {"channel": "c" * 10_000, "order_id": "1" * 100_000, "lines": _lines(1)}
    assert client.post("/api/v1/returns", json=body, headers=admin).status_code == 404
    body = {"channel": "amazon-mfn", "order_id": ORDER,
            "lines": [{"item_id": "11111111111111", "reason": "r" * 100_000}]}
    assert client.post("/api/v1/returns", json=body, headers=admin).status_code == 422


def test_intake_unit_id_in_a_form_that_is_no_number(client, api_key, admin, rma):
    clerk = api_key("clerk", "NYC-1")
    intake = client.post("/api/v1/intakes", json={"voucher": rma["voucher"]["token"]},
                         headers=clerk).get_json()
    for unit in ("²", "99999999999", "-1", "1e3"):
        response = client.post(f"/api/v1/intakes/{intake['id']}/photos", headers=clerk,
                               data={"photo": (io.BytesIO(_png()), "a.png"), "unit_id": unit})
        assert response.status_code in (404, 422), (unit, response.get_json())


def test_nothing_was_written_by_refused_requests(client, admin, session):
    client.post("/api/v1/returns", json={"channel": "amazon-mfn", "order_id": ORDER,
                                         "lines": _lines(201)}, headers=admin)
    assert session.scalar(sa.select(sa.func.count()).select_from(ReturnAuthorization)) == 0
