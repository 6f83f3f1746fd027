"""Periodic jobs of returns: expire unused vouchers and free their units. Importing this
module (every process does, hub.jobs.runner.load_periodic_jobs) also registers how a refund's
end completes its return (hub.returns.completion)."""

from __future__ import annotations

import logging

from flask import Flask

import hub.returns.completion  # noqa: F401  (a refund's final status completes its return)
from hub import unit_of_work
from hub.extensions import db
from hub.jobs.runner import periodic
from hub.returns.service import expire_due

log = logging.getLogger(__name__)


@periodic("expire-returns", every_seconds=300)
def expire_returns(app: Flask) -> None:
    with unit_of_work.job(app):
        count = expire_due(db.session)
        if count:
            log.info("expired %d returns", count)
