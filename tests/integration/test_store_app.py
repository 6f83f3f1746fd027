"""The store tablet (server side): enrolment, PIN sign-in with lock-out, scan by code and by
photo, one unit per screen with a live refund, supervisor approval, receipt, today, and that
a tablet of one store never sees another store's intake."""

from __future__ import annotations

import io
import re

import qrcode
import sqlalchemy as sa

from hub.auth.service import enroll_device
from hub.intake.models import Intake
from hub.refunds.models import Refund
from hub.stores.service import get_store
from hub.vouchers.models import Voucher
from tests.conftest import count
from tests.integration.factories import (
    clerk_may_approve_up_to,
    create_order,
    issue_return,
    seed_stores,
    store_user,
)

BOTH_HEADPHONES = [{"item_id": "11111111111111", "quantity": 2, "reason": "fit.too_small"}]


def _tablet(client, session, store_code="NYC-1"):
    _device, token = enroll_device(session, store_id=get_store(session, store_code).id,
                                   name="Counter 1")
    session.commit()
    page = client.get(f"/store/enroll?token={token}")
    assert page.status_code == 200
    enrolled = client.post("/store/enroll", data={"token": token})
    assert enrolled.status_code == 302 and "homing_device" in enrolled.headers["Set-Cookie"]
    return token


def _sign_in(client, staff="101", pin="2468"):
    return client.post("/store/login", data={"staff_number": staff, "pin": pin})


def _setup(client, api_key, session, lines=None):
    seed_stores(session)
    admin = api_key("admin")
    create_order(client, admin)
    clerk_may_approve_up_to(session)  # the stories here are not about approval
    rma = issue_return(client, admin, lines)
    store_user(session, "NYC-1", "clerk", "101", "2468")
    store_user(session, "NYC-1", "supervisor", "900", "9090")
    _tablet(client, session)
    assert _sign_in(client).status_code == 302
    return rma


def _scan(client, code):
    return client.post("/store/scan", data={"code": code})


def _decide(client, path, **fields):
    data = {"reception": "received", "decision": "accept", "grade": "A",
            "disposition": "restock", **fields}
    return client.post(path, data=data)


def test_pages_need_an_enrolled_tablet_and_a_clerk(client, session):
    seed_stores(session)
    assert client.get("/store/").headers["Location"].endswith("/store/enroll")
    bad = client.post("/store/enroll", data={"token": "dev_nope_nope"})
    assert bad.status_code == 422 and "not valid" in bad.get_data(as_text=True)
    _tablet(client, session)
    assert "/store/login" in client.get("/store/").headers["Location"]


def test_pin_lock_out_after_repeated_failures(client, session):
    seed_stores(session)
    store_user(session, "NYC-1", "clerk", "101", "2468")
    _tablet(client, session)
    for _ in range(5):
        assert _sign_in(client, pin="0000").status_code == 422
    locked = _sign_in(client)  # right PIN, but locked for 15 minutes
    assert locked.status_code == 422 and "15 minutes" in locked.get_data(as_text=True)


def test_a_clerk_of_another_store_cannot_sign_in_here(client, session):
    seed_stores(session)
    store_user(session, "JC-1", "clerk", "101", "2468")
    _tablet(client, session, "NYC-1")
    assert _sign_in(client).status_code == 422


