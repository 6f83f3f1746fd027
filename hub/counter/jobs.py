"""The counter's periodic job: close visits the clerk left open, so their one e-mail goes."""

from __future__ import annotations

import logging

from flask import Flask

from hub.counter.visits import close_stale
from hub.extensions import db
from hub.jobs.runner import periodic

log = logging.getLogger(__name__)


@periodic("close-counter-visits", every_seconds=300)
def close_counter_visits(app: Flask) -> None:
    with app.app_context():
        count = close_stale(db.session)
        db.session.commit()
        if count:
            log.info("closed %d counter visits", count)
