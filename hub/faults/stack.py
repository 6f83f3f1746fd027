"""The production shape as processes, for the fault campaign: a scratch PostgreSQL database
(migrated), Redis, the SP-API sandbox as its own server over HTTP (``homing sandbox serve``),
and ``homing worker`` processes kept alive by a supervisor, as docker's restart policy or
systemd would. PostgreSQL and Redis are reached through TCP proxies the campaign can cut."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import sqlalchemy as sa

from hub.database import fresh_database
from hub.faults.proxy import TcpProxy

HOMING = str(Path(sys.executable).with_name("homing"))
APP_NAME = "homing-faults"  # the campaign's own PostgreSQL sessions, spared by backend kills


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def drop_database(admin_url: str, name: str) -> None:
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def _with_host(url: str, host: str, port: int) -> str:
    parts = urlsplit(url)
    auth = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{auth}{host}:{port}"))


class PrivateRedis:
    """A redis-server of the campaign's own on a free port (no snapshots), when no Redis URL
    is given: its outages and FLUSHDB touch nobody else."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        server = shutil.which("redis-server")
        if server is None:
            raise RuntimeError("redis-server is not installed; pass --redis-url instead")
        self.proc = subprocess.Popen(
            [server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(workdir)],
            stdout=(workdir / "redis.log").open("wb"), stderr=subprocess.STDOUT)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        _wait(lambda: socket.create_connection(("127.0.0.1", self.port), timeout=1).close(),
              10, "redis-server")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _wait(probe, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            probe()
            return
        except Exception as exc:  # noqa: BLE001 - any failure means "not yet"
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not come up: {exc}") from exc
            time.sleep(0.2)


@dataclass
class WorkerSlot:
    index: int
    proc: subprocess.Popen | None = None
    starts: int = 0
    killed: int = 0  # by the campaign (SIGKILL)
    exited: list[int] = field(default_factory=list)  # exit codes of exits on their own
    restart_at: float | None = None


class WorkerPool:
    """N ``homing worker`` processes, each in its own process group (SIGKILL takes its
    work-horse with it, as killing a container would). A supervisor thread restarts any
    that is gone after ``restart_delay`` seconds."""

    def __init__(self, count: int, env: dict, workdir: Path, restart_delay: float = 2.0):
        self.env, self.workdir, self.restart_delay = env, workdir, restart_delay
        self.slots = [WorkerSlot(i) for i in range(count)]
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._supervise, daemon=True,
                                        name="worker-supervisor")

    def start(self) -> WorkerPool:
        for slot in self.slots:
            self._spawn(slot)
        self._thread.start()
        return self

    def _spawn(self, slot: WorkerSlot) -> None:
        log = (self.workdir / f"worker-{slot.index}.log").open("ab")
        slot.proc = subprocess.Popen([HOMING, "worker"], env=self.env, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        slot.starts += 1
        slot.restart_at = None

    def pids(self) -> list[int]:
        return [s.proc.pid for s in self.slots if s.proc is not None and s.proc.poll() is None]

    def kill(self, pid: int | None = None, index: int | None = None) -> int | None:
        """SIGKILL one worker's process group (by pid or slot); the supervisor restarts it."""
        with self._lock:
            for slot in self.slots:
                proc = slot.proc
                if proc is None or proc.poll() is not None:
                    continue
                if (pid is not None and proc.pid != pid) or (index is not None
                                                             and slot.index != index):
                    continue
                _killpg(proc, signal.SIGKILL)
                proc.wait()
                slot.killed += 1
                slot.proc = None
                slot.restart_at = time.monotonic() + self.restart_delay
                return proc.pid
        return None

    def _supervise(self) -> None:
        while not self._stop.wait(0.5):
            with self._lock:
                for slot in self.slots:
                    if slot.proc is not None and slot.proc.poll() is not None:
                        slot.exited.append(slot.proc.returncode)
                        slot.proc = None
                        slot.restart_at = time.monotonic() + self.restart_delay
                    if slot.proc is None and slot.restart_at is not None \
                            and time.monotonic() >= slot.restart_at:
                        self._spawn(slot)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for slot in self.slots:
            if slot.proc is not None and slot.proc.poll() is None:
                _killpg(slot.proc, signal.SIGTERM)
        for slot in self.slots:
            if slot.proc is None:
                continue
            try:
                slot.proc.wait(10)
            except subprocess.TimeoutExpired:
                _killpg(slot.proc, signal.SIGKILL)
                slot.proc.wait()

    def figures(self) -> dict:
        return {"starts": sum(s.starts for s in self.slots),
                "killed": sum(s.killed for s in self.slots),
                "exited_on_their_own": sum(len(s.exited) for s in self.slots)}


def _killpg(proc: subprocess.Popen, sig: int) -> None:
    """Signal the worker's process group (it was started in a session of its own) and its
    descendants' groups: RQ puts each work-horse in a group of its own (os.setpgrp), and a
    killed container or machine takes the horse with it."""
    groups = {proc.pid} | {os.getpgid(pid) for pid in _descendants(proc.pid)
                           if _exists(pid)}
    for group in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, sig)


