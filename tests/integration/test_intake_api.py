"""The store intake flow over the REST API: open from a voucher, decide each unit, approval,
completion (voucher consumed once, refund intent, outbox), idempotency and store scoping."""

from __future__ import annotations

import io

import sqlalchemy as sa
from PIL import Image

from hub.audit.service import verify_chain
from hub.intake.models import Intake, Photo, StockMovement
from hub.outbox.models import OutboxMessage
from hub.refunds.models import Refund
from hub.returns.models import ReturnLine
from hub.vouchers.models import Voucher
from tests.conftest import count
from tests.integration.factories import (
    clerk_may_approve_up_to,
    create_order,
    issue_return,
    seed_stores,
    store_user,
)

ACCEPT_A = {"reception": "received", "decision": "accept", "grade": "A",
            "disposition": "restock"}
BOTH_HEADPHONES = [{"item_id": "11111111111111", "quantity": 2, "reason": "fit.too_small"}]


def _setup(client, api_key, session, lines=None):
    seed_stores(session)
    admin = api_key("admin")
    create_order(client, admin)
    clerk_may_approve_up_to(session)  # the stories here are not about approval
    rma = issue_return(client, admin, lines)
    return rma, api_key("clerk", "NYC-1")


def _open(client, clerk, rma, **extra):
    return client.post("/api/v1/intakes", json={"voucher": rma["voucher"]["token"], **extra},
                       headers=clerk)


def test_scan_grade_complete(client, api_key, session):
    rma, clerk = _setup(client, api_key, session)
    opened = _open(client, clerk, rma)
    assert opened.status_code == 201, opened.get_json()
    intake = opened.get_json()
    assert intake["store"] == "NYC-1" and not intake["offsite"]
    [unit] = intake["units"]
    assert unit["title"] == "Headphones" and unit["expected_amount"] == "108.86"
    assert {c["key"] for c in unit["checklist"]} >= {"powers_on", "serial_matches"}
    assert intake["refund_now"]["total"] == "0.00"  # nothing accepted yet

    # Grade C (the headphones do not power on): the live refund drops to 80 %.
    graded = client.post(f"/api/v1/intakes/{intake['id']}/units/{unit['unit_id']}",
                         json={**ACCEPT_A, "grade": "C", "checklist": {"powers_on": False}},
                         headers=clerk)
    assert graded.status_code == 200, graded.get_json()
    assert graded.get_json()["refund_now"]["total"] == "87.09"  # 0.8 × 108.86, half-even
    done = client.post(f"/api/v1/intakes/{intake['id']}/complete", headers=clerk)
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["status"] == "completed" and body["receipt_number"].startswith("RC-")
    assert body["refund"]["amount"] == "87.09" and body["refund"]["status"] == "pending"

    refund = session.scalar(sa.select(Refund))
    assert sum(line.amount for line in refund.lines) == refund.amount == 8709
    assert sum(c["amount_minor"] for line in refund.lines for c in line.components) == 8709
    assert session.scalar(sa.select(Voucher)).status == "used"
    topics = set(session.scalars(sa.select(OutboxMessage.topic)))
    assert topics == {"refund.submit", "finance.journal", "stock.movement", "shopper.notify",
                      "scan.prepare"}  # the last one from issuing the return
    assert session.scalar(sa.select(StockMovement.disposition)) == "restock"
    assert verify_chain(session) is None
    status = client.get(f"/api/v1/returns/{rma['number']}", headers=api_key("admin")).get_json()
    assert status["status"] == "dropped_off" and status["refund_due_at"]


def test_approval_needed_above_the_threshold(client, api_key, session):
    rma, clerk = _setup(client, api_key, session, BOTH_HEADPHONES)
    store_user(session, "NYC-1", "clerk", "7", "1111")
    store_user(session, "NYC-1", "supervisor", "9", "9999")
    intake = _open(client, clerk, rma).get_json()
    for unit in intake["units"]:
        client.post(f"/api/v1/intakes/{intake['id']}/units/{unit['unit_id']}", json=ACCEPT_A,
                    headers=clerk)
    url = f"/api/v1/intakes/{intake['id']}/complete"
    refused = client.post(url, headers=clerk)
    assert refused.status_code == 403
    assert refused.get_json()["code"] == "approval_required"
    assert refused.get_json()["reasons"] == ["amount"]  # 217.72 > 50.00
    not_supervisor = client.post(url, json={"supervisor": {"staff_number": "7", "pin": "1111"}},
                                 headers=clerk)
    assert not_supervisor.status_code == 409
    assert not_supervisor.get_json()["code"] == "tier_too_low"
    assert "supervisor" in not_supervisor.get_json()["detail"]  # who may approve instead
    wrong_pin = client.post(url, json={"supervisor": {"staff_number": "9", "pin": "0000"}},
                            headers=clerk)
    assert wrong_pin.status_code == 403 and count(session, Refund) == 0
    assert session.scalar(sa.select(Voucher)).status == "active"  # nothing half-written
    approved = client.post(url, json={"supervisor": {"staff_number": "9", "pin": "9999"}},
                           headers=clerk)
    assert approved.status_code == 200, approved.get_json()
    row = session.scalar(sa.select(Intake))
    assert row.approved_by_id is not None and row.approval_reasons == ["amount"]


