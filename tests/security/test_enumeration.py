"""Enumeration. Promise: nobody learns whether an account, an order or a voucher exists from
how Homing refuses: a locked account answers as an unknown one (HQ password and store PIN),
an unknown order as a wrong postal code, and each voucher fault has one code and status,
whichever endpoint meets it."""

from __future__ import annotations

import re

import pytest

from tests.integration.factories import store_user
from tests.integration.hq_helpers import hq_user, sign_in
from tests.security.conftest import enrolled_tablet


def _text(response) -> str:
    html = response.get_data(as_text=True)
    html = re.sub(r'name="csrf-token" content="[^"]*"', "", html)
    return re.sub(r'value="[^"]*"', "", html)  # the typed e-mail / staff number echoed back


def test_hq_locked_and_unknown_accounts_answer_the_same(client, session, admin):
    hq_user(session, "hq_ops", "ops@hq.example")
    for _ in range(5):
        sign_in(client, "ops@hq.example", "not the password")
    locked = sign_in(client, "ops@hq.example")  # right password, locked
    unknown = sign_in(client, "nobody@hq.example")
    wrong = sign_in(client, "ops@hq.example", "still not it")
    assert locked.status_code == unknown.status_code == wrong.status_code == 422
    assert _text(locked) == _text(unknown) == _text(wrong)
    assert "15 minutes" in _text(locked)


def test_store_locked_and_unknown_staff_answer_the_same(client, session, admin):
    store_user(session, "NYC-1", "clerk", "101", "2468")
    enrolled_tablet(client, session)
    for _ in range(5):
        client.post("/store/login", data={"staff_number": "101", "pin": "0000"})
    locked = client.post("/store/login", data={"staff_number": "101", "pin": "2468"})
    unknown = client.post("/store/login", data={"staff_number": "999", "pin": "2468"})
    assert locked.status_code == unknown.status_code == 422
    assert _text(locked) == _text(unknown)


def test_unknown_order_and_wrong_postal_code_answer_the_same(client, admin):
    wrong = client.post("/return/find", data={"order_id": "114-1234567-1234567",
                                              "proof": "99999"})
    unknown = client.post("/return/find", data={"order_id": "114-0000000-0000000",
                                                "proof": "10001"})
    assert wrong.status_code == unknown.status_code == 404
    assert _text(wrong) == _text(unknown)


@pytest.mark.parametrize("fault", ["expired", "already_used", "cancelled", "malformed"])
def test_one_voucher_fault_one_answer_from_every_endpoint(client, api_key, admin, rma, session,
                                                          fault):
    from datetime import timedelta

    from hub.models import utcnow
    from hub.vouchers.models import Voucher

    token = rma["voucher"]["token"]
    voucher = session.query(Voucher).one()
    if fault == "expired":
        voucher.expires_at = utcnow() - timedelta(days=1)
        session.commit()
    elif fault == "already_used":
        voucher.status, voucher.consumed_at = "used", utcnow()
        session.commit()
    elif fault == "cancelled":
        client.post(f"/api/v1/returns/{rma['number']}/cancel", headers=admin)
    else:
        token = "not-a-voucher"
    verify = client.get(f"/api/v1/vouchers/{token}", headers=admin)
    intake = client.post("/api/v1/intakes", json={"voucher": token},
                         headers=api_key("clerk", "NYC-1"))
    assert verify.get_json()["code"] == intake.get_json()["code"] == f"voucher_{fault}", (
        verify.get_json(), intake.get_json())
    assert verify.status_code == intake.status_code
