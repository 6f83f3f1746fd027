"""Policy versions, the managed return-reason list and the blocklist."""

from __future__ import annotations

import hashlib
import hmac

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.audit.service import Actor, record
from hub.models import utcnow
from hub.policy.document import validate_policy
from hub.policy.models import BlocklistEntry, PolicyVersion, ReturnReason
from hub.text import N_
from hub.validation import InvalidInput

# code, parent, English label, seller at fault
REASONS = (
    ("damaged", None, N_("Damaged or defective"), True),
    ("damaged.arrived_broken", "damaged", N_("Arrived broken"), True),
    ("damaged.stopped_working", "damaged", N_("Stopped working"), True),
    ("damaged.missing_parts", "damaged", N_("Parts or accessories missing"), True),
    ("not_as_described", None, N_("Not as described"), True),
    ("not_as_described.wrong_item", "not_as_described", N_("Wrong item sent"), True),
    ("not_as_described.different_colour", "not_as_described",
     N_("Different colour or style"), True),
    ("fit", None, N_("Size or fit"), False),
    ("fit.too_small", "fit", N_("Too small"), False),
    ("fit.too_large", "fit", N_("Too large"), False),
    ("changed_mind", None, N_("No longer needed"), False),
    ("changed_mind.better_price", "changed_mind", N_("Found a better price"), False),
    ("changed_mind.ordered_by_mistake", "changed_mind", N_("Ordered by mistake"), False),
    ("late", None, N_("Arrived too late"), True),
)


def leaf_reasons(session: Session) -> list[ReturnReason]:
    """Reasons a shopper can pick: active ones without children."""
    reasons = session.scalars(sa.select(ReturnReason).where(ReturnReason.active)
                              .order_by(ReturnReason.position)).all()
    parents = {r.parent_code for r in reasons if r.parent_code}
    return [r for r in reasons if r.code not in parents]


class NoPolicy(LookupError):
    """The database has no policy: it was not created by `homing db upgrade`."""


def current_policy(session: Session) -> PolicyVersion:
    """The newest policy version (version 1, the defaults, is installed by the upgrade)."""
    latest = session.scalar(sa.select(PolicyVersion).order_by(PolicyVersion.version.desc())
                            .limit(1))
    if latest is None:
        raise NoPolicy("no return policy in the database; run `homing db upgrade`")
    return latest


def publish_policy(session: Session, document: dict, *, note: str, actor: Actor,
                   user_id: int | None = None) -> PolicyVersion:
    errors = validate_policy(document)
    if errors:
        raise InvalidInput(errors)
    previous = current_policy(session)
    version = PolicyVersion(version=previous.version + 1, document=document,
                            note=note[:500], created_by_id=user_id)
    session.add(version)
    session.flush()
    record(session, actor, "policy.published", "policy", version.version,
           before={"version": previous.version}, after={"version": version.version,
                                                        "note": version.note})
    return version


def policy_to_dict(version: PolicyVersion) -> dict:
    return {"version": version.version, "note": version.note,
            "created_at": version.created_at.isoformat(), "document": version.document}


# --- blocklist ------------------------------------------------------------------------------

BLOCK_KINDS = ("email", "address", "order", "phone")


def normalise(kind: str, value: str) -> str:
    value = " ".join(value.split()).lower()
    if kind in ("order", "phone"):
        value = "".join(ch for ch in value if ch.isalnum())
    return value


def value_hash(secret: str, kind: str, value: str) -> str:
    """A keyed hash, so the list can be checked without storing the personal data."""
    message = f"{kind}:{normalise(kind, value)}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _hint(kind: str, value: str) -> str:
    value = normalise(kind, value)
    if kind == "email" and "@" in value:
        name, _, domain = value.partition("@")
        return f"{name[:1]}***@{domain}"[:40]
    return f"{value[:2]}***{value[-2:]}" if len(value) > 4 else "***"


def add_block(session: Session, secret: str, *, kind: str, value: str, reason: str,
              actor: Actor, user_id: int | None = None) -> BlocklistEntry:
    errors = []
    if kind not in BLOCK_KINDS:
        errors.append({"field": "kind", "message": f"must be one of {', '.join(BLOCK_KINDS)}"})
    if not normalise(kind, value or ""):
        errors.append({"field": "value", "message": "is required"})
    if not (reason or "").strip():
        errors.append({"field": "reason", "message": "say why (it is audited)"})
    if errors:
        raise InvalidInput(errors)
    entry = BlocklistEntry(kind=kind, value_hash=value_hash(secret, kind, value),
                           hint=_hint(kind, value), reason=reason.strip()[:500],
                           created_by_id=user_id)
    session.add(entry)
    session.flush()
    record(session, actor, "blocklist.added", "blocklist", entry.id,
           after={"kind": kind, "hint": entry.hint, "reason": entry.reason})
    return entry


def remove_block(session: Session, entry: BlocklistEntry, *, reason: str, actor: Actor,
                 user_id: int | None = None) -> None:
    if not (reason or "").strip():
        raise InvalidInput([{"field": "reason", "message": "say why (it is audited)"}])
    entry.removed_at = utcnow()
    entry.removed_by_id = user_id
    entry.removal_reason = reason.strip()[:500]
    record(session, actor, "blocklist.removed", "blocklist", entry.id,
           before={"kind": entry.kind, "hint": entry.hint}, after={"reason": reason.strip()})


def blocked_kinds(session: Session, secret: str, **values: str) -> tuple[str, ...]:
    """Which of the given values (email=, address=, order=, phone=) are blocklisted."""
    hashes = {value_hash(secret, kind, value): kind for kind, value in values.items() if value}
    if not hashes:
        return ()
    found = session.scalars(sa.select(BlocklistEntry.value_hash).where(
        BlocklistEntry.value_hash.in_(hashes), BlocklistEntry.removed_at.is_(None)))
    return tuple(sorted({hashes[h] for h in found}))


def block_to_dict(entry: BlocklistEntry) -> dict:
    return {"id": entry.id, "kind": entry.kind, "hint": entry.hint, "reason": entry.reason,
            "created_at": entry.created_at.isoformat(),
            "removed_at": entry.removed_at.isoformat() if entry.removed_at else None,
            "removal_reason": entry.removal_reason}