def _exists(pid: int) -> bool:
    try:
        os.getpgid(pid)
    except ProcessLookupError:
        return False
    return True


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (read from /proc; Linux)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class SandboxProcess:
    """``homing sandbox serve`` on a free port, configured over HTTP."""

    def __init__(self, workdir: Path, env: dict):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([HOMING, "sandbox", "serve", "--port", str(self.port)],
                                     env=env, stdout=(workdir / "sandbox.log").open("wb"),
                                     stderr=subprocess.STDOUT)
        self.http = httpx.Client(base_url=self.url, timeout=30)
        _wait(lambda: self.http.get("/_emu/state").raise_for_status(), 30, "the sandbox")

    def post(self, path: str, body: dict) -> dict:
        response = self.http.post(path, json=body)
        response.raise_for_status()
        return response.json()

    def state(self) -> dict:
        response = self.http.get("/_emu/state")
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        self.http.close()
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Stack:
    """Everything a campaign run needs, started in order and stopped in reverse."""

    def __init__(self, *, admin_url: str, db_name: str, redis_url: str | None, workdir: Path,
                 workers: int, settings: dict):
        self.admin_url, self.db_name, self.workdir = admin_url, db_name, workdir
        self.redis_url_given, self.worker_count, self.settings = redis_url, workers, settings
        self.private_redis: PrivateRedis | None = None
        self.pool: WorkerPool | None = None
        self.sandbox: SandboxProcess | None = None
        self.pg_proxy = self.redis_proxy = None

    def start_services(self) -> None:
        import redis

        self.database_url = fresh_database(self.admin_url, self.db_name)
        if self.redis_url_given is None:
            self.private_redis = PrivateRedis(self.workdir)
        self.redis_url = self.redis_url_given or self.private_redis.url
        redis.Redis.from_url(self.redis_url).flushdb()  # this run's own database only
        pg, rd = urlsplit(self.database_url), urlsplit(self.redis_url)
        self.pg_proxy = TcpProxy(pg.hostname or "127.0.0.1", pg.port or 5432).start()
        self.redis_proxy = TcpProxy(rd.hostname or "127.0.0.1", rd.port or 6379).start()
        self.proxied_database_url = _with_host(self.database_url, "127.0.0.1",
                                               self.pg_proxy.port)
        self.proxied_redis_url = _with_host(self.redis_url, "127.0.0.1", self.redis_proxy.port)
        self.base_env = {**os.environ, "HOMING_INSTANCE_PATH": str(self.workdir / "instance"),
                         "HOMING_SECRET_KEY": "faults-secret", "HOMING_MOUNT_SANDBOX": "false",
                         "HOMING_ENV_NAME": "bench"}  # a bench: no production checks
        self.sandbox = SandboxProcess(self.workdir, self.base_env)

    def worker_env(self) -> dict:
        env = {**self.base_env, "HOMING_DATABASE_URL": self.proxied_database_url,
               "HOMING_REDIS_URL": self.proxied_redis_url, "HOMING_AMAZON_MODE": "sandbox",
               "HOMING_AMAZON_ENDPOINT": self.sandbox.url}
        env.update({f"HOMING_{k}": str(v) for k, v in self.settings.items()})
        return env

    def start_workers(self) -> None:
        self.pool = WorkerPool(self.worker_count, self.worker_env(), self.workdir).start()

    def engine(self) -> sa.Engine:
        """A direct connection to the scratch database (never through the proxy)."""
        return sa.create_engine(self.database_url,
                                connect_args={"application_name": APP_NAME})

    def kill_backends(self) -> int:
        """pg_terminate_backend every session of the scratch database but the campaign's."""
        engine = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            killed = conn.execute(sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid() "
                "AND coalesce(application_name, '') <> :app"),
                {"name": self.db_name, "app": APP_NAME}).scalar()
        engine.dispose()
        return int(killed or 0)

    def stop(self, keep_database: bool = False) -> None:
        for step in (lambda: self.pool and self.pool.stop(),
                     lambda: self.sandbox and self.sandbox.stop(),
                     lambda: self.pg_proxy and self.pg_proxy.stop(),
                     lambda: self.redis_proxy and self.redis_proxy.stop(),
                     lambda: self.private_redis and self.private_redis.stop(),
                     lambda: keep_database or drop_database(self.admin_url, self.db_name)):
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - stop everything else regardless
                print(f"stopping the campaign stack: {type(exc).__name__}: {exc}",
                      file=sys.stderr)
