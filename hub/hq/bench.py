"""HQ dashboard benchmark: 1,000 real store locations and 100,000 returns in PostgreSQL,
then the dashboard's full HTML (every figure, chart and the store map, server-rendered) timed
through the app, and, where Chromium is installed, the first paint measured in the browser."""

from __future__ import annotations

import io
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

PASSWORD = "bench-hq-password"
EMAIL = "bench@hq.example"
RANGES = (("week", "last 7 days"), ("30d", "last 30 days"), ("90d", "last 90 days"))


def make_app(database_url: str):
    from hub import create_app

    return create_app({"DATABASE_URL": database_url, "RATELIMIT_ENABLED": False,
                       "SECRET_KEY": "bench-secret", "MOUNT_SANDBOX": False,
                       "WTF_CSRF_ENABLED": False})


def existing(database_url: str) -> tuple[int, int] | None:
    """(stores, returns) of a database a previous run seeded, or None."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return (conn.scalar(sa.text("SELECT count(*) FROM stores")),
                    conn.scalar(sa.text("SELECT count(*) FROM return_authorizations")))
    except sa.exc.SQLAlchemyError:
        return None
    finally:
        engine.dispose()


def prepare(database_url: str, n_stores: int, n_returns: int, days: int,
            progress: Callable[[int], None] | None):
    from flask_migrate import upgrade

    from hub.audit.service import SYSTEM
    from hub.auth.service import create_user
    from hub.demo.seed import enriched_store_csv
    from hub.extensions import db
    from hub.hq import sample
    from hub.models import utcnow
    from hub.stores.models import Store
    from hub.stores.service import import_stores

    app = make_app(database_url)
    with app.app_context():
        upgrade(directory=str(Path(app.root_path).parent / "migrations"))
        lines = enriched_store_csv().splitlines()
        import_stores(db.session, io.StringIO("\n".join(lines[:n_stores + 1]) + "\n"),
                      fmt="csv", actor=SYSTEM)
        create_user(db.session, name="Bench HQ", role="admin", email=EMAIL, password=PASSWORD)
        db.session.commit()
        store_ids = db.session.scalars(sa.select(Store.id).order_by(Store.id)).all()
        started = time.perf_counter()
        sample.insert(db.session, sample.plan(store_ids, n_returns, utcnow(), days=days),
                      batch=5000, progress=progress)
        db.session.commit()
        seeded = time.perf_counter() - started
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    return app, len(store_ids), seeded


def _range_args(kind: str, days: int) -> str:
    if kind != "90d":
        return f"range={kind}"
    from datetime import date, timedelta

    today = date.today()
    return f"range=custom&from={today - timedelta(days=days - 1)}&to={today}"


def time_pages(app, repeats: int = 7) -> dict:
    """Server time for the whole dashboard page per range (the first request of each range
    is counted: no cache is warmed on purpose)."""
    client = app.test_client()
    client.post("/hq/login", data={"email": EMAIL, "password": PASSWORD})
    figures = {}
    for kind, label in RANGES:
        url = f"/hq/?{_range_args(kind, 90)}"
        times, size = [], 0
        for _ in range(repeats):
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
            size = len(response.data)
        figures[label] = {"first_s": times[0], "p50_s": statistics.median(times),
                          "max_s": max(times), "bytes": size}
    return figures


# The paint entry is recorded just after the paint, so wait for it with a buffered observer.
FIRST_PAINT_JS = """() => new Promise(resolve => {
  new PerformanceObserver((list, observer) => {
    const fcp = list.getEntriesByName('first-contentful-paint')[0];
    if (!fcp) return;
    observer.disconnect();
    resolve({fcp: fcp.startTime,
             load: performance.getEntriesByType('navigation')[0].loadEventEnd});
  }).observe({type: 'paint', buffered: true});
})"""


def browser_first_paint(app, repeats: int = 5) -> dict | None:
    """First contentful paint of the dashboard in Debian's Chromium, signed in, over HTTP
    from a local server (None when Chromium is not installed)."""
    import shutil

    chromium = shutil.which("chromium")
    if chromium is None:
        return None
    import logging

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log in the figures
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    paints, loads = [], []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium,
                                                 args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.goto(f"{base}/hq/login")
            page.fill("#email", EMAIL)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector('[data-kpi="intakes"]')
            for _ in range(repeats):
                page.goto(f"{base}/hq/?range=week")
                timing = page.evaluate(FIRST_PAINT_JS)
                paints.append(timing["fcp"] / 1000)
                loads.append(timing["load"] / 1000)
            browser.close()
    finally:
        server.shutdown()
    return {"fcp_p50_s": statistics.median(paints), "fcp_max_s": max(paints),
            "load_p50_s": statistics.median(loads)}


def report(n_stores: int, n_returns: int, seeded: float, pages: dict,
           paint: dict | None) -> list[str]:
    lines = [f"HQ dashboard: {n_stores:,} stores, {n_returns:,} returns in PostgreSQL "
             + (f"(seeded in {seeded:.1f} s)" if seeded else "(seeded by an earlier run)"),
             "server time for the whole page (figures + charts + map), 7 requests each:"]
    for label, f in pages.items():
        lines.append(f"  {label:<14} first {f['first_s'] * 1000:6.0f} ms   "
                     f"p50 {f['p50_s'] * 1000:6.0f} ms   max {f['max_s'] * 1000:6.0f} ms   "
                     f"{f['bytes'] / 1024:6.1f} KiB")
    if paint is None:
        lines.append("browser first paint: skipped (Debian's chromium is not installed)")
    else:
        lines.append(f"browser (Chromium), last 7 days: first contentful paint p50 "
                     f"{paint['fcp_p50_s'] * 1000:.0f} ms, max {paint['fcp_max_s'] * 1000:.0f} ms;"
                     f" load event p50 {paint['load_p50_s'] * 1000:.0f} ms")
    default = pages[RANGES[0][1]]["max_s"]
    verdict = "meets" if default < 1 and (paint is None or paint["fcp_max_s"] < 1) else "MISSES"
    lines.append(f"target: the dashboard as it opens (last 7 days) paints in under 1 s -> "
                 f"{verdict}")
    return lines
