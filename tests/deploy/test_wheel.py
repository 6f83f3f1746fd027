"""The production shape from the outside, as the image runs it: the README's production steps,
read from the README and run one by one. Build the wheel, install it (not editable) into a
fresh virtualenv, check the settings, migrate a scratch PostgreSQL database and serve from
it with gunicorn, from a folder where the checkout cannot be imported."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.conftest import PG_ADMIN_URL, REDIS_URL

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]


def readme_block(marker: str) -> list[str]:
    """The commands of the README's bash block after ``<!-- deploy: marker -->``."""
    text = (ROOT / "README.md").read_text()
    match = re.search(rf"<!-- deploy: {marker} -->\s*```bash\n(.*?)```", text, re.S)
    assert match, f"the README has no '<!-- deploy: {marker} -->' bash block"
    lines = [line.split("  #", 1)[0].strip() for line in match.group(1).splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.fixture
def scratch_pg():
    import psycopg

    name = f"homing_deploy_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable: {exc}")
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _settings(tmp_path: Path, database_url: str) -> dict[str, str]:
    credentials = tmp_path / "amazon.json"
    credentials.write_text('{"refresh_token": "Atzr|test", "lwa_app_id": "amzn1.app", '
                           '"lwa_client_secret": "not-a-real-secret"}')
    values = {
        "HOMING_ENV_NAME": "production",
        "HOMING_DATABASE_URL": database_url,
        "HOMING_REDIS_URL": REDIS_URL,
        "HOMING_SECRET_KEY": "e" * 64,
        "HOMING_INSTANCE_PATH": str(tmp_path / "instance"),
        "HOMING_MOUNT_SANDBOX": "false",
        "HOMING_AMAZON_MODE": "live",
        "HOMING_AMAZON_CREDENTIALS_FILE": str(credentials),
        "HOMING_VOUCHER_SIGNING_KEY": _new_signing_key(),
        "HOMING_PROXY_COUNT": "1",
        "HOMING_PREFERRED_URL_SCHEME": "https",
    }
    documented = {line.split("=", 1)[0].removeprefix("export ")
                  for line in readme_block("settings")}
    assert documented == set(values), "the README's production settings are what this test sets"
    return values


def _new_signing_key() -> str:
    out = subprocess.run([str(Path(sys.executable).with_name("homing")), "vouchers", "new-key"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def test_the_readme_production_steps_install_migrate_and_serve(tmp_path, scratch_pg):
    steps = readme_block("steps")
    assert steps[0].startswith("pip wheel") and "gunicorn" in steps[-1]
    venv = tmp_path / "venv"
    away = tmp_path / "elsewhere"  # nothing of the checkout can be imported from here
    away.mkdir()
    base_env = {k: v for k, v in os.environ.items()
                if not k.startswith(("HOMING_", "VIRTUAL_ENV", "PYTHON"))}
    base_env["PATH"] = os.pathsep.join(p for p in base_env.get("PATH", "").split(os.pathsep)
                                       if not p.startswith(str(ROOT)))
    env = {**base_env, "HOMING_VENV": str(venv), **_settings(tmp_path, scratch_pg)}
    for step in steps[:-1]:
        in_checkout = step.startswith(("pip wheel", '"$HOMING_VENV/bin/pip"'))
        done = subprocess.run(["bash", "-c", step], cwd=ROOT if in_checkout else away, env=env,
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, f"{step}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    where = subprocess.run([str(venv / "bin/python"), "-c", "import hub; print(hub.__file__)"],
                           cwd=away, env=env, capture_output=True, text=True, check=True)
    assert str(venv) in where.stdout and "site-packages" in where.stdout

    port = _free_port()
    serve = steps[-1].replace("0.0.0.0:8000", f"127.0.0.1:{port}")
    server = subprocess.Popen(["bash", "-c", "exec " + serve], cwd=away, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(120):
            if server.poll() is not None:
                pytest.fail(f"gunicorn exited:\n{server.stdout.read()[-3000:]}")
            try:
                status, _h, body = _get(url + "/api/v1/health")
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("gunicorn did not answer")
        assert status == 200, body
        assert b'"backend":"postgresql"' in body.replace(b" ", b"")
        # What the wheel must carry besides code: static files, templates, translations.
        status, _h, css = _get(url + "/static/css/homing.css")
        assert status == 200 and len(css) > 100
        status, _h, page = _get(url + "/return/?lang=de")
        assert status == 200 and b"<html" in page
        status, _h, _b = _get(url + "/store/sw.js")
        assert status in (200, 302, 403)  # the service worker template exists (not a 500)
        # Production settings: no sandbox, and the security headers.
        assert _get(url + "/sandbox/spapi/_emu/state")[0] == 404
        _s, headers, _b = _get(url + "/return/")
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_installed_server_refuses_unsafe_settings(tmp_path, scratch_pg):
    """The defaults (development secret, sandbox mounted, no Amazon endpoint): gunicorn does
    not start, and says what to fix; `homing check` says the same and exits 1."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMING_")}
    env.update(HOMING_DATABASE_URL=scratch_pg, HOMING_INSTANCE_PATH=str(tmp_path / "i"))
    port = _free_port()
    done = subprocess.run(
        [str(Path(sys.executable).with_name("gunicorn")), "hub.wsgi:app", "--bind",
         f"127.0.0.1:{port}"], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120)
    assert done.returncode != 0
    for setting in ("HOMING_SECRET_KEY", "HOMING_MOUNT_SANDBOX", "HOMING_AMAZON_MODE"):
        assert setting in done.stderr
    assert "fix: export HOMING_SECRET_KEY=$(openssl rand -hex 32)" in done.stderr
    check = subprocess.run([str(Path(sys.executable).with_name("homing")), "check"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert check.returncode == 1 and "HOMING_SECRET_KEY" in check.stderr
