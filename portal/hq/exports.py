"""CSV exports of the dashboard's tables, the queues and the audit log."""

from __future__ import annotations

import json

from flask import (
    abort,
    g,
    request,
)

from hub.audit import service as audit
from hub.extensions import db
from portal.hq.audit import audit_filters
from portal.hq.base import (
    bp,
    csv_response,
    hq_required,
)
from portal.hq.dashboard import figures
from portal.hq.queues import all_queues, queue_rows

DASHBOARD_TABLES = ("stores", "volume", "reasons", "grades", "dispositions", "backlog",
                    "capacity")


@bp.get("/dashboard.csv")
@hq_required
def dashboard_csv():
    table = request.args.get("table", "stores")
    if table not in DASHBOARD_TABLES:
        abort(404)
    fig = figures()
    span = f"{fig.range.first_day}_{fig.range.last_day}"
    if table == "stores":
        return csv_response(f"homing-stores-{span}.csv",
                    ["store", "name", "drop_offs", "completed", "units_accepted",
                     "units_rejected", "refund_value", "currency", "daily_capacity"],
                    ([s.code, s.name, s.intakes, s.completed, s.accepted, s.rejected,
                      f"{v}", c, s.capacity]
                     for s in fig.stores for c, v in (_money_rows(s.refund_value) or [("", "")])))
    if table == "volume":
        return csv_response(f"homing-volume-{span}.csv", ["day", "vouchers_issued", "drop_offs"],
                    ([d.isoformat(), i, n] for d, i, n in fig.volume))
    if table == "backlog":
        return csv_response("homing-backlog.csv", ["what", "age", "count"],
                    [*(["vouchers_not_dropped_off", a, n] for a, n in fig.vouchers_waiting),
                     *(["refunds_pending", a, n] for a, n in fig.refunds_waiting)])
    if table == "capacity":
        return csv_response("homing-near-capacity.csv", ["store", "name", "drop_offs_today",
                                                 "daily_capacity"],
                    ([s.code, s.name, n, s.capacity] for s, n in fig.near_capacity))
    rows = {"reasons": fig.reasons, "grades": fig.grades, "dispositions": fig.dispositions}[table]
    return csv_response(f"homing-{table}-{span}.csv", [table.rstrip("s"), "units"], rows)


def _money_rows(values: dict[str, int]) -> list[tuple[str, str]]:
    from hub.money import amount_text

    return [(currency, amount_text(minor, currency)) for currency, minor in sorted(values.items())]


@bp.get("/queues/<name>.csv")
@hq_required
def queue_csv(name: str):
    header, rows = queue_rows(all_queues(), name)
    return csv_response(f"homing-{name.replace('_', '-')}.csv", header, rows)


@bp.get("/audit.csv")
@hq_required
def audit_csv():
    g.scope.require("audit.view")
    events = audit.search(db.session, **audit_filters(), limit=100_000)
    return csv_response("homing-audit.csv",
                ["id", "occurred_at", "actor_type", "actor_id", "actor", "store_id", "action",
                 "subject_type", "subject_id", "before", "after", "hash", "prev_hash"],
                ([e.id, e.occurred_at.isoformat(), e.actor_type, e.actor_id, e.actor_label,
                  e.store_id, e.action, e.subject_type, e.subject_id,
                  json.dumps(e.before, sort_keys=True, default=str),
                  json.dumps(e.after, sort_keys=True, default=str), e.hash, e.prev_hash]
                 for e in events))
