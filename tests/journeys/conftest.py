"""The journey suite's stack: Homing as production runs it, walked by a person in Chromium.

One stack per test session (seeding the demo's 3,814 stores once is most of its start-up):

- a scratch PostgreSQL database of its own, migrated and seeded with the demo's data (stores,
  Amazon orders, an enrolled tablet, clerk / supervisor / HQ people, an admin API key);
- the built-in SP-API sandbox on its own port (feeds processed at once), which knows every
  Amazon order Homing knows, as Amazon knows its own;
- the app served over real HTTP by gunicorn, and one ``homing worker`` (RQ, its scheduler and
  the periodic jobs), both subprocesses on the same database and the test's Redis database;
- e-mail written as .eml files to a folder of the stack's own (``HOMING_MAIL_DIR``).

Fixtures other journey files rely on (the names are a contract): ``stack``, ``browser``,
``new_page``, ``screenshot``. Every test under tests/journeys is marked ``journey`` (and so
runs in ``bin/test`` and CI); ``-m "not journey"`` leaves the suite out.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM_ARGS, require_chromium
from tests.conftest import PG_ADMIN_URL, REDIS_URL, _unavailable

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SECRET_KEY = "journey-secret-key-not-for-production"
SCREENSHOT_DIR = os.environ.get("HOMING_SCREENSHOT_DIR")


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.journey)
            item.add_marker(pytest.mark.slow)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- e-mail -------------------------------------------------------------------------------------

class Mailbox:
    """The e-mails the app sent (``MAIL_DIR``: one .eml file per message)."""

    def __init__(self, folder: Path):
        self.folder = folder

    def messages(self, to: str | None = None) -> list[EmailMessage]:
        found = []
        for path in sorted(self.folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if to is None or to.lower() in str(message["To"]).lower():
                found.append(message)
        return found

    def wait_for(self, match: Callable[[EmailMessage], bool], *, to: str | None = None,
                 timeout: float = 60, what: str = "an e-mail") -> EmailMessage:
        """The first message (to ``to``) for which ``match`` is true, within ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.messages(to):
                if match(message):
                    return message
            if time.monotonic() > deadline:
                subjects = [str(m["Subject"]) for m in self.messages()]
                pytest.fail(f"no e-mail {what} within {timeout:.0f} s; sent: {subjects}")
            time.sleep(0.25)

    @staticmethod
    def text(message: EmailMessage) -> str:
        body = message.get_body(preferencelist=("plain", "html"))
        return body.get_content() if body is not None else ""


# --- the stack ----------------------------------------------------------------------------------