def test_scan_by_code_decide_each_unit_and_complete(client, api_key, session):
    rma = _setup(client, api_key, session)
    scanned = _scan(client, rma["voucher"]["short_code"].lower().replace("-", " "))
    assert scanned.status_code == 302
    overview = client.get(scanned.headers["Location"]).get_data(as_text=True)
    assert "Headphones" in overview and "To check" in overview
    unit_path = re.search(r'href="(/store/intakes/\d+/units/\d+)"', overview).group(1)
    unit_page = client.get(unit_path).get_data(as_text=True)
    assert "Powers on and works" in unit_page  # the electronics checklist
    preview = client.post(unit_path + "/preview", data={
        "reception": "received", "decision": "accept", "grade": "C", "disposition": "open_box",
        "check-powers_on": "no"}).get_data(as_text=True)
    assert "$87.09" in preview
    assert count(session, Refund) == 0 and session.scalar(
        sa.select(sa.func.count()).select_from(sa.text("inspections"))) == 0  # only a preview
    refused = _decide(client, unit_path, grade="A", **{"check-powers_on": "no"})
    assert refused.status_code == 422
    assert "allows at best grade C" in refused.get_data(as_text=True)
    german = client.post(unit_path, headers={"Accept-Language": "de"}, data={
        "reception": "received", "decision": "accept", "grade": "A", "disposition": "restock",
        "check-powers_on": "no"})
    assert "höchstens Zustand C" in german.get_data(as_text=True)
    saved = _decide(client, unit_path, grade="C", disposition="open_box",
                    **{"check-powers_on": "no", "idempotency_key": "k1"})
    assert saved.status_code == 303
    intake_path = saved.headers["Location"]
    page = client.get(intake_path).get_data(as_text=True)
    assert "$87.09" in page and "Complete return" in page
    key = re.search(r'id="complete-form".*?name="idempotency_key" value="(\w+)"', page,
                    re.S).group(1)
    done = client.post(intake_path + "/complete", data={"idempotency_key": key})
    assert done.status_code == 303 and done.headers["Location"].endswith("/receipt")
    again = client.post(intake_path + "/complete", data={"idempotency_key": key})  # double tap
    assert again.status_code == 303 and again.headers["Location"] == done.headers["Location"]
    receipt = client.get(done.headers["Location"]).get_data(as_text=True)
    assert re.search(r"Receipt RC-\d{6}-[0-9A-F]{6}", receipt) and "$87.09" in receipt
    assert count(session, Refund) == 1
    today = client.get("/store/today").get_data(as_text=True)
    assert rma["number"] in today and "Completed" in today
    rescan = _scan(client, rma["voucher"]["token"])
    assert rescan.status_code == 422 and "already used" in rescan.get_data(as_text=True)


def test_supervisor_pin_approves_at_the_counter(client, api_key, session):
    rma = _setup(client, api_key, session, BOTH_HEADPHONES)
    intake_path = _scan(client, rma["voucher"]["token"]).headers["Location"].split("?")[0]
    for unit_path in re.findall(r'href="(/store/intakes/\d+/units/\d+)"',
                                client.get(intake_path).get_data(as_text=True)):
        assert _decide(client, unit_path).status_code == 303
    page = client.get(intake_path).get_data(as_text=True)
    assert "Supervisor approval" in page and "above the amount" in page
    no_pin = client.post(intake_path + "/complete")
    assert no_pin.status_code == 403
    wrong = client.post(intake_path + "/complete",
                        data={"supervisor_staff": "900", "supervisor_pin": "1111"})
    assert wrong.status_code == 403 and "PIN is wrong" in wrong.get_data(as_text=True)
    clerk_as_supervisor = client.post(intake_path + "/complete",
                                      data={"supervisor_staff": "101", "supervisor_pin": "2468"})
    assert clerk_as_supervisor.status_code == 409 and count(session, Refund) == 0
    ok = client.post(intake_path + "/complete",
                     data={"supervisor_staff": "900", "supervisor_pin": "9090"})
    assert ok.status_code == 303
    assert session.scalar(sa.select(Intake)).approved_by_id is not None


def test_supervisor_queue(client, api_key, session):
    rma = _setup(client, api_key, session, BOTH_HEADPHONES)
    intake_path = _scan(client, rma["voucher"]["token"]).headers["Location"].split("?")[0]
    for unit_path in re.findall(r'href="(/store/intakes/\d+/units/\d+)"',
                                client.get(intake_path).get_data(as_text=True)):
        _decide(client, unit_path)
    queued = client.post(intake_path + "/request-approval")
    assert queued.status_code == 303
    assert rma["number"] in client.get("/store/today").get_data(as_text=True)
    assert client.post(intake_path + "/approval", data={"approve": "yes"}).status_code == 403
    client.post("/store/logout")
    _sign_in(client, "900", "9090")
    approved = client.post(intake_path + "/approval", data={"approve": "yes"})
    assert approved.status_code == 303 and approved.headers["Location"].endswith("/receipt")
    assert session.scalar(sa.select(Voucher)).status == "used"


def test_photo_of_the_qr_is_decoded_on_the_server(client, api_key, session):
    rma = _setup(client, api_key, session)
    picture = io.BytesIO()
    qrcode.make(rma["voucher"]["token"], border=4).save(picture, "PNG")
    found = client.post("/store/scan/photo",
                        data={"photo": (io.BytesIO(picture.getvalue()), "qr.png")})
    assert found.status_code == 302 and "/store/intakes/" in found.headers["Location"]
    nothing = client.post("/store/scan/photo", data={"photo": (io.BytesIO(b"junk"), "x.png")})
    assert nothing.status_code == 422 and "No QR code" in nothing.get_data(as_text=True)


