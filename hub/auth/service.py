"""Credentials: API keys, passwords and PINs. Secrets are stored only as hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from hub.auth.models import ROLES, STORE_ROLES, ApiKey, Device, User
from hub.models import utcnow
from hub.stores.models import Store

KEY_PREFIX = "hom"
_DUMMY_HASH = generate_password_hash("not-a-real-secret", method="scrypt")


class AuthError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Principal:
    """Who is calling: enough to authorise, nothing secret."""

    kind: str  # api_key | user
    id: int
    role: str
    store_id: int | None
    label: str

    def can_act_for_store(self, store_id: int) -> bool:
        return self.store_id is None or self.store_id == store_id


def hash_api_key(secret: str) -> str:
    # API keys carry 256 bits of randomness, so a fast hash is safe; a slow KDF would only
    # make every API call slower.
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(session: Session, *, role: str, store_code: str | None = None,
                   name: str = "") -> tuple[ApiKey, str]:
    """Create a key and return it with the plaintext, which is never stored or shown again."""
    if role not in ROLES:
        raise AuthError("unknown_role", f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    store_id = None
    if store_code:
        store = session.scalar(sa.select(Store).where(Store.code == store_code))
        if store is None:
            raise AuthError("unknown_store", f"no store with code {store_code!r}")
        store_id = store.id
    elif role in STORE_ROLES:
        raise AuthError("store_required", f"a {role} key must be scoped to a store (--store)")
    prefix = secrets.token_hex(4)
    plaintext = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(name=name, prefix=prefix, key_hash=hash_api_key(plaintext), role=role,
                 store_id=store_id)
    session.add(key)
    session.flush()
    return key, plaintext


# Built once: every API request runs it.
_KEY_BY_PREFIX = sa.select(ApiKey).where(ApiKey.prefix == sa.bindparam("prefix"))


def authenticate_api_key(session: Session, presented: str) -> Principal:
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        raise AuthError("malformed_key", "the API key is not in the form hom_xxxxxxxx_...")
    key = session.scalar(_KEY_BY_PREFIX, {"prefix": parts[1]})
    if key is None or not hmac.compare_digest(key.key_hash, hash_api_key(presented)):
        raise AuthError("invalid_key", "the API key is not valid")
    if key.revoked_at is not None:
        raise AuthError("revoked_key", "the API key has been revoked")
    _touch(key, "last_used_at")
    return Principal("api_key", key.id, key.role, key.store_id, key.name or key.prefix)


TOUCH_EVERY = timedelta(minutes=5)


def _touch(row, column: str) -> None:
    """Record "last used" at most every few minutes: writing it on every request would make
    every read an UPDATE and serialise concurrent requests on one row's lock."""
    now = utcnow()
    last = getattr(row, column)
    if last is None or now - last > TOUCH_EVERY:
        setattr(row, column, now)


# --- people: passwords (HQ) and PINs (store tablets) ---------------------------------------

MAX_FAILED_ATTEMPTS = 5
LOCKOUT = timedelta(minutes=15)


def hash_secret(secret: str) -> str:
    # scrypt: memory-hard, so a stolen table of 4-6 digit PINs is still slow to brute force.
    return generate_password_hash(secret, method="scrypt")


def create_user(session: Session, *, name: str, role: str, email: str | None = None,
                password: str | None = None, store_id: int | None = None,
                staff_number: str | None = None, pin: str | None = None) -> User:
    if role not in ROLES:
        raise AuthError("unknown_role", f"unknown role {role!r}")
    if role in STORE_ROLES and store_id is None:
        raise AuthError("store_required", f"a {role} belongs to a store")
    if pin is not None and not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise AuthError("weak_pin", "a PIN is 4 to 8 digits")
    if password is not None and len(password) < 10:
        raise AuthError("weak_password", "a password has at least 10 characters")
    user = User(name=name, role=role, email=email.lower() if email else None,
                store_id=store_id if role in STORE_ROLES else None, staff_number=staff_number,
                password_hash=hash_secret(password) if password else None,
                pin_hash=hash_secret(pin) if pin else None)
    session.add(user)
    session.flush()
    return user


def _check_secret(session: Session, user: User | None, stored: str | None, presented: str,
                  now) -> User:
    """Verify a secret with lock-out after repeated failures. One answer for an unknown user,
    a wrong secret and a locked account, after the same work, so that neither the answer nor
    its timing tells an attacker whether an account exists or was locked."""
    if user is None or not user.active or stored is None:
        check_password_hash(_DUMMY_HASH, presented)  # same work either way: no timing oracle
        raise AuthError("bad_credentials", "wrong sign-in details")
    matches = check_password_hash(stored, presented)  # even when locked: the same work
    if user.locked_until is not None and user.locked_until > now:
        raise AuthError("bad_credentials", "wrong sign-in details")  # not "locked": see above
    if not matches:
        user.failed_attempts += 1
        if user.failed_attempts >= MAX_FAILED_ATTEMPTS:
            user.locked_until, user.failed_attempts = now + LOCKOUT, 0
        # The request fails and its unit of work is rolled back; the attempt must still count
        # towards the lock-out, so it is committed here (callers authenticate before writing).
        session.commit()
        raise AuthError("bad_credentials", "wrong sign-in details")
    user.failed_attempts, user.locked_until, user.last_login_at = 0, None, now
    return user


def authenticate_password(session: Session, email: str, password: str) -> User:
    user = session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    return _check_secret(session, user, user.password_hash if user else None, password, utcnow())


def authenticate_pin(session: Session, store_id: int, staff_number: str, pin: str) -> User:
    user = session.scalar(sa.select(User).where(User.store_id == store_id,
                                                User.staff_number == staff_number.strip()))
    return _check_secret(session, user, user.pin_hash if user else None, pin, utcnow())


def user_principal(user: User) -> Principal:
    return Principal("user", user.id, user.role, user.store_id, user.name)


# --- devices --------------------------------------------------------------------------------

def enroll_device(session: Session, *, store_id: int, name: str,
                  enrolled_by_id: int | None = None) -> tuple[Device, str]:
    """Enrol a tablet to a store. Returns the device and its token (shown once)."""
    prefix = secrets.token_hex(4)
    token = f"dev_{prefix}_{secrets.token_urlsafe(32)}"
    device = Device(store_id=store_id, name=name, token_prefix=prefix,
                    token_hash=hash_api_key(token), enrolled_by_id=enrolled_by_id)
    session.add(device)
    session.flush()
    return device, token


def authenticate_device(session: Session, token: str) -> Device:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "dev":
        raise AuthError("malformed_device_token", "this tablet is not enrolled")
    device = session.scalar(sa.select(Device).where(Device.token_prefix == parts[1]))
    if device is None or not hmac.compare_digest(device.token_hash, hash_api_key(token)):
        raise AuthError("unknown_device", "this tablet is not enrolled")
    if device.revoked_at is not None:
        raise AuthError("revoked_device", "this tablet's enrolment was revoked")
    _touch(device, "last_seen_at")
    return device
