"""The hub's voucher keyring from configuration.

``HOMING_VOUCHER_SIGNING_KEY``: base64url Ed25519 private key (32 bytes) that signs new
vouchers; ``HOMING_VOUCHER_RETIRED_KEYS``: JSON list of base64url public keys that still
verify older vouchers after a rotation. Without a signing key (the demo, tests) one is derived
from ``HOMING_SECRET_KEY``. ``homing vouchers new-key`` prints a fresh key."""

from __future__ import annotations

from flask import current_app

from hub.vouchers.crypto import (
    Keyring,
    derive_private_key,
    private_key_from_text,
    public_key_from_text,
)

_cache: dict[tuple, Keyring] = {}


def keyring() -> Keyring:
    config = current_app.config
    signing = config.get("VOUCHER_SIGNING_KEY")
    retired = tuple(config.get("VOUCHER_RETIRED_KEYS") or ())
    cache_key = (signing, retired, config["SECRET_KEY"])
    if cache_key not in _cache:
        private = (private_key_from_text(signing) if signing
                   else derive_private_key(config["SECRET_KEY"]))
        _cache[cache_key] = Keyring.build(private, [public_key_from_text(k) for k in retired])
    return _cache[cache_key]
