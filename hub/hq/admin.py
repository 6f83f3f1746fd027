"""Running the chain from HQ: stores, people, devices, API keys and the blocklist. Every
function checks the caller's permission, validates completely before it writes, and records
one audit event in the caller's transaction (the view or the CLI commits)."""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.audit.service import Actor, record
from hub.auth import service as auth
from hub.auth.models import ROLES, ApiKey, Device, User
from hub.hq.access import Scope
from hub.models import utcnow
from hub.policy import service as policy
from hub.policy.models import BlocklistEntry, PolicyVersion
from hub.stores.hours import HoursError, WeeklyHours
from hub.stores.models import Store
from hub.validation import InvalidInput


def _fail(field: str, message: str) -> InvalidInput:
    return InvalidInput([{"field": field, "message": message}])


# --- stores -----------------------------------------------------------------------------------

def update_store(session: Session, scope: Scope, actor: Actor, store: Store, *, name: str,
                 hours: str, categories: str, capacity: str, active: bool) -> Store:
    """Edit what routing uses: opening hours (``Mon-Sat 09:00-18:00; Sun closed``),
    categories (``general|electronics``), daily capacity, and whether the store takes
    returns at all (deactivated stores are not offered to shoppers)."""
    scope.require("stores.manage")
    errors = []
    try:
        weekly = WeeklyHours.from_text(hours)
    except HoursError as exc:
        errors.append({"field": "hours", "message": str(exc)})
    cats = sorted({c.strip().lower() for c in categories.replace(",", "|").split("|")
                   if c.strip()})
    if not cats:
        errors.append({"field": "categories", "message": "name at least one category"})
    if not capacity.strip().isdigit() or not 0 <= int(capacity) <= 100_000:
        errors.append({"field": "daily_capacity", "message": "a whole number from 0 to 100000"})
    if not name.strip():
        errors.append({"field": "name", "message": "is required"})
    if errors:
        raise InvalidInput(errors)
    before = {"name": store.name, "hours": WeeklyHours.from_dict(store.hours).to_text(),
              "categories": store.categories, "daily_capacity": store.daily_capacity,
              "active": store.active}
    store.name, store.hours, store.categories = name.strip()[:200], weekly.to_dict(), cats
    store.daily_capacity, store.active = int(capacity), active
    after = {"name": store.name, "hours": weekly.to_text(), "categories": cats,
             "daily_capacity": store.daily_capacity, "active": active}
    changed = {k: v for k, v in after.items() if before[k] != v}
    if changed:
        record(session, actor, "store.updated", "store", store.code,
               before={k: before[k] for k in changed}, after=changed, store_id=store.id)
    return store


# --- policy -----------------------------------------------------------------------------------

def publish_policy_text(session: Session, scope: Scope, actor: Actor, text: str, note: str
                        ) -> PolicyVersion:
    """A new policy version from the JSON an admin edited; returns keep their old version."""
    scope.require("policy.manage")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail("document", f"not valid JSON: {exc.msg} at line {exc.lineno}, "
                                f"column {exc.colno}") from exc
    if not note.strip():
        raise _fail("note", "say what changed and why")
    return policy.publish_policy(session, document, note=note.strip(), actor=actor,
                                 user_id=scope.user_id)


# --- people, devices, keys --------------------------------------------------------------------

