"""Amazon selling accounts: seller ids and vendor codes with their credential references
(never the secrets), region, marketplaces and health

Revision ID: f7a3c5e9b1d2
Revises: f71c2e9d5a30
Create Date: 2026-12-03 17:30:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'f7a3c5e9b1d2'
down_revision = 'f71c2e9d5a30'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade():
    op.create_table(
        'amazon_accounts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('seller_id', sa.String(length=40), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('region', sa.String(length=2), nullable=False),
        sa.Column('marketplaces', JSON, nullable=False),
        sa.Column('credentials_ref', sa.String(length=300), nullable=False),
        sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('health', sa.String(length=12), server_default='unchecked', nullable=False),
        sa.Column('health_code', sa.String(length=40), server_default='', nullable=False),
        sa.Column('health_detail', sa.String(length=500), server_default='', nullable=False),
        sa.Column('health_since', sa.DateTime(timezone=True), nullable=True),
        sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('refused_fingerprint', sa.String(length=16), server_default='',
                  nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('seller', 'vendor')", name=op.f('ck_amazon_accounts_kind')),
        sa.CheckConstraint("region IN ('na', 'eu', 'fe')",
                           name=op.f('ck_amazon_accounts_region')),
        sa.CheckConstraint("health IN ('unchecked', 'ok', 'missing', 'refused', 'unreachable')",
                           name=op.f('ck_amazon_accounts_health')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_amazon_accounts')),
        sa.UniqueConstraint('seller_id', name=op.f('uq_amazon_accounts_seller_id')),
    )


def downgrade():
    op.drop_table('amazon_accounts')
