"""Data: the default policy (version 1) and the standard reason list are installed by the
upgrade, so that no page writes them on first read

Revision ID: a96d2e7f0c41
Revises: f74b0c3e5a29
Create Date: 2026-12-03 16:40:00
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from hub.models import JsonDoc

revision = 'a96d2e7f0c41'
down_revision = 'f74b0c3e5a29'
branch_labels = None
depends_on = None

policy_versions = sa.table('policy_versions', sa.column('version', sa.Integer),
                           sa.column('document', JsonDoc), sa.column('note', sa.String),
                           sa.column('created_at', sa.DateTime(timezone=True)))
return_reasons = sa.table('return_reasons', sa.column('code', sa.String),
                          sa.column('parent_code', sa.String), sa.column('label', sa.String),
                          sa.column('seller_fault', sa.Boolean), sa.column('active', sa.Boolean),
                          sa.column('position', sa.Integer))


def upgrade():
    # The defaults of the code being installed: a hub installed later starts from its own
    # release's defaults (a database that already has a policy or reasons keeps them).
    from hub.policy.document import default_policy
    from hub.policy.service import REASONS

    bind = op.get_bind()
    if bind.scalar(sa.select(sa.func.count()).select_from(policy_versions)) == 0:
        bind.execute(policy_versions.insert().values(
            version=1, document=default_policy(), note='defaults',
            created_at=datetime.now(UTC)))
    existing = set(bind.scalars(sa.select(return_reasons.c.code)))
    rows = [{'code': code, 'parent_code': parent, 'label': label, 'seller_fault': fault,
             'active': True, 'position': position}
            for position, (code, parent, label, fault) in enumerate(REASONS)
            if code not in existing]
    if rows:
        bind.execute(return_reasons.insert(), rows)


def downgrade():
    pass  # data: a downgrade keeps the policy and reasons people may have edited since
