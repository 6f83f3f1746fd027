"""An endpoint's signing secret at rest. HMAC signing needs the secret itself, so it cannot
be hashed like an API key: it is encrypted (Fernet: AES-128-CBC + HMAC-SHA256) with a key
derived from the app's SECRET_KEY, shown to the admin once and never again."""

from __future__ import annotations

import base64
import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _fernet(app_secret: str) -> Fernet:
    digest = hashlib.sha256(b"homing-webhook-secret:" + app_secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(app_secret: str, plaintext: str) -> str:
    return _fernet(app_secret).encrypt(plaintext.encode()).decode()


def unseal(app_secret: str, sealed: str) -> str:
    try:
        return _fernet(app_secret).decrypt(sealed.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("the endpoint's secret was sealed with another SECRET_KEY") from exc
