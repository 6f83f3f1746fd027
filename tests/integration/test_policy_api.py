from __future__ import annotations

import sqlalchemy as sa

from hub.audit.models import AuditEvent
from hub.policy.models import BlocklistEntry
from hub.policy.service import blocked_kinds


def test_publishing_a_policy_creates_a_new_version_and_keeps_the_old(client, api_key):
    admin = api_key("admin")
    first = client.get("/api/v1/policy", headers=admin).get_json()
    assert first["version"] == 1 and first["document"]["refunds"]["grade_percent"]["C"] == 80
    document = first["document"]
    document["refunds"]["grade_percent"]["C"] = 70
    published = client.put("/api/v1/policy", json={"document": document, "note": "C to 70"},
                           headers=admin)
    assert published.status_code == 201 and published.get_json()["version"] == 2
    old = client.get("/api/v1/policy/versions/1", headers=admin).get_json()
    assert old["document"]["refunds"]["grade_percent"]["C"] == 80
    listed = client.get("/api/v1/policy/versions", headers=admin).get_json()["items"]
    assert [v["version"] for v in listed] == [2, 1]


def test_invalid_policy_is_refused_with_every_problem_and_changes_nothing(client, api_key):
    admin = api_key("admin")
    document = client.get("/api/v1/policy", headers=admin).get_json()["document"]
    document["refunds"]["grade_percent"]["A"] = 140
    document["approvals"]["amount"]["JPY"] = "99.5"
    response = client.put("/api/v1/policy", json={"document": document}, headers=admin)
    assert response.status_code == 422
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert fields == {"refunds.grade_percent.A", "approvals.amount.JPY"}
    assert client.get("/api/v1/policy", headers=admin).get_json()["version"] == 1
    clerk = client.put("/api/v1/policy", json={"document": document},
                       headers=api_key("hq_ops"))
    assert clerk.status_code == 403


def test_blocklist_stores_no_personal_data_and_is_audited(client, api_key, session, app):
    hq = api_key("hq_ops")
    added = client.post("/api/v1/blocklist", headers=hq, json={
        "kind": "email", "value": "Fraud.Ster@Example.com ", "reason": "chargeback ring"})
    assert added.status_code == 201
    entry = added.get_json()
    assert entry["hint"] == "f***@example.com"
    stored = session.get(BlocklistEntry, entry["id"])
    assert "fraud" not in stored.value_hash
    secret = app.config["SECRET_KEY"]
    assert blocked_kinds(session, secret, email="fraud.ster@example.com") == ("email",)
    missing_reason = client.delete(f"/api/v1/blocklist/{entry['id']}", headers=hq, json={})
    assert missing_reason.status_code == 422
    removed = client.delete(f"/api/v1/blocklist/{entry['id']}", headers=hq,
                            json={"reason": "cleared by HQ"})
    assert removed.status_code == 200
    assert blocked_kinds(session, secret, email="fraud.ster@example.com") == ()
    actions = session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.subject_type == "blocklist")).all()
    assert actions == ["blocklist.added", "blocklist.removed"]
