"""The dashboard: intake across the chain for a range of days, with charts."""

from __future__ import annotations

from flask import (
    flash,
    g,
    render_template,
    request,
)
from flask_babel import gettext as _
from markupsafe import Markup

from hub.extensions import db
from hub.hq import charts, dashboard
from hub.hq import queries as hq_queries
from hub.intake.inspection import DISPOSITION_LABELS
from hub.models import utcnow
from portal.hq.base import (
    bp,
    hq_required,
    hq_timezone,
)


def figures():
    kind = request.args.get("range", "week")
    try:
        rng = dashboard.date_range(kind, hq_timezone(), utcnow(), request.args.get("from", ""),
                                   request.args.get("to", ""))
    except dashboard.RangeError as exc:
        flash(str(exc), "bad")
        rng = dashboard.date_range("week", hq_timezone(), utcnow())
    return dashboard.figures(db.session, rng, g.scope, utcnow())


def _charts(fig: dashboard.Figures) -> dict[str, Markup]:

    reason_labels = {code: _(label) for code, label in
                     hq_queries.reason_labels(db.session).items()}
    return {
        "map": Markup(charts.store_map(
            [charts.MapPoint(s.latitude, s.longitude, s.intakes, f"{s.code} {s.name}")
             for s in fig.map_stores], label=_("Stores by drop-offs in the range"))),
        "volume": Markup(charts.column_chart(
            [(d.strftime("%m-%d"), n) for d, _issued, n in fig.volume],
            label=_("Drop-offs per day"))),
        "issued": Markup(charts.column_chart(
            [(d.strftime("%m-%d"), n) for d, n, _taken in fig.volume],
            label=_("Vouchers issued per day"))),
        "reasons": Markup(charts.bar_chart(
            [(reason_labels.get(code, code), n) for code, n in fig.reasons[:10]],
            label=_("Top return reasons"))),
        "grades": Markup(charts.bar_chart(fig.grades, label=_("Grades"))),
        "dispositions": Markup(charts.bar_chart(
            [(_(DISPOSITION_LABELS.get(code, code)), n) for code, n in fig.dispositions],
            label=_("Dispositions"))),
    }


@bp.get("/")
@hq_required
def dashboard_page():
    fig = figures()
    return render_template("hq/dashboard.html", fig=fig, charts=_charts(fig),
                           args=request.args)


@bp.get("/dashboard/panel")
@hq_required
def dashboard_panel():
    """The figures alone, for htmx: range changes and the minute refresh swap only this."""
    fig = figures()
    return render_template("hq/_dashboard_panel.html", fig=fig, charts=_charts(fig),
                           args=request.args)