def test_double_submission_and_second_tablet_never_double(client, api_key, session):
    rma, clerk = _setup(client, api_key, session)
    intake = _open(client, clerk, rma).get_json()
    unit = intake["units"][0]["unit_id"]
    client.post(f"/api/v1/intakes/{intake['id']}/units/{unit}", json=ACCEPT_A, headers=clerk)
    url = f"/api/v1/intakes/{intake['id']}/complete"
    first = client.post(url, headers={**clerk, "Idempotency-Key": "tap-1"})
    again = client.post(url, headers={**clerk, "Idempotency-Key": "tap-1"})
    assert first.status_code == again.status_code == 200
    assert first.get_json() == again.get_json()
    assert count(session, Refund) == 1
    without_key = client.post(url, headers=clerk)  # a plain retry is refused, not repeated
    assert without_key.status_code == 409 and without_key.get_json()["code"] == "intake_closed"
    # Another store scanning the used voucher is told so.
    other = _open(client, api_key("clerk", "JC-1"), rma)
    assert other.status_code == 409 and other.get_json()["code"] == "voucher_already_used"
    assert count(session, Refund) == 1 and count(session, Intake) == 1


def test_store_scoping(client, api_key, session):
    rma, clerk = _setup(client, api_key, session)
    intake = _open(client, clerk, rma).get_json()
    other_clerk = api_key("clerk", "JC-1")
    assert client.get(f"/api/v1/intakes/{intake['id']}", headers=other_clerk).status_code == 404
    unit = intake["units"][0]["unit_id"]
    sneaky = client.post(f"/api/v1/intakes/{intake['id']}/units/{unit}", json=ACCEPT_A,
                         headers=other_clerk)
    assert sneaky.status_code == 404
    claims_other = _open(client, clerk, rma, store="JC-1")
    assert claims_other.status_code == 403 and claims_other.get_json()["code"] == "wrong_store"
    # While NYC-1 has it open, Jersey City cannot start a second intake.
    race = _open(client, other_clerk, rma)
    assert race.status_code == 409 and race.get_json()["code"] == "in_progress_elsewhere"
    # Abandoned, it can be dropped at Jersey City instead (off-route, allowed by policy).
    assert client.post(f"/api/v1/intakes/{intake['id']}/abandon", headers=clerk).status_code == 200
    moved = _open(client, other_clerk, rma)
    assert moved.status_code == 201 and moved.get_json()["offsite"] is True


def test_bad_input_changes_nothing(client, api_key, session):
    rma, clerk = _setup(client, api_key, session)
    tampered = rma["voucher"]["token"][:-3] + ("AAA" if not rma["voucher"]["token"].endswith(
        "AAA") else "BBB")
    bad = client.post("/api/v1/intakes", json={"voucher": tampered}, headers=clerk)
    assert bad.status_code == 422 and bad.get_json()["code"] in ("voucher_bad_signature",
                                                                  "voucher_malformed")
    assert client.post("/api/v1/intakes", json={}, headers=clerk).get_json()["code"] == \
        "voucher_required"
    intake = _open(client, clerk, rma).get_json()
    unit = intake["units"][0]["unit_id"]
    url = f"/api/v1/intakes/{intake['id']}/units/{unit}"
    refused = client.post(url, json={**ACCEPT_A, "grade": "Z"}, headers=clerk)
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["code"] == \
        "grade_required"
    assert client.post(f"/api/v1/intakes/{intake['id']}/units/999999", json=ACCEPT_A,
                       headers=clerk).status_code == 422
    early = client.post(f"/api/v1/intakes/{intake['id']}/complete", headers=clerk)
    assert early.status_code == 422 and early.get_json()["errors"][0]["code"] == "undecided"
    assert session.scalar(sa.select(ReturnLine.acceptance_status)) == "pending"
    assert count(session, Refund) == 0


def test_missing_unit_is_rejected_and_freed(client, api_key, session):
    rma, clerk = _setup(client, api_key, session, BOTH_HEADPHONES)
    intake = _open(client, clerk, rma).get_json()
    first, second = (u["unit_id"] for u in intake["units"])
    client.post(f"/api/v1/intakes/{intake['id']}/units/{first}", json=ACCEPT_A, headers=clerk)
    client.post(f"/api/v1/intakes/{intake['id']}/units/{second}",
                json={"reception": "missing", "decision": "reject", "reject_reason": "missing"},
                headers=clerk)
    store_user(session, "NYC-1", "supervisor", "9", "9999")
    done = client.post(f"/api/v1/intakes/{intake['id']}/complete", headers=clerk,
                       json={"supervisor": {"staff_number": "9", "pin": "9999"}}).get_json()
    assert done["refund"]["amount"] == "108.86"  # one unit (above USD 50: a supervisor)
    # The missing headphone can be returned again later.
    again = issue_return(client, api_key("admin"))
    assert len(again["units"]) == 1


