"""The alert e-mail: what is past its deadline (``hub.jobs.deadlines``) goes to
``ALERT_EMAIL`` (``HOMING_ALERT_EMAIL``), once per item and state. Without an address nothing
is sent (HQ's "Overdue" queue shows the same list).

It is sent by the periodic job itself, not through the outbox: it reports the outbox's own
failures (a relay that stopped, messages stuck in RQ), so it must not depend on them. It
carries ids, states, times, owners and error class names, never personal data (no order
ids, addresses or error texts, which may quote them)."""

from __future__ import annotations

import re
from datetime import datetime
from email.message import EmailMessage

from flask import Flask, current_app
from flask_babel import force_locale, gettext
from sqlalchemy.orm import Session

from hub import unit_of_work
from hub.extensions import db
from hub.jobs.deadlines import Overdue, overdue
from hub.jobs.runner import job_row, periodic
from hub.models import utcnow

JOB = "overdue-alerts"
MAX_LINES = 200  # items listed in one e-mail; the rest are counted
_ERROR_NAME = re.compile(r"\b[A-Z][A-Za-z0-9]*(?:Error|Exception|Timeout|Refused|Terminated)\b")


def error_names(text: str) -> str:
    """The exception class names in an error text (they say what failed without quoting what
    the error text may contain)."""
    names = list(dict.fromkeys(_ERROR_NAME.findall(text or "")))
    return ", ".join(names[:3])


def fresh_items(session: Session, items: list[Overdue]) -> list[Overdue]:
    """The items not alerted yet in their present state. Keys of items no longer overdue are
    forgotten, so an item that comes back to a state later is alerted again. The caller
    commits."""
    row = job_row(session, JOB)
    cursor = dict(row.cursor or {})
    alerted = set(cursor.get("alerted", []))
    current = {item.key for item in items}
    fresh = [item for item in items if item.key not in alerted]
    cursor["alerted"] = sorted((alerted & current) | {item.key for item in fresh})
    row.cursor = cursor
    return fresh


def alert_email(items: list[Overdue], address: str) -> EmailMessage:
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "en")):
        email = EmailMessage()
        email["Subject"] = gettext("Homing: %(count)s items past their deadline",
                                   count=len(items))
        lines = [gettext("These are waiting longer than their deadline allows. HQ's queues "
                         "page lists them under Overdue, with their history."), ""]
        for item in items[:MAX_LINES]:
            params = dict(item.params)
            if "error" in params:
                params["error"] = error_names(str(params["error"])) or "?"
            detail = [f"{item.kind} {item.ref}", item.state,
                      gettext("deadline %(at)s UTC", at=item.deadline.strftime("%Y-%m-%d %H:%M")),
                      gettext("owner %(owner)s", owner=item.owner)]
            if item.attempts is not None:
                detail.append(gettext("%(n)s attempts", n=item.attempts))
            if error_names(item.last_error):
                detail.append(error_names(item.last_error))
            lines.append(" · ".join(detail))
            lines.append("    " + gettext(item.reason, **params))
        if len(items) > MAX_LINES:
            lines.append(gettext("… and %(n)s more.", n=len(items) - MAX_LINES))
    email["From"] = current_app.config.get("MAIL_FROM", "returns@homing.invalid")
    email["To"] = address
    email.set_content("\n".join(lines) + "\n")
    return email


def send_alerts(session: Session, address: str, now: datetime, redis=None) -> int:
    """E-mail the items newly past their deadline; how many. The caller commits (after the
    e-mail went out: a failed send is tried again at the next run)."""
    from hub.notify.service import send

    fresh = fresh_items(session, overdue(session, now, redis=redis, limit=5000))
    if fresh:
        send(alert_email(fresh, address), name=f"overdue-{now:%Y%m%dT%H%M%S}.eml")
    return len(fresh)


@periodic(JOB, every_seconds=300)
def overdue_alerts(app: Flask) -> None:
    from hub.jobs.queue import redis_connection

    address = app.config.get("ALERT_EMAIL") or app.config.get("HQ_ALERT_EMAIL")
    if not address:
        return
    with unit_of_work.job(app):
        send_alerts(db.session, address, utcnow(), redis=redis_connection(app))
