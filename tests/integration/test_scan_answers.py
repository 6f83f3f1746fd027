"""Kept scan answers: a repeated voucher check or intake page is answered with one query, and
never from a stale answer, whatever wrote in between (an API call, a job, an HQ edit, a Core
update). On a database of its own, with real commits, as in production."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from hub.extensions import db
from hub.policy.models import ReturnReason
from hub.refunds.models import Refund
from hub.scan import service as scan
from hub.scan.models import ScanAnswer
from hub.stores.models import Store
from tests.integration.factories import (
    clerk_may_approve_up_to,
    create_order,
    issue_return,
    seed_stores,
)

ACCEPT_A = {"reception": "received", "decision": "accept", "grade": "A",
            "disposition": "restock"}


@pytest.fixture
def hub(scratch_database, tmp_path_factory):
    from flask_migrate import upgrade

    from hub.auth.service import create_api_key
    from tests.conftest import make_app

    app = make_app(scratch_database, tmp_path_factory)
    with app.app_context():
        upgrade(directory=str(app.extensions["migrate"].directory))
        seed_stores(db.session)
        keys = {name: create_api_key(db.session, role=role, store_code=store)[1]
                for name, role, store in (("admin", "admin", None), ("clerk", "clerk", "NYC-1"),
                                          ("other", "clerk", "NYC-2"))}
        db.session.commit()
        clerk_may_approve_up_to(db.session)  # not a story about approval
        statements: list[str] = []
        sa.event.listen(db.engine, "before_cursor_execute",
                        lambda _c, _cur, statement, *_a: statements.append(statement))
    client = app.test_client()
    headers = {name: {"Authorization": f"Bearer {key}"} for name, key in keys.items()}
    create_order(client, headers["admin"])
    rma = issue_return(client, headers["admin"])
    return app, client, headers, rma, statements


def _tables(statements: list[str]) -> set[str]:
    """The tables a request's statements read from (besides the API key check)."""
    return {word for s in statements for word in
            ("vouchers", "return_authorizations", "intakes", "scan_answers", "return_lines")
            if f"FROM {word}" in s or f"JOIN {word}" in s}


def test_repeated_lookups_are_answered_from_the_kept_answer(hub):
    app, client, headers, rma, statements = hub
    token = rma["voucher"]["token"]
    first = client.get(f"/api/v1/vouchers/{token}", headers=headers["clerk"])
    statements.clear()
    second = client.get(f"/api/v1/vouchers/{token}", headers=headers["clerk"])
    assert second.status_code == 200 and second.get_json() == first.get_json()
    assert _tables(statements) == {"scan_answers"}
    # The typed short code finds the same kept answer.
    code = rma["voucher"]["short_code"]
    statements.clear()
    typed = client.get(f"/api/v1/vouchers/{code}", headers=headers["clerk"])
    assert typed.get_json() == first.get_json() and _tables(statements) == {"scan_answers"}

    intake = client.post("/api/v1/intakes", json={"voucher": token},
                         headers=headers["clerk"]).get_json()
    page = client.get(f"/api/v1/intakes/{intake['id']}", headers=headers["clerk"])
    statements.clear()
    again = client.get(f"/api/v1/intakes/{intake['id']}", headers=headers["clerk"])
    assert again.get_json() == page.get_json() and _tables(statements) == {"scan_answers"}
    # Another store's clerk gets the same 404 as for a wrong id, from the kept answer too.
    other = client.get(f"/api/v1/intakes/{intake['id']}", headers=headers["other"])
    assert other.status_code == 404 and other.get_json()["code"] == "intake_not_found"


def test_the_voucher_check_is_prepared_when_the_voucher_is_issued(hub):
    from hub.outbox import service as outbox

    app, client, headers, rma, statements = hub
    with app.app_context():  # what the worker does after the return is issued
        # the prepared voucher check and the shopper's copy of the voucher by e-mail
        assert outbox.drain(db.session) == (2, 0)
        db.session.commit()
    statements.clear()
    first = client.get(f"/api/v1/vouchers/{rma['voucher']['token']}", headers=headers["clerk"])
    assert first.status_code == 200 and first.get_json()["return"]["number"] == rma["number"]
    assert _tables(statements) == {"scan_answers"}  # the shopper's first scan: one query


def test_no_write_leaves_a_stale_answer(hub):
    app, client, headers, rma, _statements = hub
    clerk, token = headers["clerk"], rma["voucher"]["token"]
    intake = client.post("/api/v1/intakes", json={"voucher": token}, headers=clerk).get_json()
    page = f"/api/v1/intakes/{intake['id']}"
    unit = client.get(page, headers=clerk).get_json()["units"][0]
    assert unit["decision"] is None

    # A unit decision over the API: the page shows it and the live refund it brings.
    client.post(f"{page}/units/{unit['unit_id']}", json=ACCEPT_A, headers=clerk)
    graded = client.get(page, headers=clerk).get_json()
    assert graded["units"][0]["decision"]["grade"] == "A"
    assert graded["refund_now"]["total"] != "0.00"

    # HQ renames the store: the voucher check shows the new name.
    client.get(f"/api/v1/vouchers/{token}", headers=clerk)
    with app.app_context():
        store = db.session.scalar(sa.select(Store).where(Store.code == rma["store"]["code"]))
        store.name = "Herald Square (new entrance)"
        db.session.commit()
    shown = client.get(f"/api/v1/vouchers/{token}", headers=clerk).get_json()
    assert shown["return"]["store"]["name"] == "Herald Square (new entrance)"

    # Completion consumes the voucher with a Core update the unit of work never sees.
    done = client.post(f"{page}/complete", headers=clerk)
    assert done.status_code == 200, done.get_json()
    used = client.get(f"/api/v1/vouchers/{token}", headers=clerk)
    assert used.status_code == 409 and used.get_json()["code"] == "voucher_already_used"

    # A job moves the refund on: the intake page follows (a completed intake's is not kept).
    assert client.get(page, headers=clerk).get_json()["refund"]["status"] == "pending"
    with app.app_context():
        db.session.scalar(sa.select(Refund)).status = "submitted"
        db.session.commit()
        assert scan.cached(db.session, scan.intake_key(intake["id"])) is None
    assert client.get(page, headers=clerk).get_json()["refund"]["status"] == "submitted"


def test_a_change_to_the_reasons_drops_every_answer(hub):
    app, client, headers, rma, _statements = hub
    client.get(f"/api/v1/vouchers/{rma['voucher']['token']}", headers=headers["clerk"])
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ScanAnswer)) == 1
        reason = db.session.get(ReturnReason, "changed_mind.better_price")
        reason.seller_fault = not reason.seller_fault
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ScanAnswer)) == 0