@dataclass
class Stack:
    url: str
    sandbox_url: str
    database_url: str
    redis_url: str
    app: Any
    emu: Any
    mail: Mailbox
    logs: Path
    seed: dict = field(default_factory=dict)
    _http: Any = None

    # Polling ----------------------------------------------------------------------------------
    def wait_for(self, predicate: Callable[[], Any], timeout: float = 60, what: str = "",
                 every: float = 0.25):
        """Poll ``predicate`` until it returns something truthy (returned); fail with
        ``what`` after ``timeout``. An exception in the predicate counts as "not yet"."""
        deadline, last = time.monotonic() + timeout, None
        while True:
            try:
                value = predicate()
                if value:
                    return value
            except Exception as exc:  # noqa: BLE001 - reported if it never comes right
                last = exc
            if time.monotonic() > deadline:
                hint = f" (last error: {type(last).__name__}: {last})" if last else ""
                pytest.fail(f"timed out after {timeout:.0f} s waiting for "
                            f"{what or predicate}{hint}\n{self.log_tail()}", pytrace=False)
            time.sleep(every)

    # Jobs -------------------------------------------------------------------------------------
    def run_job(self, name: str, timeout: float = 120):
        """Run a periodic job now, through RQ in the stack's worker (as its scheduler would),
        and wait for it: e.g. "amazon-push-refunds", "amazon-pull-finances",
        "refund-sla". "outbox-relay" hands due outbox messages to the worker."""
        from redis import Redis
        from rq import Queue

        from hub.jobs import tasks

        queue = Queue("high", connection=Redis.from_url(self.redis_url))
        job = (queue.enqueue(tasks.relay_outbox) if name == "outbox-relay"
               else queue.enqueue(tasks.run_periodic, name))
        deadline = time.monotonic() + timeout
        while True:
            status = job.get_status(refresh=True)
            if status == "finished":
                return job.return_value()
            if status in ("failed", "stopped", "canceled"):
                info = job.latest_result().exc_string if job.latest_result() else ""
                pytest.fail(f"job {name} {status}:\n{info}", pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(f"job {name} still {status} after {timeout:.0f} s\n"
                            f"{self.log_tail()}", pytrace=False)
            time.sleep(0.2)

    # The database, through the app's own services ---------------------------------------------
    @contextlib.contextmanager
    def session(self) -> Iterator[Any]:
        """``with stack.session() as s:`` the app's db.session on the stack's database (a
        fresh view each time: committed state only)."""
        from hub.extensions import db

        with self.app.app_context():
            try:
                yield db.session
            finally:
                db.session.rollback()
                db.session.remove()

    # HTTP -------------------------------------------------------------------------------------
    @property
    def http(self):
        import httpx

        if self._http is None:
            self._http = httpx.Client(base_url=self.url, timeout=30, follow_redirects=False)
        return self._http

    def api(self, method: str, path: str, *, key: str | None = None, **kwargs):
        """Call the REST API (``key``: a bearer key; the demo's admin key by default)."""
        headers = {"Authorization": f"Bearer {key or self.seed['api_key']}",
                   **kwargs.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kwargs)

    def api_key(self, role: str = "admin", store_code: str | None = None) -> str:
        from hub.auth.service import create_api_key

        with self.session() as s:
            _key, plaintext = create_api_key(s, role=role, store_code=store_code)
            s.commit()
        return plaintext

    def reset_rate_limits(self) -> None:
        """Forget every rate-limit budget (Flask-Limiter keeps them in the stack's Redis)."""
        from redis import Redis

        conn = Redis.from_url(self.redis_url)
        for key in conn.scan_iter("*LIMITER/*"):
            conn.delete(key)

    def log_tail(self, lines: int = 40) -> str:
        out = []
        for path in sorted(self.logs.glob("*.log")):
            text = path.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {path.name} (last {len(text)} lines)\n" + "\n".join(text))
        return "\n".join(out)


def _environment(database_url: str, redis_url: str, sandbox_url: str, instance: Path,
                 mail_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMING_")}
    env.update({
        "HOMING_DATABASE_URL": database_url, "HOMING_REDIS_URL": redis_url,
        "HOMING_AMAZON_MODE": "sandbox", "HOMING_AMAZON_ENDPOINT": sandbox_url,
        "HOMING_MOUNT_SANDBOX": "false", "HOMING_SECRET_KEY": SECRET_KEY,
        "HOMING_INSTANCE_PATH": str(instance), "HOMING_MAIL_DIR": str(mail_dir),
        "HOMING_ENV_NAME": "journeys", "PYTHONUNBUFFERED": "1",
        # The journeys' webhook receiver listens on 127.0.0.1 (production refuses it).
        "HOMING_WEBHOOK_ALLOW_PRIVATE": "true",
    })
    return env


def _app_config(database_url: str, redis_url: str, sandbox_url: str, instance: Path,
                mail_dir: Path) -> dict:
    return {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "AMAZON_MODE": "sandbox",
            "AMAZON_ENDPOINT": sandbox_url, "MOUNT_SANDBOX": False, "SECRET_KEY": SECRET_KEY,
            "MAIL_DIR": str(mail_dir), "PHOTO_DIR": str(instance / "photos"),
            "WEBHOOK_ALLOW_PRIVATE": True}


def _scratch_database() -> tuple[str, Callable[[], None]]:
    import psycopg
    import sqlalchemy as sa

    from hub.database import fresh_database

    try:
        psycopg.connect(PG_ADMIN_URL, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        _unavailable("PostgreSQL", exc)
    admin = PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://")
    name = f"homing_journey_{uuid.uuid4().hex[:8]}"
    url = fresh_database(admin, name)

    def drop() -> None:
        engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()

    return url.replace("postgresql+psycopg://", "postgresql://"), drop


def _check_redis() -> None:
    import redis

    try:
        conn = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        conn.ping()
    except redis.RedisError as exc:
        _unavailable("Redis", exc)
    conn.flushdb()  # the test's own database: no RQ jobs or rate limits of an earlier run


def _start(name: str, argv: list[str], env: dict, logs: Path) -> subprocess.Popen:
    log = (logs / f"{name}.log").open("ab")
    return subprocess.Popen(argv, env=env, cwd=str(ROOT), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _seed(app) -> dict:
    """The demo's data, through the demo's own seed."""
    from flask_migrate import upgrade

    from hub.demo import seed
    from hub.extensions import db

    with app.app_context():
        upgrade(directory=str(app.extensions["migrate"].directory))
        seed.seed_demo(app)
        store = seed.demo_store()
        facts = {
            "api_key": seed.DEMO_API_KEY, "order_id": seed.DEMO_ORDERS[0]["order_id"],
            "postal_code": "10001", "email": "alex@example.com",
            "orders": [o["order_id"] for o in seed.DEMO_ORDERS],
            "amazon_only_order": seed.AMAZON_ONLY_ORDER,
            "store_code": store.code, "store_name": store.name,
            "device_token": seed.DEMO_DEVICE_TOKEN,
            "enroll_path": f"/store/enroll?token={seed.DEMO_DEVICE_TOKEN}",
            "clerk": seed.DEMO_CLERK, "supervisor": seed.DEMO_SUPERVISOR,
            "hq": seed.DEMO_HQ_ADMIN,
        }
        db.session.remove()
        db.engine.dispose()
    return facts


def _sandbox_order_source(app):
    """Amazon knows the Amazon orders Homing knows (the demo's sandbox does the same)."""
    from hub.sandbox.fixtures import hub_order

    def source(order_id: str) -> dict | None:
        from hub.extensions import db

        with app.app_context():
            try:
                return hub_order(order_id)
            finally:
                db.session.remove()

    return source


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    from hub import create_app
    from hub.demo.seed import amazon_only_orders
    from hub.sandbox import SandboxServer
    from hub.sandbox.emulator import Emulator

    _check_redis()
    database_url, drop_database = _scratch_database()
    base = tmp_path_factory.mktemp("journey-stack")
    instance, mail_dir, logs = base / "instance", base / "mail", base / "logs"
    for folder in (instance, mail_dir, logs):
        folder.mkdir()
    processes: list[subprocess.Popen] = []
    emulator = Emulator()
    sandbox = SandboxServer(emulator=emulator).start()
    try:
        app = create_app(_app_config(database_url, REDIS_URL, sandbox.url, instance, mail_dir))
        emulator.order_source = _sandbox_order_source(app)
        emulator.delays.update(queue=0, processing=0)
        facts = _seed(app)
        emulator.add_orders(amazon_only_orders())
        env = _environment(database_url, REDIS_URL, sandbox.url, instance, mail_dir)
        port = _free_port()
        processes.append(_start("web", [
            str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
            "--threads", "4", "--worker-class", "gthread", "--timeout", "120",
            "--access-logfile", "-", "wsgi:app"], env, logs))
        processes.append(_start("worker", [str(BIN / "homing"), "worker"], env, logs))
        stack = Stack(url=f"http://127.0.0.1:{port}", sandbox_url=sandbox.url,
                      database_url=database_url, redis_url=REDIS_URL, app=app, emu=emulator,
                      mail=Mailbox(mail_dir), logs=logs, seed=facts)

        def web_up() -> bool:
            for process in processes:
                if process.poll() is not None:
                    pytest.fail(f"a stack process exited:\n{stack.log_tail()}", pytrace=False)
            return stack.http.get("/api/v1/health").status_code == 200

        stack.wait_for(web_up, timeout=90, what="gunicorn to serve /api/v1/health")
        stack.run_job("outbox-relay", timeout=90)  # the worker is up and takes jobs
        yield stack
    finally:
        for process in reversed(processes):
            _stop(process)
        sandbox.stop()
        drop_database()
        if os.environ.get("HOMING_JOURNEY_KEEP_LOGS"):
            shutil.copytree(logs, os.environ["HOMING_JOURNEY_KEEP_LOGS"], dirs_exist_ok=True)


@pytest.fixture
def emu(stack):
    """The stack's sandbox, with any faults and clock changes of an earlier test undone
    (orders stay: the sandbox reads them from Homing)."""
    from hub.demo.seed import amazon_only_orders

    stack.emu.reset()
    stack.emu.delays.update(queue=0, processing=0)
    stack.emu.add_orders(amazon_only_orders())
    return stack.emu


# --- the browser --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    # Per module, not per session: Playwright's sync API allows one running instance, and the
    # browser and security tests after the journeys start their own.
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=shutil.which("chromium")
                                              or "/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser):
    """``new_page(locale="de-DE")``: a page in a fresh browser context (its own cookies) on a
    phone-sized screen; extra keyword arguments go to ``browser.new_context`` (geolocation,
    permissions, is_mobile, ...)."""
    contexts = []

    def make(locale: str = "en-US", viewport: tuple[int, int] = (390, 844),
             timezone_id: str = "America/New_York", **context_kwargs):
        context_kwargs.setdefault("is_mobile", viewport[0] < 800)
        context_kwargs.setdefault("has_touch", viewport[0] < 1100)
        context = browser.new_context(
            locale=locale, timezone_id=timezone_id,
            viewport={"width": viewport[0], "height": viewport[1]}, **context_kwargs)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot():
    """``screenshot(page, "shopper-status")`` writes HOMING_SCREENSHOT_DIR/shopper-status.png
    when that variable is set (``HOMING_SCREENSHOT_DIR=docs/img`` refreshes the README's
    pictures); otherwise it does nothing."""

    def take(page, name: str, full_page: bool = True) -> Path | None:
        if not SCREENSHOT_DIR:
            return None
        folder = Path(SCREENSHOT_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page, animations="disabled")
        return path

    return take
