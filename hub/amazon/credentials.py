"""Credential references: where an Amazon account's secrets live, never the secrets.

An account names its credentials with a reference:

- ``env:PREFIX`` reads ``PREFIX_REFRESH_TOKEN``, ``PREFIX_LWA_APP_ID`` and
  ``PREFIX_LWA_CLIENT_SECRET`` from the environment (``env:PREFIX_REFRESH_TOKEN`` means the
  same prefix);
- ``file:/absolute/path`` reads a JSON file with ``refresh_token``, ``lwa_app_id`` and
  ``lwa_client_secret`` (e.g. a container secret under /run/secrets);
- ``sandbox:`` is the built-in sandbox's fixed test credentials for that account, only in
  sandbox mode.

Pure code: no Flask, no database. Errors name what is missing, never a value.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

FIELDS = ("refresh_token", "lwa_app_id", "lwa_client_secret")
ENV_SUFFIXES = {"refresh_token": "_REFRESH_TOKEN", "lwa_app_id": "_LWA_APP_ID",
                "lwa_client_secret": "_LWA_CLIENT_SECRET"}
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,150}$")
SCHEMES = ("env", "file", "sandbox")

# The sandbox's test LWA client and each demo account's refresh token (the sandbox knows the
# same ones; hub.sandbox reads them from here).
SANDBOX_CLIENT = ("amzn1.application-oa2-client.homing-sandbox", "homing-sandbox-secret")
SANDBOX_DEFAULT_TOKEN = "Atzr|homing-sandbox-refresh-token"
SANDBOX_DEFAULT_SELLER = "A1DEMOSELLER"


def sandbox_refresh_token(seller_id: str) -> str:
    if seller_id == SANDBOX_DEFAULT_SELLER:
        return SANDBOX_DEFAULT_TOKEN
    return f"Atzr|homing-sandbox-{seller_id}"


class CredentialsUnavailable(Exception):
    """The account's credentials cannot be read: ``code`` says why (for HQ's explanation),
    ``detail`` which name or path, never a value."""

    def __init__(self, code: str, detail: str):
        super().__init__(f"{code}: {detail}")
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class Reference:
    scheme: str
    target: str  # the environment prefix, the file path, or "" for the sandbox

    def __str__(self) -> str:
        return f"{self.scheme}:{self.target}"


def parse(text: str) -> Reference:
    """A reference, or CredentialsUnavailable("bad_reference") saying what is wrong with it."""
    scheme, sep, target = (text or "").strip().partition(":")
    if not sep or scheme not in SCHEMES:
        raise CredentialsUnavailable("bad_reference",
                                     "use env:PREFIX, file:/absolute/path or sandbox:")
    if scheme == "env":
        target = target.removesuffix(ENV_SUFFIXES["refresh_token"])
        if not ENV_NAME.match(target):
            raise CredentialsUnavailable("bad_reference",
                                         "env: needs an upper-case variable prefix")
    elif scheme == "file":
        if not target.startswith("/") or "\x00" in target:
            raise CredentialsUnavailable("bad_reference", "file: needs an absolute path")
    elif target:
        raise CredentialsUnavailable("bad_reference", "sandbox: takes nothing after the colon")
    return Reference(scheme, target)


def resolve(reference: Reference, seller_id: str, environ: Mapping[str, str], *,
            sandbox: bool) -> dict[str, str]:
    """The three LWA values the reference names, or CredentialsUnavailable."""
    if reference.scheme == "env":
        found = {name: environ.get(reference.target + suffix, "").strip()
                 for name, suffix in ENV_SUFFIXES.items()}
        missing = [reference.target + ENV_SUFFIXES[name] for name, value in found.items()
                   if not value]
        if missing:
            raise CredentialsUnavailable("env_missing", ", ".join(missing))
        return found
    if reference.scheme == "file":
        return _from_file(Path(reference.target))
    if not sandbox:
        raise CredentialsUnavailable("sandbox_only", "sandbox: works only in sandbox mode")
    return {"refresh_token": sandbox_refresh_token(seller_id), "lwa_app_id": SANDBOX_CLIENT[0],
            "lwa_client_secret": SANDBOX_CLIENT[1]}


def _from_file(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CredentialsUnavailable("file_missing", str(path)) from None
    except PermissionError:
        raise CredentialsUnavailable("file_unreadable", str(path)) from None
    except (OSError, UnicodeDecodeError, ValueError):
        raise CredentialsUnavailable("file_invalid", str(path)) from None
    if not isinstance(data, dict):
        raise CredentialsUnavailable("file_invalid", str(path))
    missing = [name for name in FIELDS if not isinstance(data.get(name), str)
               or not data[name].strip()]
    if missing:
        raise CredentialsUnavailable("file_incomplete", f"{path}: {', '.join(missing)}")
    return {name: data[name].strip() for name in FIELDS}


def fingerprint(credentials: Mapping[str, str]) -> str:
    """A short one-way digest telling one set of credentials from another (kept to notice
    that refused credentials were replaced; it reveals nothing of them)."""
    joined = "\x1f".join(credentials.get(name, "") for name in FIELDS)
    return hashlib.sha256(joined.encode()).hexdigest()[:16]
