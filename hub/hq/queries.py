"""Reads HQ's pages show (no writes here): lists of the chain's configuration and the names
and zones that make audit readings human."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.auth.models import ApiKey, Device, User
from hub.policy.models import BlocklistEntry, PolicyVersion, ReturnReason
from hub.stores.models import Store


def stores_matching(session: Session, text: str, page: int, size: int) -> list[Store]:
    """A page of stores whose code, name, city or postal code contains ``text`` (one extra
    row tells whether there is a next page)."""
    query = sa.select(Store).order_by(Store.code)
    if text:
        like = f"%{text}%"
        query = query.where(sa.or_(Store.code.ilike(like), Store.name.ilike(like),
                                   Store.city.ilike(like), Store.postal_code.ilike(like)))
    return list(session.scalars(query.limit(size + 1).offset((page - 1) * size)))


def recent_policy_versions(session: Session, limit: int = 20) -> list[PolicyVersion]:
    return list(session.scalars(sa.select(PolicyVersion)
                                .order_by(PolicyVersion.version.desc()).limit(limit)))


def people(session: Session) -> tuple[list[User], list[ApiKey], list[Device], dict[int, Store]]:
    users = list(session.scalars(sa.select(User).order_by(User.role, User.name).limit(500)))
    keys = list(session.scalars(sa.select(ApiKey).order_by(ApiKey.id.desc()).limit(200)))
    devices = list(session.scalars(sa.select(Device).order_by(Device.id.desc()).limit(200)))
    store_ids = {u.store_id for u in users} | {k.store_id for k in keys} | \
        {d.store_id for d in devices}
    return users, keys, devices, stores_by_id(session, store_ids)


def stores_by_id(session: Session, ids) -> dict[int, Store]:
    ids = [i for i in ids if i]
    if not ids:
        return {}
    return {s.id: s for s in session.scalars(sa.select(Store).where(Store.id.in_(ids)))}


def blocklist(session: Session, limit: int = 500) -> list[BlocklistEntry]:
    return list(session.scalars(sa.select(BlocklistEntry)
                                .order_by(BlocklistEntry.id.desc()).limit(limit)))


def store_zones(session: Session, ids) -> dict[int, str]:
    ids = [i for i in ids if i]
    if not ids:
        return {}
    return dict(session.execute(sa.select(Store.id, Store.timezone)
                                .where(Store.id.in_(ids))).all())


def user_names(session: Session, ids) -> dict[int, str]:
    ids = list(ids)
    if not ids:
        return {}
    return dict(session.execute(sa.select(User.id, User.name).where(User.id.in_(ids))).all())


def reason_labels(session: Session) -> dict[str, str]:
    """Reason code → its English label (translated by the page)."""
    return dict(session.execute(sa.select(ReturnReason.code, ReturnReason.label)).all())
