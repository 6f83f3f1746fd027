"""`homing bench scan`: the store counter's hot path under load, and what one intake costs a
tablet on the wire.

1. Scan lookup under load: gunicorn (gthread) on PostgreSQL serving the two requests a scan
   makes — verify the voucher (`GET /api/v1/vouchers/{token}`) and load the intake
   (`GET /api/v1/intakes/{id}`) — driven by wrk with 16 connections, twice: every lookup
   worked out in full, and lookups answered from the kept answers (hub.scan). Prints
   requests/s and latency p50/p99 from wrk's own histogram.
2. One complete intake through the tablet pages (scan, unit screen, live refund, save,
   complete, receipt): the number of requests and the bytes downloaded, plus the one-time
   app shell the service worker caches.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
LUA = """
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local key = "Bearer " .. os.getenv("BENCH_KEY")
local i = math.random(#paths)
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], {["Authorization"] = key})
end
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(database_url: str, n: int, progress: Callable[[int, int], None] | None) -> dict:
    """Migrate, seed the demo stores, issue ``n`` returns to one store and open their
    intakes. Returns the API key and the request paths wrk cycles through."""
    from flask_migrate import upgrade

    from hub import create_app
    from hub.audit.service import SYSTEM
    from hub.auth.service import create_api_key
    from hub.demo.seed import demo_store, seed_demo
    from hub.extensions import db
    from hub.intake import service as intakes
    from hub.models import utcnow
    from hub.orders.service import upsert_order
    from hub.outbox import service as outbox
    from hub.returns import service as returns
    from hub.vouchers.keys import keyring
    from hub.vouchers.models import Voucher

    app = create_app({"DATABASE_URL": database_url, "RATELIMIT_ENABLED": False,
                      "SECRET_KEY": "bench-secret", "MOUNT_SANDBOX": False})
    delivered = (utcnow() - timedelta(days=3)).isoformat()
    paths = []
    with app.app_context():
        upgrade(directory=str(app.extensions["migrate"].directory))
        seed_demo(app)
        store = demo_store()
        _key, plaintext = create_api_key(db.session, role="clerk", store_code=store.code)
        db.session.commit()
        for i in range(n):
            order, _created = upsert_order(db.session, {
                "channel": "web", "order_id": f"SCAN-{i:06d}", "currency": "USD",
                "status": "delivered", "delivered_at": delivered,
                "buyer": {"email": f"s{i}@example.com", "postal_code": "10001"},
                "lines": [{"item_id": "1", "sku": f"SKU-{i % 50}", "title": "Bench item",
                           "category": "general", "quantity": 2, "item_price": "39.98",
                           "item_tax": "3.54"}]}, actor=SYSTEM)
            db.session.flush()
            req = returns.parse_request({"lines": [{"item_id": "1", "quantity": 2,
                                                    "reason": "fit.too_small"}],
                                         "postal_code": "10001", "store_code": store.code,
                                         "source": "api"}, order)
            rma = returns.create_return(db.session, order, req, actor=SYSTEM,
                                        keyring=keyring(), secret="bench-secret")
            token = db.session.scalar(sa.select(Voucher.token).where(Voucher.rma_id == rma.id))
            intake, _ = intakes.open_intake(db.session, keyring(), token, store, SYSTEM)
            db.session.commit()
            outbox.drain(db.session)  # as the worker does: the voucher check is prepared
            db.session.commit()
            paths += [f"/api/v1/vouchers/{token}", f"/api/v1/intakes/{intake.id}"]
            if progress:
                progress(i + 1, n)
    return {"key": plaintext, "paths": paths}


def _wait_until_up(url: str, server: subprocess.Popen) -> None:
    for _ in range(120):
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited; run it by hand to see why")
        try:
            urllib.request.urlopen(url + "/api/v1/health", timeout=1)
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("gunicorn did not come up")


def _parse_wrk(output: str) -> dict:
    def latency_ms(label: str) -> float:
        match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return {"rps": rps, "p50_ms": latency_ms("50"), "p99_ms": latency_ms("99"),
            "non_2xx": int(errors.group(1)) if errors else 0}


def _scan_each_once(url: str, prepared: dict) -> None:
    """Look every path up once, so that the intake pages are kept too (the voucher checks
    were prepared when issued) before the lookups are measured."""
    headers = {"Authorization": f"Bearer {prepared['key']}"}

    def get(path: str) -> None:
        with urllib.request.urlopen(urllib.request.Request(url + path, headers=headers)):
            pass

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(get, prepared["paths"]))


