"""The demo shape, as a newcomer runs it: `homing demo` on an empty instance folder."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

HOMING = str(Path(sys.executable).with_name("homing"))


def _env(instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMING_")}
    env["HOMING_INSTANCE_PATH"] = str(instance)
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_demo_sets_up_seeds_once_and_serves(tmp_path):
    env = _env(tmp_path)
    first = subprocess.run([HOMING, "demo", "--no-serve"], env=env, capture_output=True,
                           text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "homing.sqlite").exists()
    assert "hom_demo0000_" in first.stdout  # the demo credentials are printed
    assert "/store/enroll?token=dev_demo0000_" in first.stdout and "PIN 1234" in first.stdout

    count = "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(" \
            "'select count(*) from stores').fetchone()[0])"
    db_file = str(tmp_path / "homing.sqlite")
    stores = subprocess.run([sys.executable, "-c", count, db_file], capture_output=True,
                            text=True)
    assert stores.stdout.strip() == "3823"  # 3,814 in the US, 5 in Germany, 4 in Japan
    subprocess.run([HOMING, "demo", "--no-serve"], env=env, check=True, capture_output=True,
                   timeout=300)
    again = subprocess.run([sys.executable, "-c", count, db_file], capture_output=True,
                           text=True)
    assert again.stdout.strip() == "3823"  # seeding an already seeded database adds nothing

    port = _free_port()
    server = subprocess.Popen([HOMING, "demo", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        health = _wait_for(f"{base}/api/v1/health")
        assert b'"status":"ok"' in health.replace(b" ", b"")
        page = urllib.request.urlopen(f"{base}/", timeout=5).read().decode()
        assert "Homing" in page
        _refund_reaches_the_sandbox(base)
    finally:
        server.terminate()
        server.wait(timeout=20)


DEMO_KEY = "hom_demo0000_demo-admin-key-for-local-use-only"


def _api(method: str, url: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(url, method=method, headers={
        "Authorization": f"Bearer {DEMO_KEY}", "Content-Type": "application/json"},
        data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _refund_reaches_the_sandbox(base: str) -> None:
    """The demo's whole loop: a return accepted at a store is refunded by the in-process jobs
    through the mounted SP-API sandbox, with python-amazon-sp-api over HTTP."""
    rma = _api("POST", f"{base}/api/v1/returns", {
        "channel": "amazon-mfn", "order_id": "114-3941689-8772232",
        "lines": [{"item_id": "40000000000002", "quantity": 1, "reason": "fit.too_small"}],
        "latitude": 40.7580, "longitude": -73.9855, "locale": "en"})
    checked = _api("GET", f"{base}/api/v1/vouchers/{rma['voucher']['token']}")  # read-only path
    assert checked["valid"] and checked["return"]["number"] == rma["number"]
    intake = _api("POST", f"{base}/api/v1/intakes", {"voucher": rma["voucher"]["token"],
                                                     "store": rma["store"]["code"]})
    for unit in intake["units"]:
        _api("POST", f"{base}/api/v1/intakes/{intake['id']}/units/{unit['unit_id']}",
             {"reception": "received", "decision": "accept", "grade": "A",
              "disposition": "restock"})
    graded = _api("GET", f"{base}/api/v1/intakes/{intake['id']}")  # sees the committed grades
    assert [u["decision"]["grade"] for u in graded["units"]] == ["A"] * len(intake["units"])
    done = _api("POST", f"{base}/api/v1/intakes/{intake['id']}/complete", {})
    refund_id = done["refund"]["id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        refund = _api("GET", f"{base}/api/v1/refunds/{refund_id}")
        if refund["status"] == "succeeded":
            break
        time.sleep(2)
    assert refund["status"] == "succeeded", refund
    assert refund["feed_id"]
    state = json.loads(urllib.request.urlopen(f"{base}/sandbox/spapi/_emu/state",
                                              timeout=5).read())
    assert [f["feedId"] for f in state["feeds"]] == [refund["feed_id"]]


def _wait_for(url: str, timeout: float = 60) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return urllib.request.urlopen(url, timeout=5).read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