def test_another_store_cannot_see_this_intake(client, api_key, session, app):
    rma = _setup(client, api_key, session)
    intake_path = _scan(client, rma["voucher"]["token"]).headers["Location"].split("?")[0]
    other = app.test_client()
    store_user(session, "JC-1", "clerk", "555", "5555")
    _tablet(other, session, "JC-1")
    assert _sign_in(other, "555", "5555").status_code == 302
    assert other.get(intake_path).status_code == 404
    assert other.post(intake_path + "/complete").status_code == 404
    busy = _scan(other, rma["voucher"]["token"])
    assert busy.status_code == 409 and "another counter" in busy.get_data(as_text=True)


def test_offline_sync_and_replay(client, api_key, session):
    rma = _setup(client, api_key, session, BOTH_HEADPHONES)
    synced = client.get("/store/sync").get_json()
    [expected] = [v for v in synced["vouchers"] if v["rma"] == rma["number"]]
    assert synced["keys"][0]["crv"] == "Ed25519" and len(expected["units"]) == 2
    assert "email" not in str(synced) and "shopper@" not in str(synced)  # no shopper PII
    clerk_id = synced["clerk"]["id"]
    units = {str(u["unit_id"]): {"reception": "received", "decision": "accept", "grade": "A",
                                 "disposition": "restock"} for u in expected["units"]}
    action = {"idempotency_key": "offline-1", "voucher": rma["voucher"]["token"],
              "units": units, "clerk_id": clerk_id}
    client.post("/store/logout")  # the clerk's session timed out during the outage
    junk = client.post("/store/offline", json={**action, "idempotency_key": "junk",
                                               "units": {k: "accept" for k in units}})
    assert junk.status_code == 422 and count(session, Intake) == 0  # refused, nothing written
    first = client.post("/store/offline", json=action)
    assert first.status_code == 200, first.get_json()
    # 217.72 is above the clerk's limit and no PIN can be checked offline: to the queue.
    assert first.get_json()["status"] == "awaiting_approval"
    again = client.post("/store/offline", json=action)  # replayed twice (flaky network)
    assert again.get_json() == first.get_json() and count(session, Intake) == 1
    assert session.scalar(sa.select(Intake)).offline is True


def test_offline_replay_conflict_when_used_elsewhere(client, api_key, session):
    rma = _setup(client, api_key, session)
    clerk_id = client.get("/store/sync").get_json()["clerk"]["id"]
    jc = api_key("clerk", "JC-1")
    opened = client.post("/api/v1/intakes", json={"voucher": rma["voucher"]["token"]},
                         headers=jc).get_json()
    unit_id = opened["units"][0]["unit_id"]
    client.post(f"/api/v1/intakes/{opened['id']}/units/{unit_id}", headers=jc,
                json={"decision": "accept", "grade": "A", "disposition": "restock"})
    assert client.post(f"/api/v1/intakes/{opened['id']}/complete", headers=jc).status_code == 200
    replay = client.post("/store/offline", json={
        "idempotency_key": "offline-2", "voucher": rma["voucher"]["token"], "clerk_id": clerk_id,
        "units": {str(unit_id): {"decision": "accept", "grade": "A", "disposition": "restock"}}})
    assert replay.status_code == 409 and "already used" in replay.get_json()["detail"]
    assert count(session, Refund) == 1
    stranger = client.post("/store/offline", json={"voucher": "x", "units": {},
                                                   "clerk_id": 999999})
    assert stranger.status_code == 403
    junk_clerk = client.post("/store/offline", json={"voucher": "x", "units": {},
                                                     "clerk_id": "abc"})
    assert junk_clerk.status_code == 403


def test_service_worker_and_manifest(client, session):
    sw = client.get("/store/sw.js")
    assert sw.status_code == 200 and sw.mimetype == "text/javascript"
    text = sw.get_data(as_text=True)
    assert "/static/vendor/workbox/workbox-sw.js" in text and "zxing_reader.wasm" in text
    assert "https://" not in text and "http://" not in text  # nothing from the internet
    manifest = client.get("/store/manifest.webmanifest").get_json()
    assert manifest["scope"] == "/store/" and manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200