def run_load(database_url: str, prepared: dict, *, connections: int, seconds: int,
             workers: int, threads: int, keep_answers: bool = True) -> dict:
    """wrk against gunicorn. ``keep_answers``: lookups answered from the kept answers (each
    path looked up once first: the intake pages were not kept yet); otherwise every lookup is
    worked out in full."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    folder = Path(tempfile.mkdtemp(prefix="homing-scan-"))
    (folder / "paths.txt").write_text("\n".join(prepared["paths"]) + "\n")
    (folder / "scan.lua").write_text(LUA)
    port = _free_port()
    env = {**os.environ, "HOMING_DATABASE_URL": database_url, "HOMING_SECRET_KEY": "bench-secret",
           "HOMING_RATELIMIT_ENABLED": "false", "HOMING_MOUNT_SANDBOX": "false",
           "HOMING_ENV_NAME": "bench",
           "HOMING_SCAN_ANSWERS": "true" if keep_answers else "false",
           "BENCH_PATHS": str(folder / "paths.txt"), "BENCH_KEY": prepared["key"]}
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    server = subprocess.Popen(
        [gunicorn, "wsgi:app", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--threads", str(threads), "--worker-class", "gthread", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, server)
        if keep_answers:
            _scan_each_once(url, prepared)
        warm = [wrk, "-t2", f"-c{connections}", "-d3s", "-s", str(folder / "scan.lua"), url]
        subprocess.run(warm, env=env, capture_output=True, check=True)
        out = subprocess.run([wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
                              "-s", str(folder / "scan.lua"), url],
                             env=env, capture_output=True, text=True, check=True).stdout
    finally:
        server.terminate()
        server.wait(timeout=30)
    figures = _parse_wrk(out)
    figures.update(connections=connections, seconds=seconds, workers=workers, threads=threads,
                   keep_answers=keep_answers)
    return figures


def intake_wire_cost() -> dict:
    """Requests and bytes for one complete intake on the tablet (SQLite, in process)."""
    from flask_migrate import upgrade

    from hub import create_app
    from hub.demo.seed import DEMO_API_KEY, DEMO_CLERK, DEMO_DEVICE_TOKEN, seed_demo
    from hub.extensions import db
    from portal.store import APP_SHELL

    folder = Path(tempfile.mkdtemp(prefix="homing-wire-"))
    app = create_app({"DATABASE_URL": f"sqlite:///{folder / 'wire.sqlite'}",
                      "RATELIMIT_ENABLED": False, "SECRET_KEY": "bench-secret",
                      "WTF_CSRF_ENABLED": False, "MOUNT_SANDBOX": False})
    with app.app_context():
        upgrade(directory=str(app.extensions["migrate"].directory))
        seed_demo(app)
        db.session.commit()
        api = app.test_client()
        rma = api.post("/api/v1/returns", headers={"Authorization": f"Bearer {DEMO_API_KEY}"},
                       json={"channel": "amazon-mfn", "order_id": "114-3941689-8772232",
                             "postal_code": "10001",
                             "lines": [{"item_id": "40000000000001", "quantity": 1,
                                        "reason": "changed_mind.better_price"}]}).get_json()
        tablet = app.test_client()
        tablet.post("/store/enroll", data={"token": DEMO_DEVICE_TOKEN})
        tablet.post("/store/login", data={"staff_number": DEMO_CLERK[0], "pin": DEMO_CLERK[1]})
        log: list[int] = []

        def call(method: str, path: str, **kw):
            response = tablet.open(path, method=method, **kw)
            log.append(len(response.get_data()))
            return response

        call("GET", "/store/")
        scanned = call("POST", "/store/scan", data={"code": rma["voucher"]["short_code"]})
        overview = call("GET", scanned.headers["Location"]).get_data(as_text=True)
        unit = re.search(r'href="(/store/intakes/\d+/units/\d+)"', overview).group(1)
        call("GET", unit)
        decision = {"reception": "received", "decision": "accept", "grade": "B",
                    "disposition": "restock"}
        for field in ("grade", "disposition", "decision"):  # one live refund per choice
            call("POST", unit + "/preview", data={k: decision[k] for k in decision
                                                  if k in ("reception", field)})
        saved = call("POST", unit, data=decision)
        call("GET", saved.headers["Location"])
        done = call("POST", saved.headers["Location"] + "/complete", data={})
        call("GET", done.headers["Location"])
        if not done.headers["Location"].endswith("/receipt"):
            raise RuntimeError("the intake did not complete")
        shell = sum((Path(app.static_folder) / name).stat().st_size for name in APP_SHELL)
    return {"requests": len(log), "bytes": sum(log), "shell_bytes": shell,
            "shell_files": len(APP_SHELL)}


def report(loads: list[dict], wire: dict, n: int) -> list[str]:
    first = loads[0]
    lines = [f"scan lookup (voucher verify + intake page), {n} vouchers, gunicorn "
             f"{first['workers']}x{first['threads']} gthread on PostgreSQL, wrk "
             f"{first['connections']} connections for {first['seconds']} s:"]
    for load in loads:
        label = ("answers kept (prepared when the voucher was issued, or by an earlier lookup)"
                 if load["keep_answers"] else
                 "every lookup worked out in full (as when something changed since)")
        lines += [f"  {label}:",
                  f"    throughput  {load['rps']:.0f} req/s  (non-2xx: {load['non_2xx']})",
                  f"    latency     p50 {load['p50_ms']:.2f} ms   p99 {load['p99_ms']:.2f} ms"]
    return lines + [
        "one complete intake on the tablet (scan, unit screen, 3 live refunds, save, complete, "
        "receipt):",
        f"  {wire['requests']} requests, {wire['bytes'] / 1024:.1f} KiB of HTML "
        f"(after the app shell: {wire['shell_files']} files, "
        f"{wire['shell_bytes'] / 1024:.0f} KiB, cached once by the service worker)",
    ]
