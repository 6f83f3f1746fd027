"""The built-in SP-API sandbox: a local, stateful stand-in for Amazon.

Mounted under ``/sandbox/spapi`` in the demo (``MOUNT_SANDBOX``); ``serve_in_thread`` runs it
on its own port for tests and benchmarks (python-amazon-sp-api downloads documents with a
fresh HTTP client, so the sandbox must be reachable over real HTTP)."""

from __future__ import annotations

import threading

from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from hub.sandbox.emulator import Emulator

PREFIX = "/sandbox/spapi"


def mount_sandbox(app: Flask, prefix: str = PREFIX) -> Emulator:
    import hub.sandbox.jobs  # noqa: F401  (its settlement clockwork runs where it is mounted)
    from hub.extensions import csrf, limiter
    from hub.sandbox.fixtures import hub_order
    from hub.sandbox.routes import bp

    emulator = app.extensions.setdefault("homing_sandbox", Emulator(order_source=hub_order))
    csrf.exempt(bp)
    limiter.exempt(bp)
    app.register_blueprint(bp, url_prefix=prefix)
    app.extensions["homing_sandbox_prefix"] = prefix
    return emulator


def create_sandbox_app(emulator: Emulator | None = None) -> Flask:
    """The sandbox alone, at the root path (what ``homing sandbox serve`` runs)."""
    from hub.sandbox.routes import bp

    app = Flask("hub.sandbox")
    app.extensions["homing_sandbox"] = emulator or Emulator()
    app.register_blueprint(bp)
    return app


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:  # tests and benchmarks need no access log
        pass


class SandboxServer:
    """The sandbox on 127.0.0.1:<port> in a daemon thread; ``url`` is its endpoint."""

    def __init__(self, port: int = 0, emulator: Emulator | None = None):
        self.app = create_sandbox_app(emulator)
        self.emulator: Emulator = self.app.extensions["homing_sandbox"]
        self._server = make_server("127.0.0.1", port, self.app, threaded=True,
                                   request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="spapi-sandbox")

    def start(self) -> SandboxServer:
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread (``homing sandbox serve``)."""
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


def serve_in_thread(port: int = 0) -> SandboxServer:
    return SandboxServer(port).start()
