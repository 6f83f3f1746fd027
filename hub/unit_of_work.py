"""One unit of work per request and per job: what a request or a job writes is committed
together when it succeeds and rolled back together when it fails. Views, API handlers and jobs
do not commit; a service commits itself only for what must survive the failure of the request
that caused it (a failed sign-in counts towards the lock-out), and the Amazon push commits its
evidence before each call to Amazon (hub/amazon/service.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask


@contextmanager
def job(app: Flask) -> Iterator[None]:
    """A job's unit of work: inside the app context, committed if the block ends normally."""
    from hub.extensions import db

    with app.app_context():
        try:
            yield
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise


def init_request_unit_of_work(app: Flask) -> None:
    """Commit after a view answered with success (below 400), roll back otherwise: a refused
    or failed request changes nothing. A commit that fails is an error of the request (the
    error handlers answer it), never a success already sent."""
    from hub.extensions import db

    @app.after_request
    def _finish(response):
        if not db.session.registry.has():
            return response
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response
