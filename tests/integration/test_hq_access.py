"""HQ access: password sign-in with lock-out, CSRF, each role sees and does only what it
should (enforced in the services, not only hidden), store staff see only their store, and
every HQ action is audited."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from hub.audit.models import AuditEvent
from hub.audit.service import Actor, verify_chain
from hub.auth.models import ApiKey, User
from hub.hq import admin, queues, sample
from hub.hq.access import PERMISSIONS, Forbidden, Scope
from hub.models import utcnow
from hub.outbox import service as outbox
from hub.outbox.models import OutboxMessage
from hub.policy.models import PolicyVersion
from hub.policy.service import current_policy
from hub.refunds.models import Refund
from hub.returns.models import ReturnAuthorization
from hub.stores.service import get_store
from tests.integration.factories import seed_stores
from tests.integration.hq_helpers import PASSWORD, hq_user, sign_in


@pytest.fixture
def stores(session):
    seed_stores(session)
    return {code: get_store(session, code) for code in ("NYC-1", "NYC-2", "JC-1")}


@pytest.fixture
def returns(session, stores):
    """Ten sample returns at each store, dropped off and completed."""
    now = utcnow()
    plan = []
    for i, store in enumerate(stores.values()):
        for r in sample.plan([store.id], 10, now, days=3, seed=i):
            r.index += 100 * i
            plan.append(r)
    sample.insert(session, plan)
    session.commit()
    return plan


def _events(session, action: str) -> list[AuditEvent]:
    return list(session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def test_password_sign_in_locks_out_after_five_failures(client, session, stores):
    hq_user(session, "hq_ops", "ops@hq.example")
    assert client.get("/hq/").headers["Location"].startswith("/hq/login")
    for _ in range(5):
        wrong = sign_in(client, "ops@hq.example", "not the password")
        assert wrong.status_code == 422 and "wrong" in wrong.get_data(as_text=True)
    locked = sign_in(client, "ops@hq.example")  # the right password, but locked now
    assert locked.status_code == 422 and "15 minutes" in locked.get_data(as_text=True)
    assert client.get("/hq/").status_code == 302
    unknown = sign_in(client, "nobody@hq.example")
    assert unknown.status_code == 422 and "wrong" in unknown.get_data(as_text=True)


def test_sessions_end_after_inactivity(app, client, session, stores):
    hq_user(session, "finance", "fin@hq.example")
    assert sign_in(client, "fin@hq.example").status_code == 302
    assert client.get("/hq/").status_code == 200
    with client.session_transaction() as s:
        s["seen"] = s["seen"] - app.config["IDLE_TIMEOUT_HQ"] - 5
    assert client.get("/hq/").status_code == 302


def test_clerks_have_no_hq_access(client, session, stores):
    hq_user(session, "clerk", "clerk@hq.example", store_code="NYC-1", staff_number="77")
    refused = sign_in(client, "clerk@hq.example")
    assert refused.status_code == 422 and "no access" in refused.get_data(as_text=True)
    assert client.get("/hq/").status_code == 302  # still not signed in


ROLE_PAGES = {
    # page: roles that may open it
    "/hq/": {"supervisor", "hq_ops", "finance", "admin"},
    "/hq/queues": {"supervisor", "hq_ops", "finance", "admin"},
    "/hq/audit": {"hq_ops", "finance", "admin"},
    "/hq/admin/blocklist": {"hq_ops", "admin"},
    "/hq/admin/stores": {"admin"},
    "/hq/admin/policy": {"admin"},
    "/hq/admin/people": {"admin"},
    "/hq/admin/connector": {"admin"},
}


@pytest.mark.parametrize("role", ["supervisor", "hq_ops", "finance", "admin"])
def test_each_role_opens_only_its_pages(client, session, stores, role):
    hq_user(session, role, f"{role}@hq.example",
            store_code="NYC-1" if role == "supervisor" else None,
            staff_number="88" if role == "supervisor" else None)
    assert sign_in(client, f"{role}@hq.example").status_code == 302
    for page, allowed in ROLE_PAGES.items():
        status = client.get(page).status_code
        assert status == (200 if role in allowed else 403), (role, page, status)
    nav = client.get("/hq/").get_data(as_text=True)
    assert ("/hq/admin/people" in nav) == (role == "admin")  # links follow the rules too


def test_services_refuse_without_the_permission(session, stores):
    finance = Scope(1, "finance")
    actor = Actor("user", 1, "finance person")
    with pytest.raises(Forbidden):
        admin.update_store(session, finance, actor, stores["NYC-1"], name="x", hours="24/7",
                           categories="general", capacity="5", active=True)
    with pytest.raises(Forbidden):
        admin.create_key(session, Scope(2, "hq_ops"), actor, name="k", role="admin")
    with pytest.raises(Forbidden):
        queues.replay_message(session, finance, actor, 1)
    with pytest.raises(Forbidden):
        queues.review_risk(session, Scope(3, "supervisor", stores["NYC-1"].id), actor, "R",
                           outcome="clear", note="x")
    # The table itself: nothing for clerks, admin-only configuration.
    assert not any("clerk" in roles for roles in PERMISSIONS.values())
    assert all(PERMISSIONS[p] == {"admin"} for p in ("stores.manage", "users.manage",
                                                     "keys.manage", "policy.manage"))


def test_a_supervisor_sees_only_their_stores_returns(client, session, stores, returns):
    hq_user(session, "supervisor", "sup@hq.example", store_code="NYC-1", staff_number="99")
    sign_in(client, "sup@hq.example")
    mine = next(r for r in returns if r.store_id == stores["NYC-1"].id)
    theirs = next(r for r in returns if r.store_id == stores["JC-1"].id)
    assert client.get(f"/hq/returns/RS{mine.index:08d}").status_code == 200
    assert client.get(f"/hq/returns/RS{theirs.index:08d}").status_code == 404
    found = client.get(f"/hq/returns?q=RS{theirs.index:08d}")
    assert found.status_code == 302 and "/hq/returns/" not in found.headers["Location"]
    page = client.get("/hq/?range=week").get_data(as_text=True)
    assert "JC-1" not in page and "NYC-2" not in page
    csv_text = client.get("/hq/dashboard.csv?table=stores&range=week").get_data(as_text=True)
    assert {line.split(",")[0] for line in csv_text.splitlines()[1:]} <= {"NYC-1"}


def test_csrf_protects_every_hq_form(app, client, session, stores, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    hq_user(session, "admin", "adm@hq.example")
    page = client.get("/hq/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/hq/login", data={"email": "adm@hq.example",
                                          "password": PASSWORD}).status_code == 400
    assert client.post("/hq/login", data={"email": "adm@hq.example", "password": PASSWORD,
                                          "csrf_token": token}).status_code == 302
    forged = client.post("/hq/admin/stores/NYC-1", data={"name": "Hacked", "hours": "24/7",
                                                         "categories": "general",
                                                         "daily_capacity": "1"})
    assert forged.status_code == 400
    session.expire_all()
    assert get_store(session, "NYC-1").name == "Herald Square"


def test_admin_edits_a_store_and_bad_input_changes_nothing(client, session, stores):
    hq_user(session, "admin", "adm@hq.example")
    sign_in(client, "adm@hq.example")
    bad = client.post("/hq/admin/stores/NYC-2", data={
        "name": "Brooklyn", "hours": "Mon-Fri 25:00-26:00", "categories": "general",
        "daily_capacity": "abc", "active": "on"}, follow_redirects=True)
    text = bad.get_data(as_text=True)
    assert "hours:" in text and "daily_capacity:" in text
    session.expire_all()
    assert get_store(session, "NYC-2").daily_capacity == 50
    good = client.post("/hq/admin/stores/NYC-2", data={
        "name": "Brooklyn Atlantic", "hours": "Mon-Sat 10:00-20:00; Sun closed",
        "categories": "general|apparel|home", "daily_capacity": "75"})
    assert good.status_code == 302
    session.expire_all()
    store = get_store(session, "NYC-2")
    assert (store.name, store.daily_capacity, store.active) == ("Brooklyn Atlantic", 75, False)
    assert store.categories == ["apparel", "general", "home"]
    [event] = _events(session, "store.updated")
    assert event.after["daily_capacity"] == 75 and event.before["daily_capacity"] == 50
    assert event.actor_label == "admin person"


def test_policy_edit_publishes_a_new_version(client, session, stores, returns):
    hq_user(session, "admin", "adm@hq.example")
    sign_in(client, "adm@hq.example")
    page = client.get("/hq/admin/policy").get_data(as_text=True)
    assert "&#34;voucher_ttl_days&#34;" in page or '"voucher_ttl_days"' in page
    broken = client.post("/hq/admin/policy", data={"document": "{not json", "note": "typo"})
    assert broken.status_code == 422 and "not valid JSON" in broken.get_data(as_text=True)
    invalid = client.post("/hq/admin/policy", data={"document": '{"windows": "soon"}',
                                                    "note": "bad shape"})
    assert invalid.status_code == 422 and "windows" in invalid.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.max(PolicyVersion.version))) == 1
    document = current_policy(session).document | {"voucher_ttl_days": 21}
    done = client.post("/hq/admin/policy", data={"document": json.dumps(document),
                                                 "note": "three weeks to drop off"})
    assert done.status_code == 302
    assert session.scalar(sa.select(sa.func.max(PolicyVersion.version))) == 2
    old = session.scalar(sa.select(ReturnAuthorization).limit(1))
    assert old.policy_version_id == session.scalar(
        sa.select(PolicyVersion.id).where(PolicyVersion.version == 1))
    assert current_policy(session).document["voucher_ttl_days"] == 21
    assert _events(session, "policy.published")


def test_people_keys_and_tablets_are_managed_in_hq(client, session, stores):
    hq_user(session, "admin", "adm@hq.example")
    sign_in(client, "adm@hq.example")
    made = client.post("/hq/admin/people/keys", data={"name": "POS", "role": "clerk",
                                                      "store": "NYC-1"}, follow_redirects=True)
    secret = re.search(r"<code data-secret>([^<]+)</code>", made.get_data(as_text=True)).group(1)
    assert client.get("/api/v1/stores", headers={"Authorization": f"Bearer {secret}"}
                      ).status_code == 200
    again = client.get("/hq/admin/people").get_data(as_text=True)
    assert secret not in again  # shown once only
    key = session.scalar(sa.select(ApiKey).where(ApiKey.name == "POS"))
    assert key.store_id == stores["NYC-1"].id and key.key_hash != secret
    client.post(f"/hq/admin/people/keys/{key.id}/revoke")
    assert client.get("/api/v1/stores", headers={"Authorization": f"Bearer {secret}"}
                      ).status_code == 401
    # A person, their lock-out lifted, then deactivated.
    client.post("/hq/admin/people/users", data={"name": "Fin Ance", "role": "finance",
                                                "email": "fa@hq.example",
                                                "password": "long enough pass"})
    user = session.scalar(sa.select(User).where(User.email == "fa@hq.example"))
    assert user is not None and user.password_hash != "long enough pass"
    short = client.post("/hq/admin/people/users", data={
        "name": "Short", "role": "hq_ops", "email": "s@hq.example", "password": "short"},
        follow_redirects=True)
    assert "at least 10 characters" in short.get_data(as_text=True)
    assert session.scalar(sa.select(User).where(User.email == "s@hq.example")) is None
    for _ in range(5):
        sign_in(client.application.test_client(), "fa@hq.example", "wrong password!")
    client.post(f"/hq/admin/people/users/{user.id}/unlock")
    assert sign_in(client.application.test_client(), "fa@hq.example",
                   "long enough pass").status_code == 302
    off = client.post(f"/hq/admin/people/users/{user.id}/active", data={"active": "0"},
                      follow_redirects=True)
    assert "User deactivated." in off.get_data(as_text=True), off.get_data(as_text=True)[-2000:]
    assert sign_in(client.application.test_client(), "fa@hq.example",
                   "long enough pass").status_code == 422
    # A tablet: the enrolment link is shown once and works.
    enrolled = client.post("/hq/admin/people/devices", data={"store": "JC-1", "name": "Front"},
                           follow_redirects=True)
    link = re.search(r"<code data-secret>([^<]+)</code>", enrolled.get_data(as_text=True)).group(1)
    token = link.split("token=")[1]
    tablet = client.application.test_client()
    assert tablet.post("/store/enroll", data={"token": token}).status_code == 302
    actions = {e.action for e in session.scalars(sa.select(AuditEvent))}
    assert {"api_key.created", "api_key.revoked", "user.created", "user.unlocked",
            "user.deactivated", "device.enrolled"} <= actions
    assert verify_chain(session) is None


def test_queue_actions_are_authorised_and_audited(client, session, stores, returns):
    hq_user(session, "hq_ops", "ops@hq.example")
    sign_in(client, "ops@hq.example")
    flagged = session.scalar(sa.select(ReturnAuthorization).where(
        ReturnAuthorization.status == "issued").limit(1))
    flagged.needs_hq_review = True
    failed = session.scalar(sa.select(Refund).limit(1))
    failed.status, failed.failure_code = "failed", "1"
    dead = outbox.emit(session, "finance.push", {"entry_id": 1}, dedupe_key="dead-hq")
    dead.status, dead.last_error = "dead", "finance system down"
    session.commit()
    page = client.get("/hq/queues").get_data(as_text=True)
    assert flagged.number in page and "finance system down" in page
    no_note = client.post(f"/hq/queues/risk/{flagged.number}", data={"outcome": "cancel"},
                          follow_redirects=True)
    assert "say why" in no_note.get_data(as_text=True)
    client.post(f"/hq/queues/risk/{flagged.number}", data={"outcome": "cancel",
                                                           "note": "known fraud ring"})
    client.post(f"/hq/queues/refunds/{failed.id}/retry")
    client.post(f"/hq/queues/outbox/{dead.id}/replay")
    session.expire_all()
    assert session.get(ReturnAuthorization, flagged.id).status == "cancelled"
    assert session.get(Refund, failed.id).status == "queued"
    assert session.get(OutboxMessage, dead.id).status == "pending"
    for action in ("return.hq_reviewed", "return.cancelled", "refund.retried",
                   "outbox.replayed"):
        assert _events(session, action), action
    again = client.post(f"/hq/queues/refunds/{failed.id}/retry", follow_redirects=True)
    assert "cannot become queued" in again.get_data(as_text=True)
    # Each queue exports as CSV.
    failed.status = "failed"
    session.commit()
    rows = client.get("/hq/queues/failed_refunds.csv").get_data(as_text=True).splitlines()
    assert rows[0].startswith("refund,status") and rows[1].startswith(f"{failed.id},failed")
    assert client.get("/hq/queues/nothing.csv").status_code == 404


def test_a_paused_job_does_not_run(client, session, stores, app):
    from hub.jobs.runner import PERIODIC, run_job

    hq_user(session, "admin", "adm@hq.example")
    sign_in(client, "adm@hq.example")
    ran = []
    PERIODIC.append(("test-job", 60, lambda a: ran.append(1)))
    try:
        client.post("/hq/admin/connector", data={"job": "test-job", "paused": "1"})
        run_job(app, "test-job", lambda a: ran.append(1))
        assert ran == []
        client.post("/hq/admin/connector", data={"job": "test-job", "paused": "0"})
        run_job(app, "test-job", lambda a: ran.append(1))
        assert ran == [1]
        page = client.get("/hq/admin/connector").get_data(as_text=True)
        assert "test-job" in page
        assert {"job.paused", "job.resumed"} <= {e.action for e in session.scalars(
            sa.select(AuditEvent))}
        unknown = client.post("/hq/admin/connector", data={"job": "nope", "paused": "1"},
                              follow_redirects=True)
        assert "no periodic job" in unknown.get_data(as_text=True)
    finally:
        PERIODIC.remove(("test-job", 60, PERIODIC[-1][2]))


def test_audit_log_search_export_and_verify(client, session, stores, returns):
    hq_user(session, "finance", "fin@hq.example")
    sign_in(client, "fin@hq.example")
    page = client.get("/hq/audit?action=user.").get_data(as_text=True)
    assert "user.signed_in" in page and "stores.imported" not in page
    verified = client.get("/hq/audit?verify=1").get_data(as_text=True)
    assert "Chain intact" in verified
    exported = client.get("/hq/audit.csv?action=stores.").get_data(as_text=True)
    lines = exported.splitlines()
    assert lines[0].startswith("id,occurred_at") and len(lines) == 2
    assert "stores.imported" in lines[1]
    event = session.scalar(sa.select(AuditEvent).order_by(AuditEvent.id).limit(1))
    session.execute(sa.update(AuditEvent).where(AuditEvent.id == event.id)
                    .values(after={"tampered": True}))
    session.commit()
    assert f"Chain broken at event {event.id}" in client.get("/hq/audit?verify=1").get_data(
        as_text=True)


def test_blocklist_entries_need_a_reason_and_keep_no_personal_data(client, session, stores):
    from hub.policy.models import BlocklistEntry

    hq_user(session, "hq_ops", "ops@hq.example")
    sign_in(client, "ops@hq.example")
    refused = client.post("/hq/admin/blocklist", data={"kind": "email",
                                                       "value": "fraud@example.com"},
                          follow_redirects=True)
    assert "reason" in refused.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(BlocklistEntry)) == 0
    client.post("/hq/admin/blocklist", data={"kind": "email", "value": "Fraud@Example.com",
                                             "reason": "chargeback ring"})
    entry = session.scalar(sa.select(BlocklistEntry))
    assert entry.hint == "f***@example.com" and "fraud" not in entry.value_hash
    page = client.get("/hq/admin/blocklist").get_data(as_text=True)
    assert "f***@example.com" in page and "fraud@example.com" not in page.lower()
    client.post(f"/hq/admin/blocklist/{entry.id}/remove", data={"reason": ""})
    session.expire_all()
    assert session.get(BlocklistEntry, entry.id).removed_at is None  # no reason, no removal
    client.post(f"/hq/admin/blocklist/{entry.id}/remove", data={"reason": "cleared by bank"})
    session.expire_all()
    assert session.get(BlocklistEntry, entry.id).removal_reason == "cleared by bank"
    assert _events(session, "blocklist.added") and _events(session, "blocklist.removed")


def test_csv_exports_do_not_carry_spreadsheet_formulas(client, session, stores):
    from hub.auth.service import create_user

    create_user(session, name="=HYPERLINK('http://evil')", role="finance",
                email="formula@hq.example", password=PASSWORD)
    session.commit()
    sign_in(client, "formula@hq.example")  # the audit event's actor is that name
    exported = client.get("/hq/audit.csv?action=user.signed_in").get_data(as_text=True)
    assert ",'=HYPERLINK" in exported and ",=HYPERLINK" not in exported
    from portal.hq.base import csv_cell as _cell

    assert _cell("-5.00") == "-5.00" and _cell("@SUM(A1)") == "'@SUM(A1)"  # amounts stay
