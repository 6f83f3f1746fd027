"""The periodic owner of every open credit note (``hub.creditnotes.upload``)."""

from __future__ import annotations

import logging

from flask import Flask

from hub.amazon import jobs as amazon_jobs
from hub.creditnotes import service as _service  # noqa: F401  (registers the refund effect)
from hub.creditnotes import upload
from hub.extensions import db
from hub.jobs.runner import periodic
from hub.models import utcnow

log = logging.getLogger(__name__)


@periodic("vat-credit-notes", every_seconds=30)
def upload_credit_notes(app: Flask) -> None:
    if not amazon_jobs.configured(app):
        return
    with app.app_context():
        outcomes = upload.advance_all(db.session, amazon_jobs.connector_for(app), utcnow())
        db.session.commit()
        if outcomes:
            log.info("credit notes: %s", outcomes)
