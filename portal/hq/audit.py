"""The audit log: filtered, paged and its hash chain verified."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import (
    flash,
    g,
    render_template,
    request,
)
from flask_babel import gettext as _

from hub.audit import service as audit
from hub.extensions import db
from hub.hq import detail
from hub.hq import queries as hq_queries
from portal.hq.base import (
    PAGE,
    bp,
    hq_required,
    hq_timezone,
    readable,
)


def audit_filters() -> dict:
    args = request.args

    def day(name: str, days_after: int = 0) -> datetime | None:
        if not args.get(name):
            return None
        try:
            start = datetime.combine(date.fromisoformat(args[name]), time.min, UTC)
        except ValueError:
            flash(_("Dates are YYYY-MM-DD."), "bad")
            return None
        return start + timedelta(days=days_after)

    return {"action": args.get("action", "").strip(), "subject": args.get("subject", "").strip(),
            "actor": args.get("actor", "").strip(), "store": args.get("store", "").strip(),
            "since": day("from"), "until": day("to", days_after=1)}


@bp.get("/audit")
@hq_required
def audit_page():
    g.scope.require("audit.view")
    filters = audit_filters()
    before = request.args.get("before", type=int)
    events = audit.search(db.session, **filters, before_id=before, limit=PAGE + 1)
    broken = audit.verify_chain(db.session) if request.args.get("verify") else None
    query = {k: v for k, v in request.args.items() if k not in ("verify", "before")}
    shown = events[:PAGE]
    stores = {e.store_id for e in shown} - {None}
    zones = hq_queries.store_zones(db.session, stores)
    return render_template("hq/audit.html", events=shown, more=len(events) > PAGE,
                           readings=readable(shown), zones=zones, hq_tz=hq_timezone(),
                           returns=detail.subject_returns(db.session, shown),
                           args=request.args, query=query, verified=request.args.get("verify"),
                           broken=broken)
