"""`homing bench vouchers`: voucher issue end to end through the API (eligibility, pricing,
routing over the demo's 3,814 stores, signing, storing) and QR rendering, cold and cached."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_voucher_benchmark(n: int = 200, progress: Callable[[int, int], None] | None = None
                          ) -> dict:
    from flask_migrate import upgrade

    from hub import create_app
    from hub.demo.seed import DEMO_API_KEY, seed_demo
    from hub.extensions import db
    from hub.models import utcnow
    from hub.vouchers import render

    folder = Path(tempfile.mkdtemp(prefix="homing-bench-"))
    app = create_app({"DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite'}",
                      "RATELIMIT_ENABLED": False, "SECRET_KEY": "bench"})
    headers = {"Authorization": f"Bearer {DEMO_API_KEY}"}
    with app.app_context():
        upgrade(directory=str(app.extensions["migrate"].directory))
        seed_demo(app)
        client = app.test_client()
        issue_ms, tokens = [], []
        delivered = (utcnow() - timedelta(days=3)).isoformat()  # inside the return window
        for i in range(n):
            order = {"channel": "web", "order_id": f"BENCH-{i:06d}", "currency": "USD",
                     "status": "delivered", "delivered_at": delivered,
                     "buyer": {"email": "bench@example.com", "postal_code": "10001"},
                     "lines": [{"item_id": "1", "sku": "SKU-1", "category": "general",
                                "quantity": 1, "item_price": "19.99", "item_tax": "1.77"}]}
            client.post("/api/v1/orders", json=order, headers=headers)
            started = time.perf_counter()
            response = client.post("/api/v1/returns", headers=headers, json={
                "channel": "web", "order_id": order["order_id"], "postal_code": "10001",
                "lines": [{"item_id": "1", "quantity": 1, "reason": "fit.too_small"}]})
            issue_ms.append((time.perf_counter() - started) * 1000)
            if response.status_code != 201:
                raise RuntimeError(f"issue failed: {response.get_json()}")
            tokens.append(response.get_json()["voucher"]["token"])
            if progress:
                progress(i + 1, n)
        render.qr_png.cache_clear()
        cold, cached = [], []
        for token in tokens:
            started = time.perf_counter()
            render.qr_png(token)
            cold.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            render.qr_png(token)
            cached.append((time.perf_counter() - started) * 1000)
        db.session.remove()
        db.engine.dispose()
    return {"vouchers": n, "issue_p50_ms": round(statistics.median(issue_ms), 2),
            "issue_p95_ms": round(_pct(issue_ms, 0.95), 2),
            "qr_png_cold_p50_ms": round(statistics.median(cold), 2),
            "qr_png_cached_p50_ms": round(statistics.median(cached), 4)}


def report(f: dict) -> list[str]:
    return [f"vouchers: {f['vouchers']} issued through POST /api/v1/returns (SQLite, 3,814 "
            "stores routed)",
            f"  issue         p50 {f['issue_p50_ms']} ms   p95 {f['issue_p95_ms']} ms",
            f"  QR PNG        cold p50 {f['qr_png_cold_p50_ms']} ms   cached p50 "
            f"{f['qr_png_cached_p50_ms']} ms"]
