"""Refund deadlines: Amazon expects a seller-fulfilled return refunded within two business
days of receipt. A periodic job finds refunds close to or past that deadline and alerts HQ
once per refund and stage (an audit event records each reminder; the e-mail goes out through
the outbox)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import Session

from hub import unit_of_work
from hub.audit.models import AuditEvent
from hub.audit.service import SYSTEM, record
from hub.extensions import db
from hub.jobs.runner import periodic
from hub.models import utcnow
from hub.outbox import service as outbox
from hub.refunds.models import Refund
from hub.refunds.states import OPEN

AT_RISK_WITHIN = timedelta(hours=12)


def due_refunds(session: Session, now: datetime) -> dict[str, list[Refund]]:
    """Open (or failed) refunds whose deadline is within 12 hours ("at_risk") or past
    ("overdue")."""
    refunds = session.scalars(sa.select(Refund).where(
        Refund.status.in_((*OPEN, "failed")), Refund.due_at.is_not(None),
        Refund.due_at <= now + AT_RISK_WITHIN).order_by(Refund.due_at))
    stages: dict[str, list[Refund]] = {"at_risk": [], "overdue": []}
    for refund in refunds:
        stages["overdue" if refund.due_at <= now else "at_risk"].append(refund)
    return stages


def remind(session: Session, now: datetime | None = None) -> dict[str, int]:
    """Record a reminder for each refund that has not had one at its stage, and queue one
    alert for HQ listing them. The caller commits."""
    now = now or utcnow()
    reminded = {(subject_id, after.get("stage")) for subject_id, after in session.execute(
        sa.select(AuditEvent.subject_id, AuditEvent.after).where(
            AuditEvent.action == "refund.sla_reminder"))}
    fresh: dict[str, list[int]] = {"at_risk": [], "overdue": []}
    for stage, refunds in due_refunds(session, now).items():
        for refund in refunds:
            if (str(refund.id), stage) in reminded:
                continue
            record(session, SYSTEM, "refund.sla_reminder", "refund", refund.id,
                   after={"stage": stage, "status": refund.status,
                          "due_at": refund.due_at.isoformat()})
            fresh[stage].append(refund.id)
    if fresh["at_risk"] or fresh["overdue"]:
        outbox.emit(session, "hq.alert", {"kind": "refund_sla", **fresh},
                    dedupe_key="refund-sla:" + hashlib.sha256(
                        repr(sorted(fresh.items())).encode()).hexdigest()[:32])
    return {stage: len(ids) for stage, ids in fresh.items()}


@outbox.handler("hq.alert")
def send_hq_alert(session: Session, message) -> None:
    """E-mail HQ (``HQ_ALERT_EMAIL``); without an address the alert stays in the audit log."""
    from email.message import EmailMessage

    from hub.notify.service import send

    address = current_app.config.get("HQ_ALERT_EMAIL")
    if not address:
        return
    payload = message.payload
    email = EmailMessage()
    email["Subject"] = (f"Homing: {len(payload['overdue'])} refunds overdue, "
                        f"{len(payload['at_risk'])} due within 12 hours")
    email["From"] = current_app.config.get("MAIL_FROM", "returns@homing.invalid")
    email["To"] = address
    lines = [f"Overdue refunds (ids): {', '.join(map(str, payload['overdue'])) or 'none'}",
             f"Due within 12 hours (ids): {', '.join(map(str, payload['at_risk'])) or 'none'}",
             "Amazon expects seller-fulfilled returns refunded within two business days of "
             "receipt. GET /api/v1/refunds/{id} shows where each one stands."]
    email.set_content("\n\n".join(lines) + "\n")
    send(email, name=f"hq-alert-{message.id}.eml")


@periodic("refund-sla", every_seconds=900)
def refund_sla(app: Flask) -> None:
    with unit_of_work.job(app):
        remind(db.session)
