"""`homing bench counter`: the fast path at the counter, measured. Each run issues a 2-unit
return (nothing wrong with either unit) and walks the tablet's pages as the clerk does with
the camera already on: the camera's read opens the intake (no tap), one "Unopened, as new"
tap per unit, one "Complete return" tap, the receipt. Prints the taps, the requests and the
server time of the whole return (the time the app spent answering, in process, on the
database given), median and worst over the runs."""

from __future__ import annotations

import re
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

TAP_TARGET = 6  # issue 16: a 2-unit return with nothing wrong in at most 6 taps
SERVER_TIME_TARGET = 30.0  # seconds, all of the return's requests


def _order(n: int) -> dict:
    delivered = datetime.now(UTC) - timedelta(days=3)
    return {"channel": "amazon-mfn", "order_id": f"114-{9_000_000 + n:07d}-{4_200_000 + n:07d}",
            "marketplace_id": "ATVPDKIKX0DER", "seller_id": "A1DEMOSELLER", "currency": "USD",
            "status": "delivered", "purchased_at": (delivered - timedelta(days=2)).isoformat(),
            "delivered_at": delivered.isoformat(),
            "buyer": {"email": f"bench-{n}@example.com", "postal_code": "10001",
                      "country": "US"},
            "lines": [{"item_id": f"{90_000_000_000_000 + n}", "sku": "SOCK-WOOL",
                       "title": "Wool socks", "category": "apparel", "quantity": 2,
                       "item_price": "19.98", "item_tax": "1.78"}]}


def run(runs: int, database_url: str | None = None,
        progress: Callable[[int, int], None] | None = None) -> dict:
    from flask_migrate import upgrade

    from hub import create_app
    from hub.demo.seed import DEMO_API_KEY, DEMO_CLERK, DEMO_DEVICE_TOKEN, demo_store, seed_demo
    from hub.extensions import db

    folder = Path(tempfile.mkdtemp(prefix="homing-counter-"))
    app = create_app({"DATABASE_URL": database_url or f"sqlite:///{folder / 'bench.sqlite'}",
                      "RATELIMIT_ENABLED": False, "SECRET_KEY": "bench-secret",
                      "WTF_CSRF_ENABLED": False, "MOUNT_SANDBOX": False,
                      "MAIL_DIR": str(folder / "mail"), "PHOTO_DIR": str(folder / "photos")})
    results = []
    with app.app_context():
        upgrade(directory=str(app.extensions["migrate"].directory))
        seed_demo(app)
        db.session.commit()
        store_code = demo_store().code
        api = app.test_client()
        key = {"Authorization": f"Bearer {DEMO_API_KEY}"}
        tablet = app.test_client()
        tablet.post("/store/enroll", data={"token": DEMO_DEVICE_TOKEN})
        tablet.post("/store/login", data={"staff_number": DEMO_CLERK[0], "pin": DEMO_CLERK[1]})
        for n in range(runs):
            order = _order(n)
            api.post("/api/v1/orders", headers=key, json=order)
            rma = api.post("/api/v1/returns", headers=key, json={
                "channel": "amazon-mfn", "order_id": order["order_id"], "postal_code": "10001",
                "store_code": store_code, "lines": [{"item_id": order["lines"][0]["item_id"],
                                                     "quantity": 2,
                                                     "reason": "fit.too_small"}]}).get_json()
            results.append(_one_return(tablet, rma))
            if progress:
                progress(n + 1, runs)
    totals = [r["server_seconds"] for r in results]
    return {"runs": runs, "taps": max(r["taps"] for r in results),
            "requests": max(r["requests"] for r in results),
            "server_median": statistics.median(totals), "server_max": max(totals),
            "database": "PostgreSQL" if database_url else "SQLite"}


def _one_return(tablet, rma: dict) -> dict:
    spent: list[float] = []
    taps = 0

    def call(method: str, path: str, **kw):
        start = time.perf_counter()
        response = tablet.open(path, method=method, **kw)
        spent.append(time.perf_counter() - start)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code}")
        return response

    call("GET", "/store/")  # the scan screen, camera on
    opened = call("POST", "/store/scan", data={"code": rma["voucher"]["token"]})  # camera read
    page = call("GET", opened.headers["Location"]).get_data(as_text=True)
    while match := re.search(r'action="(/store/intakes/\d+/units/\d+/as-new)"', page):
        taps += 1
        done = call("POST", match.group(1), data={})
        page = call("GET", done.headers["Location"]).get_data(as_text=True)
    intake = re.search(r'action="(/store/intakes/\d+)/complete"', page).group(1)
    taps += 1
    completed = call("POST", intake + "/complete", data={})
    if not completed.headers["Location"].endswith("/receipt"):
        raise RuntimeError("the fast path did not complete (an approval was asked)")
    call("GET", completed.headers["Location"])
    return {"taps": taps, "requests": len(spent), "server_seconds": sum(spent)}


def report(figures: dict) -> list[str]:
    return [
        f"fast path, 2-unit return with nothing wrong, {figures['runs']} runs on "
        f"{figures['database']}:",
        f"  taps from the scan screen (camera on): {figures['taps']} "
        f"(target at most {TAP_TARGET})",
        f"  requests per return: {figures['requests']}",
        f"  server time per return: median {figures['server_median'] * 1000:.0f} ms, "
        f"worst {figures['server_max'] * 1000:.0f} ms (target under "
        f"{SERVER_TIME_TARGET:.0f} s)",
    ]
