"""HQ console: pausable periodic jobs, date-range indexes for the dashboard

Revision ID: b7d1c0a4e9f2
Revises: f8844f4d047e
Create Date: 2026-12-02 20:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'b7d1c0a4e9f2'
down_revision = 'f8844f4d047e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('connector_status') as batch:
        batch.add_column(sa.Column('paused', sa.Boolean(), server_default=sa.false(),
                                   nullable=False))
    op.create_index('ix_rma_created_at', 'return_authorizations', ['created_at'])
    op.create_index('ix_refunds_created_at', 'refunds', ['created_at'])


def downgrade():
    op.drop_index('ix_refunds_created_at', table_name='refunds')
    op.drop_index('ix_rma_created_at', table_name='return_authorizations')
    with op.batch_alter_table('connector_status') as batch:
        batch.drop_column('paused')
