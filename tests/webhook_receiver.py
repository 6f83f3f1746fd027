"""A webhook receiver for tests: a real HTTP server on a free local port that verifies each
request's signature with the endpoint's secret, keeps what it received, and answers what the
test tells it to (a status, or a delay past the sender's timeout)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from hub.webhooks.signing import HEADER, verify


class Receiver:
    def __init__(self) -> None:
        self.secret = ""
        self.received: list[dict] = []  # {"event", "verified", "headers"}
        self.answers: list[int | float] = []  # next answers: a status, or seconds to stall
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    answer = receiver.answers.pop(0) if receiver.answers else 200
                if isinstance(answer, float):
                    time.sleep(answer)
                    answer = 200
                ok = verify(receiver.secret, self.headers.get(HEADER, ""), body,
                            now=int(time.time()))
                with receiver._lock:
                    receiver.received.append({"event": json.loads(body), "verified": ok,
                                              "status": answer,
                                              "headers": dict(self.headers.items())})
                self.send_response(answer)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}' if answer < 300 else b'{"error": "down"}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def events(self, event_type: str | None = None, *, answered_ok: bool = True) -> list[dict]:
        with self._lock:
            rows = list(self.received)
        return [r["event"] for r in rows
                if (event_type is None or r["event"]["type"] == event_type)
                and (not answered_ok or r["status"] < 300)]

    def all_verified(self) -> bool:
        with self._lock:
            return all(r["verified"] for r in self.received)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
