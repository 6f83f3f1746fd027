from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, g, jsonify, request

from hub.api import bp
from hub.api.common import idempotent, json_body, require
from hub.audit.service import Actor
from hub.extensions import db
from hub.policy import service
from hub.policy.models import BlocklistEntry, PolicyVersion
from hub.web.errors import Problem


def _actor() -> Actor:
    return Actor("api_key", g.principal.id, g.principal.label)


@bp.get("/api/v1/policy")
@require()
def get_policy():
    version = service.current_policy(db.session)
    return jsonify(service.policy_to_dict(version))


@bp.get("/api/v1/policy/versions")
@require("admin", "hq_ops", "finance")
def list_policy_versions():
    versions = db.session.scalars(sa.select(PolicyVersion)
                                  .order_by(PolicyVersion.version.desc())).all()
    return jsonify({"items": [{k: v for k, v in service.policy_to_dict(p).items()
                               if k != "document"} for p in versions]})


@bp.get("/api/v1/policy/versions/<int:number>")
@require("admin", "hq_ops", "finance")
def get_policy_version(number: int):
    version = db.session.scalar(sa.select(PolicyVersion).where(PolicyVersion.version == number))
    if version is None:
        raise Problem(404, "policy_version_not_found", "Policy version not found",
                      f"There is no policy version {number}.")
    return jsonify(service.policy_to_dict(version))


@bp.put("/api/v1/policy")
@require("admin")
@idempotent()
def publish_policy():
    """Publish a new policy version (returns already authorised keep theirs)."""
    body = json_body()
    version = service.publish_policy(db.session, body.get("document"),
                                     note=str(body.get("note", "")), actor=_actor())
    return jsonify(service.policy_to_dict(version)), 201


@bp.get("/api/v1/blocklist")
@require("admin", "hq_ops")
def list_blocklist():
    query = sa.select(BlocklistEntry).order_by(BlocklistEntry.id.desc())
    if request.args.get("include_removed") != "true":
        query = query.where(BlocklistEntry.removed_at.is_(None))
    return jsonify({"items": [service.block_to_dict(e) for e in db.session.scalars(query)]})


@bp.post("/api/v1/blocklist")
@require("admin", "hq_ops")
@idempotent()
def add_blocklist_entry():
    body = json_body()
    entry = service.add_block(db.session, current_app.config["SECRET_KEY"],
                              kind=str(body.get("kind", "")), value=str(body.get("value", "")),
                              reason=str(body.get("reason", "")), actor=_actor())
    return jsonify(service.block_to_dict(entry)), 201


@bp.delete("/api/v1/blocklist/<int:entry_id>")
@require("admin", "hq_ops")
@idempotent()
def remove_blocklist_entry(entry_id: int):
    entry = db.session.get(BlocklistEntry, entry_id)
    if entry is None or entry.removed_at is not None:
        raise Problem(404, "blocklist_entry_not_found", "Blocklist entry not found",
                      f"No active blocklist entry {entry_id}.")
    body = json_body()
    service.remove_block(db.session, entry, reason=str(body.get("reason", "")), actor=_actor())
    return jsonify(service.block_to_dict(entry))
