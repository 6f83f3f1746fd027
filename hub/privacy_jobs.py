"""The retention job: every hour, photos older than HOMING_RETENTION_PHOTO_DAYS and shoppers'
personal data older than HOMING_RETENTION_SHOPPER_DAYS are removed (hub.privacy), audited."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from hub import unit_of_work
from hub.audit.service import Actor
from hub.extensions import db
from hub.jobs.runner import periodic
from hub.models import utcnow
from hub.privacy import retention_sweep

log = logging.getLogger(__name__)


@periodic("retention", every_seconds=3600)
def retention(app: Flask) -> None:
    with unit_of_work.job(app):
        counts, files = retention_sweep(
            db.session, utcnow(), photo_days=app.config.get("RETENTION_PHOTO_DAYS"),
            shopper_days=app.config.get("RETENTION_SHOPPER_DAYS"),
            actor=Actor("system", None, "retention"))
    folder = Path(app.config["PHOTO_DIR"])
    for relative in files:  # after the commit: no row points at them any more
        (folder / relative).unlink(missing_ok=True)
    if any(counts.values()):
        log.info("retention removed %s", counts)
