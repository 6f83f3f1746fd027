"""Credential references: parsed strictly, resolved from the environment or a file, errors
that name what is missing and never a value."""

from __future__ import annotations

import json

import pytest

from hub.amazon import credentials as refs
from hub.amazon.credentials import CredentialsUnavailable

ENV = {"EU_REFRESH_TOKEN": "Atzr|t", "EU_LWA_APP_ID": "app", "EU_LWA_CLIENT_SECRET": "sec"}


@pytest.mark.parametrize("text", ["", "Atzr|a-token-in-clear", "env:", "env:lower",
                                  "file:relative/path.json", "vault:x", "sandbox:x",
                                  "env:A B", "file:/x\x00y"])
def test_bad_references_are_refused(text):
    with pytest.raises(CredentialsUnavailable) as bad:
        refs.parse(text)
    assert bad.value.code == "bad_reference"


def test_env_reference_reads_three_variables_and_names_the_missing_one():
    assert refs.resolve(refs.parse("env:EU"), "S", ENV, sandbox=False) == {
        "refresh_token": "Atzr|t", "lwa_app_id": "app", "lwa_client_secret": "sec"}
    assert refs.parse("env:EU_REFRESH_TOKEN") == refs.parse("env:EU")
    partial = {k: v for k, v in ENV.items() if k != "EU_LWA_CLIENT_SECRET"}
    with pytest.raises(CredentialsUnavailable) as missing:
        refs.resolve(refs.parse("env:EU"), "S", partial, sandbox=False)
    assert (missing.value.code, missing.value.detail) == ("env_missing", "EU_LWA_CLIENT_SECRET")
    assert "Atzr|t" not in str(missing.value)


def test_file_reference(tmp_path):
    path = tmp_path / "eu.json"
    with pytest.raises(CredentialsUnavailable) as absent:
        refs.resolve(refs.parse(f"file:{path}"), "S", {}, sandbox=False)
    assert absent.value.code == "file_missing"
    path.write_text("{not json")
    with pytest.raises(CredentialsUnavailable) as broken:
        refs.resolve(refs.parse(f"file:{path}"), "S", {}, sandbox=False)
    assert broken.value.code == "file_invalid"
    path.write_text(json.dumps({"refresh_token": "Atzr|secret", "lwa_app_id": "a"}))
    with pytest.raises(CredentialsUnavailable) as partial:
        refs.resolve(refs.parse(f"file:{path}"), "S", {}, sandbox=False)
    assert partial.value.code == "file_incomplete" and "lwa_client_secret" in partial.value.detail
    assert "Atzr|secret" not in str(partial.value)
    path.write_text(json.dumps({"refresh_token": "r", "lwa_app_id": "a",
                                "lwa_client_secret": "s"}))
    assert refs.resolve(refs.parse(f"file:{path}"), "S", {}, sandbox=False)["lwa_app_id"] == "a"


def test_sandbox_reference_only_in_sandbox_mode():
    found = refs.resolve(refs.parse("sandbox:"), "A2DE", {}, sandbox=True)
    assert found["refresh_token"] == "Atzr|homing-sandbox-A2DE"
    with pytest.raises(CredentialsUnavailable) as live:
        refs.resolve(refs.parse("sandbox:"), "A2DE", {}, sandbox=False)
    assert live.value.code == "sandbox_only"


def test_fingerprint_tells_credentials_apart_without_revealing_them():
    one = refs.fingerprint({"refresh_token": "a", "lwa_app_id": "b", "lwa_client_secret": "c"})
    two = refs.fingerprint({"refresh_token": "a2", "lwa_app_id": "b", "lwa_client_secret": "c"})
    assert one != two and len(one) == 16
