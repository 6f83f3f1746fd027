"""Unsafe settings. Promise: `homing check`, and the start-up of gunicorn (hub.wsgi) and
`homing worker`, refuse the development secret, a mounted sandbox (always with live Amazon,
otherwise unless explicitly allowed), live Amazon without credentials and sandbox mode
without an endpoint, each with the fix. (The served image itself: tests/deploy.)"""

from __future__ import annotations

import json

import pytest

from hub import UnsafeSettings, create_app, refuse_unsafe_settings
from hub.config import DEV_SECRET, check_settings

SAFE = {"SECRET_KEY": "s" * 64, "MOUNT_SANDBOX": False, "AMAZON_MODE": "sandbox",
        "AMAZON_ENDPOINT": "http://sandbox.internal/sandbox/spapi"}


def _settings(**changes) -> list[str]:
    return [u.setting for u in check_settings({**SAFE, **changes}, environ={})]


def test_safe_settings_pass():
    assert _settings() == []


def test_the_development_or_a_short_secret_is_refused():
    assert _settings(SECRET_KEY=DEV_SECRET) == ["HOMING_SECRET_KEY"]
    assert _settings(SECRET_KEY="short") == ["HOMING_SECRET_KEY"]
    [problem] = check_settings({**SAFE, "SECRET_KEY": DEV_SECRET}, environ={})
    assert problem.fix == "export HOMING_SECRET_KEY=$(openssl rand -hex 32)"


def test_the_sandbox_is_refused_when_mounted(tmp_path):
    assert _settings(MOUNT_SANDBOX=True) == ["HOMING_MOUNT_SANDBOX"]
    assert _settings(MOUNT_SANDBOX=True, ALLOW_SANDBOX=True) == []
    creds = tmp_path / "amazon.json"
    creds.write_text(json.dumps({"refresh_token": "r", "lwa_app_id": "a",
                                 "lwa_client_secret": "s"}))
    live = {"AMAZON_MODE": "live", "AMAZON_CREDENTIALS_FILE": str(creds)}
    assert _settings(MOUNT_SANDBOX=True, ALLOW_SANDBOX=True, **live) == ["HOMING_MOUNT_SANDBOX"]
    assert _settings(**live) == []


def test_live_amazon_needs_credentials(tmp_path):
    assert _settings(AMAZON_MODE="live") == ["HOMING_AMAZON_CREDENTIALS_FILE"]
    env = {"SP_API_REFRESH_TOKEN": "r", "LWA_APP_ID": "a", "LWA_CLIENT_SECRET": "s"}
    assert check_settings({**SAFE, "AMAZON_MODE": "live"}, environ=env) == []
    partial = tmp_path / "partial.json"
    partial.write_text('{"refresh_token": "r"}')
    [problem] = check_settings({**SAFE, "AMAZON_MODE": "live",
                                "AMAZON_CREDENTIALS_FILE": str(partial)}, environ={})
    assert "lwa_app_id" in problem.problem
    assert _settings(AMAZON_MODE="live", AMAZON_CREDENTIALS_FILE=str(tmp_path / "none.json")) \
        == ["HOMING_AMAZON_CREDENTIALS_FILE"]


def test_sandbox_mode_needs_an_endpoint_and_modes_are_known():
    assert _settings(AMAZON_ENDPOINT=None) == ["HOMING_AMAZON_MODE"]
    assert _settings(AMAZON_MODE="production") == ["HOMING_AMAZON_MODE"]


def test_unreadable_voucher_keys_are_refused():
    assert _settings(VOUCHER_SIGNING_KEY="not base64!") == ["HOMING_VOUCHER_SIGNING_KEY"]
    assert _settings(VOUCHER_RETIRED_KEYS="abc") == ["HOMING_VOUCHER_RETIRED_KEYS"]


def test_start_up_refuses_unless_demo_debug_or_testing(capsys):
    with pytest.raises(UnsafeSettings):
        refuse_unsafe_settings(create_app({"SECRET_KEY": DEV_SECRET}))
    assert "HOMING_SECRET_KEY" in capsys.readouterr().err
    for exempt in ({"TESTING": True}, {"ENV_NAME": "demo"}, {"ENV_NAME": "bench"}):
        refuse_unsafe_settings(create_app({"SECRET_KEY": DEV_SECRET, **exempt}))


def test_homing_check_prints_the_problems_and_exits_1(app, runner):
    saved = {k: app.config[k] for k in ("SECRET_KEY", "MOUNT_SANDBOX")}
    try:
        app.config.update(SECRET_KEY=DEV_SECRET, MOUNT_SANDBOX=True)
        result = runner.invoke(args=["check"])
        assert result.exit_code == 1
        assert "HOMING_SECRET_KEY" in result.output and "fix:" in result.output
        app.config.update(SECRET_KEY="s" * 64, MOUNT_SANDBOX=False, AMAZON_MODE="sandbox",
                          AMAZON_ENDPOINT="http://x")
        ok = runner.invoke(args=["check"])
        assert ok.exit_code == 0 and "settings OK" in ok.output
    finally:
        app.config.update(saved, AMAZON_ENDPOINT=None)


def test_db_upgrade_on_sqlite_makes_the_instance_folder(tmp_path):
    from flask_migrate import upgrade

    target = tmp_path / "not" / "yet" / "there"
    app = create_app({"DATABASE_URL": f"sqlite:///{target / 'homing.sqlite'}",
                      "TESTING": True})
    assert not target.exists()  # creating the app writes nothing
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
    assert (target / "homing.sqlite").exists()
