"""Voucher tokens and short codes. Pure domain code: no Flask, no database.

Token: ``HV1.<payload>.<signature>`` (base64url, no padding). The payload is compact JSON
``{"k": key id, "r": RMA number, "c": short code, "e": expiry (unix seconds), "s": store}``,
signed with Ed25519 so a store tablet can verify it offline with the hub's public keys.
Several keys can verify at once (rotation); the ``k`` in the payload picks one.

Short code: 10 characters from an alphabet without look-alikes (no 0/O, 1/I/L, U), the last
one a check character (weighted sum mod 29) that catches any single typo and any swap of two
neighbouring characters. Shown as ``ABCD-EFGH-JK``."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PREFIX = "HV1"
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"[:29]  # 29 is prime: the check catches swaps
_INDEX = {ch: i for i, ch in enumerate(ALPHABET)}
CODE_LENGTH = 10


class VoucherError(ValueError):
    """A voucher that must not be honoured. ``code`` is stable for clients."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


# --- short codes --------------------------------------------------------------------------------

def _check_char(body: str) -> str:
    total = sum((i + 1) * _INDEX[ch] for i, ch in enumerate(body))
    return ALPHABET[total % len(ALPHABET)]


def new_short_code() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH - 1))
    return body + _check_char(body)


def normalise_short_code(text: str) -> str:
    """What a clerk typed -> the canonical code, or VoucherError('malformed')."""
    cleaned = "".join(ch for ch in text.upper() if ch not in " -")
    if len(cleaned) != CODE_LENGTH or any(ch not in _INDEX for ch in cleaned):
        raise VoucherError("malformed", "A voucher code has 10 letters and digits, "
                                        "like ABCD-EFGH-JK.")
    if _check_char(cleaned[:-1]) != cleaned[-1]:
        raise VoucherError("malformed", "This code has a typo: please check each character.")
    return cleaned


def format_short_code(code: str) -> str:
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


# --- keys ---------------------------------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:8]


def derive_private_key(secret: str, label: str = "homing-voucher-key") -> Ed25519PrivateKey:
    """A signing key derived from a secret (the demo and tests; production configures one)."""
    seed = HKDF(SHA256(), 32, salt=None, info=label.encode()).derive(secret.encode())
    return Ed25519PrivateKey.from_private_bytes(seed)


def private_key_from_text(text: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_unb64(text.strip()))


def public_key_from_text(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_unb64(text.strip()))


def public_key_text(public: Ed25519PublicKey) -> str:
    return _b64(public.public_bytes(Encoding.Raw, PublicFormat.Raw))


@dataclass
class Keyring:
    signing: Ed25519PrivateKey
    verifying: dict[str, Ed25519PublicKey]

    @classmethod
    def build(cls, signing: Ed25519PrivateKey,
              retired: list[Ed25519PublicKey] | tuple = ()) -> Keyring:
        keys = {key_id(k): k for k in (signing.public_key(), *retired)}
        return cls(signing, keys)

    @property
    def kid(self) -> str:
        return key_id(self.signing.public_key())

    def public_keys(self) -> list[dict]:
        return [{"kid": kid, "alg": "EdDSA", "crv": "Ed25519", "x": public_key_text(key)}
                for kid, key in self.verifying.items()]


# --- tokens -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VoucherClaims:
    kid: str
    rma: str
    code: str
    expires_at: datetime
    store: str | None = None


def sign(keyring: Keyring, rma: str, code: str, expires_at: datetime,
         store: str | None = None) -> str:
    claims = {"k": keyring.kid, "r": rma, "c": code, "e": int(expires_at.timestamp())}
    if store:
        claims["s"] = store
    payload = json.dumps(claims, separators=(",", ":"), sort_keys=True).encode()
    signature = keyring.signing.sign(PREFIX.encode() + b"." + payload)
    return f"{PREFIX}.{_b64(payload)}.{_b64(signature)}"


def verify(keyring: Keyring, token: str, now: datetime) -> VoucherClaims:
    """Check the signature and expiry of a token; VoucherError with a stable code if not."""
    parts = token.strip().split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise VoucherError("malformed", "This is not a Homing return voucher.")
    try:
        payload, signature = _unb64(parts[1]), _unb64(parts[2])
        claims = json.loads(payload)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise VoucherError("malformed", "The voucher is damaged or incomplete.") from None
    if not isinstance(claims, dict) or not {"k", "r", "c", "e"} <= claims.keys():
        raise VoucherError("malformed", "The voucher is damaged or incomplete.")
    key = keyring.verifying.get(str(claims["k"]))
    if key is None:
        raise VoucherError("unknown_key", "The voucher was signed with a key this hub does "
                                          "not know (another brand's, or a retired key).")
    try:
        key.verify(signature, PREFIX.encode() + b"." + payload)
    except InvalidSignature:
        raise VoucherError("bad_signature", "The voucher's signature does not match: it has "
                                            "been altered.") from None
    try:
        expires_at = datetime.fromtimestamp(int(claims["e"]), UTC)
    except (TypeError, ValueError, OverflowError):
        raise VoucherError("malformed", "The voucher is damaged or incomplete.") from None
    if expires_at <= now:
        raise VoucherError("expired", f"The voucher expired on {expires_at:%Y-%m-%d}.")
    return VoucherClaims(str(claims["k"]), str(claims["r"]), str(claims["c"]), expires_at,
                         claims.get("s"))