def test_photo_is_cleaned_and_stored_outside_the_database(client, api_key, session, app):
    rma, clerk = _setup(client, api_key, session)
    intake = _open(client, clerk, rma).get_json()
    unit = intake["units"][0]["unit_id"]
    image = Image.new("RGB", (4000, 3000), "red")
    exif = Image.Exif()
    exif[0x0110] = "SecretPhone 12"  # Model
    raw = io.BytesIO()
    image.save(raw, "JPEG", exif=exif)
    sent = client.post(f"/api/v1/intakes/{intake['id']}/photos", headers=clerk,
                       data={"photo": (io.BytesIO(raw.getvalue()), "unit.jpg"),
                             "unit_id": str(unit)})
    assert sent.status_code == 201, sent.get_json()
    assert max(sent.get_json()["width"], sent.get_json()["height"]) == 1600
    photo = session.scalar(sa.select(Photo))
    import pathlib
    stored = pathlib.Path(app.config["PHOTO_DIR"]) / photo.path
    assert stored.exists() and b"SecretPhone" not in stored.read_bytes()
    assert not Image.open(stored).getexif()
    junk = client.post(f"/api/v1/intakes/{intake['id']}/photos", headers=clerk,
                       data={"photo": (io.BytesIO(b"not an image"), "x.jpg")})
    assert junk.status_code == 422 and junk.get_json()["code"] == "unreadable_photo"
    assert count(session, Photo) == 1


def test_scan_reads_without_a_transaction_on_postgresql(scratch_database, tmp_path_factory):
    """The two reads of a scan run in autocommit (no BEGIN/ROLLBACK round trips) when the
    session comes straight from the pool, as in production; the tests' other cases run them
    inside the savepoint harness, so this one uses its own database."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from hub.auth.service import create_api_key
    from hub.extensions import db
    from tests.conftest import make_app

    app = make_app(scratch_database, tmp_path_factory)
    with app.app_context():
        upgrade(directory=str(app.extensions["migrate"].directory))
        seed_stores(db.session)
        _key, admin_key = create_api_key(db.session, role="admin")
        _key, clerk_key = create_api_key(db.session, role="clerk", store_code="NYC-1")
        db.session.commit()
        modes = []  # how each statement on the vouchers table ran

        def seen(conn, _cursor, statement, *_args):
            if "FROM vouchers" in statement:
                modes.append(conn.get_execution_options().get("isolation_level"))

        sa.event.listen(db.engine, "before_cursor_execute", seen)
    client = app.test_client()
    admin_h = {"Authorization": f"Bearer {admin_key}"}
    clerk_h = {"Authorization": f"Bearer {clerk_key}"}
    create_order(client, admin_h)
    rma = issue_return(client, admin_h)
    token = rma["voucher"]["token"]
    modes.clear()
    checked = client.get(f"/api/v1/vouchers/{token}", headers=clerk_h)
    assert checked.status_code == 200 and checked.get_json()["valid"]
    assert modes and set(modes) == {"AUTOCOMMIT"}
    modes.clear()
    with app.app_context():  # the key's first use was recorded all the same
        from hub.auth.models import ApiKey

        assert db.session.scalar(sa.select(ApiKey.last_used_at)
                                 .where(ApiKey.role == "clerk")) is not None
    opened = client.post("/api/v1/intakes", json={"voucher": token}, headers=clerk_h)
    assert modes and "AUTOCOMMIT" not in modes  # a write keeps its transaction
    unit = opened.get_json()["units"][0]["unit_id"]
    client.post(f"/api/v1/intakes/{opened.get_json()['id']}/units/{unit}", json=ACCEPT_A,
                headers=clerk_h)
    page = client.get(f"/api/v1/intakes/{opened.get_json()['id']}", headers=clerk_h)
    assert page.get_json()["units"][0]["decision"]["grade"] == "A"
    again = client.get(f"/api/v1/vouchers/{token}", headers=clerk_h).get_json()
    assert again["return"]["units"][0]["acceptance"] == "accepted"  # sees the commits


def test_a_return_with_nothing_to_refund_ends_at_the_counter(client, api_key, session):
    """Every unit refused: no refund will ever complete the return, so the counter does."""
    from hub.returns.models import ReturnAuthorization

    rma, clerk = _setup(client, api_key, session)
    intake = _open(client, clerk, rma).get_json()
    for unit in intake["units"]:
        client.post(f"/api/v1/intakes/{intake['id']}/units/{unit['unit_id']}", headers=clerk,
                    json={"reception": "received", "decision": "reject",
                          "reject_reason": "damaged_by_customer"})
    done = client.post(f"/api/v1/intakes/{intake['id']}/complete", headers=clerk)
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["refund"] is None
    returned = session.scalar(sa.select(ReturnAuthorization).where(
        ReturnAuthorization.number == rma["number"]))
    assert returned.status == "completed" and returned.completed_at is not None
    assert count(session, Refund) == 0