def create_user(session: Session, scope: Scope, actor: Actor, *, name: str, role: str,
                email: str = "", password: str = "", store_id: int | None = None,
                staff_number: str = "", pin: str = "") -> User:
    scope.require("users.manage")
    if role not in ROLES:
        raise _fail("role", f"choose one of {', '.join(ROLES)}")
    if not name.strip():
        raise _fail("name", "is required")
    if email and session.scalar(sa.select(User.id).where(User.email == email.strip().lower())):
        raise _fail("email", "another user has this e-mail address")
    if role in ("clerk", "supervisor") and not (staff_number.strip() and pin):
        raise _fail("pin", "store staff need a staff number and a PIN")
    if role not in ("clerk", "supervisor") and not (email.strip() and password):
        raise _fail("password", "HQ staff need an e-mail address and a password")
    if staff_number.strip() and session.scalar(sa.select(User.id).where(
            User.store_id == store_id, User.staff_number == staff_number.strip())):
        raise _fail("staff_number", "this staff number is taken at that store")
    try:
        user = auth.create_user(session, name=name.strip(), role=role,
                                email=email.strip() or None, password=password or None,
                                store_id=store_id, staff_number=staff_number.strip() or None,
                                pin=pin or None)
    except auth.AuthError as exc:
        raise _fail(exc.code, str(exc)) from exc
    record(session, actor, "user.created", "user", user.id, store_id=user.store_id,
           after={"role": role, "name": user.name})
    return user


def set_user_active(session: Session, scope: Scope, actor: Actor, user: User, active: bool
                    ) -> None:
    scope.require("users.manage")
    if user.id == scope.user_id and not active:
        raise _fail("user", "you cannot deactivate yourself")
    if user.active != active:
        user.active = active
        record(session, actor, "user.activated" if active else "user.deactivated", "user",
               user.id, store_id=user.store_id)


def unlock_user(session: Session, scope: Scope, actor: Actor, user: User) -> None:
    scope.require("users.manage")
    user.failed_attempts, user.locked_until = 0, None
    record(session, actor, "user.unlocked", "user", user.id, store_id=user.store_id)


def create_key(session: Session, scope: Scope, actor: Actor, *, name: str, role: str,
               store_code: str = "") -> tuple[ApiKey, str]:
    scope.require("keys.manage")
    try:
        key, plaintext = auth.create_api_key(session, role=role, store_code=store_code or None,
                                             name=name.strip())
    except auth.AuthError as exc:
        raise _fail(exc.code, str(exc)) from exc
    record(session, actor, "api_key.created", "api_key", key.id, store_id=key.store_id,
           after={"role": role, "prefix": key.prefix, "name": key.name})
    return key, plaintext


def revoke_key(session: Session, scope: Scope, actor: Actor, key: ApiKey) -> None:
    scope.require("keys.manage")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        record(session, actor, "api_key.revoked", "api_key", key.id, store_id=key.store_id,
               after={"prefix": key.prefix})


def enroll_device(session: Session, scope: Scope, actor: Actor, *, store: Store, name: str
                  ) -> tuple[Device, str]:
    scope.require("devices.manage")
    if not name.strip():
        raise _fail("name", "name the tablet, e.g. 'Front counter'")
    device, token = auth.enroll_device(session, store_id=store.id, name=name.strip()[:120],
                                       enrolled_by_id=scope.user_id)
    record(session, actor, "device.enrolled", "device", device.id, store_id=store.id,
           after={"name": device.name})
    return device, token


def revoke_device(session: Session, scope: Scope, actor: Actor, device: Device) -> None:
    scope.require("devices.manage")
    if device.revoked_at is None:
        device.revoked_at = utcnow()
        record(session, actor, "device.revoked", "device", device.id, store_id=device.store_id)


# --- blocklist --------------------------------------------------------------------------------

def add_block(session: Session, scope: Scope, actor: Actor, secret: str, *, kind: str,
              value: str, reason: str) -> BlocklistEntry:
    scope.require("blocklist.manage")
    return policy.add_block(session, secret, kind=kind, value=value, reason=reason, actor=actor,
                            user_id=scope.user_id)


def remove_block(session: Session, scope: Scope, actor: Actor, entry: BlocklistEntry,
                 reason: str) -> None:
    scope.require("blocklist.manage")
    if entry.removed_at is not None:
        raise _fail("entry", "this entry was already removed")
    policy.remove_block(session, entry, reason=reason, actor=actor, user_id=scope.user_id)
