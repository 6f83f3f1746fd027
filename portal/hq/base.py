"""The HQ console's blueprint, its sign-in guard and what every HQ page shows the same way
(times in the store's zone, audit readings, CSV cells a spreadsheet will not run)."""

from __future__ import annotations

import csv
import functools
import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from hub.audit import present
from hub.audit.service import Actor
from hub.extensions import db
from hub.hq import dashboard, detail
from hub.hq import queries as hq_queries
from hub.hq.access import HQ_ROLES, Scope
from hub.validation import InvalidInput
from hub.web.i18n import money
from hub.web.session import require_role

bp = Blueprint("hq", __name__, url_prefix="/hq")
PAGE = 50


def hq_required(view):
    """A signed-in person with an HQ role (sign-in and role check: the shared
    ``require_role``); g.scope and g.actor describe them to the services."""

    @functools.wraps(view)
    @require_role(*HQ_ROLES, login_endpoint="hq.login")
    def wrapper(*args, **kwargs):
        g.scope = Scope(current_user.id, current_user.role, current_user.store_id,
                        current_user.name)
        g.actor = Actor("user", current_user.id, current_user.name,
                        store_id=current_user.store_id)
        return view(*args, **kwargs)

    return wrapper


@bp.app_template_filter("hours")
def _hours_filter(seconds_or_hours: float | None) -> str:
    return "—" if seconds_or_hours is None else f"{seconds_or_hours:.1f} h"


@bp.app_template_global("age_label")
def _age_label(bucket: str) -> str:
    for low, high, name in dashboard.AGE_BUCKETS:
        if name == bucket:
            return (_("%(low)s to %(high)s days", low=low, high=high) if high is not None
                    else _("%(days)s days or more", days=low))
    return bucket


@bp.app_template_filter("zip")
def _zip_filter(left, right):
    return zip(left, right, strict=False)


def hq_timezone() -> str:
    return current_app.config.get("HQ_TIMEZONE", "UTC")


@bp.app_template_global("when")
def when(at: datetime | None, tz: str | None = None) -> str:
    """A stored (UTC) time in the zone of the store it happened at (HQ's otherwise), in the
    reader's locale, with the zone's abbreviation so no one guesses."""
    if at is None:
        return ""
    zone = ZoneInfo(tz or hq_timezone())
    local = at.astimezone(zone)
    text = format_datetime(local, "medium", tzinfo=zone, locale=str(get_locale() or "en"))
    return f"{text} {local.tzname()}"


def _value_text(value: present.Value | None, names: dict[int, str],
                units: dict[int, str]) -> str:
    if value is None:
        return ""
    if value.kind == "money":
        return money(value.raw, value.currency)
    if value.kind == "user":
        return names.get(int(value.raw), _("person #%(id)s", id=value.raw))
    if value.kind == "unit":
        return units.get(int(value.raw), f"#{value.raw}")
    if value.kind == "label":
        return _(value.raw)
    if value.kind == "flag":
        return _("yes") if value.raw else _("no")
    if value.kind == "list":
        return ", ".join(_value_text(v, names, units) for v in value.raw)
    return str(value.raw)


def readable(items, *, currency: str = "", units: dict[int, str] | None = None) -> list[dict]:
    """Audit events or timeline moments as people read them: what happened, translated, and
    each change with amounts in their currency and people by name (one query for all)."""
    def parts(item) -> tuple[str, dict, dict]:
        if isinstance(item, detail.Moment):
            return item.what, item.before, item.detail
        return item.action, item.before, item.after  # an AuditEvent

    readings = [present.describe(*parts(i), currency=currency) for i in items]
    ids = present.people(readings)
    names = hq_queries.user_names(db.session, ids)
    units = units or {}
    return [{"title": _(r.title) if r.title in present.ACTIONS.values() else r.title,
             "changes": [(_(c.label) if c.label in present.FIELD_LABELS else c.label,
                          _value_text(c.before, names, units),
                          _value_text(c.after, names, units)) for c in r.changes]}
            for r in readings]


@bp.app_context_processor
def _presentation():
    from hub.vouchers.crypto import format_short_code

    return {"present_actions": present.ACTIONS, "journal_step": detail.journal_step,
            "format_code": format_short_code}


@bp.app_template_global("label_of")
def _label_of(kind: str, value: str | None) -> str:
    label = present.LABELS.get(kind, {}).get(value or "")
    return _(label) if label else (value or "")


@bp.app_template_global("status_label")
def _status_label(status: str | None) -> str:
    label = present.STATUSES.get(status or "")
    return _(label) if label else (status or "")


def fail_flash(exc: InvalidInput) -> None:
    db.session.rollback()
    for error in exc.errors:
        flash(f"{error['field']}: {error['message']}", "bad")


_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def csv_cell(value):
    """A cell a spreadsheet will not run: text starting like a formula gets a quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") \
            and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_response(filename: str, header: list[str], rows) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
