"""Outcome webhooks' deliveries, store stock, store credit

Revision ID: f71c2e9d5a30
Revises: e63a9b2d4f18
Create Date: 2026-12-03 17:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'f71c2e9d5a30'
down_revision = 'e63a9b2d4f18'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'webhook_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('endpoint_id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=True),
        sa.Column('event_id', sa.String(length=40), nullable=False),
        sa.Column('event_type', sa.String(length=40), nullable=False),
        sa.Column('attempt', sa.Integer(), nullable=False),
        sa.Column('outcome', sa.String(length=12), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('answer', sa.String(length=300), nullable=False),
        sa.Column('duration_ms', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.id'],
                                name=op.f('fk_webhook_deliveries_endpoint_id_webhook_endpoints')),
        sa.ForeignKeyConstraint(['message_id'], ['outbox_messages.id'],
                                name=op.f('fk_webhook_deliveries_message_id_outbox_messages')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')))
    with op.batch_alter_table('webhook_deliveries') as batch:
        batch.create_index('ix_webhook_deliveries_endpoint', ['endpoint_id', 'id'])
        batch.create_index(batch.f('ix_webhook_deliveries_event_id'), ['event_id'])
        batch.create_index(batch.f('ix_webhook_deliveries_message_id'), ['message_id'])
    _stock()


def _stock():
    op.create_table(
        'store_stock',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('sku', sa.String(length=80), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('quantity >= 0', name=op.f('ck_store_stock_not_negative')),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'],
                                name=op.f('fk_store_stock_store_id_stores')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_store_stock')),
        sa.UniqueConstraint('store_id', 'sku', name=op.f('uq_store_stock_store_id_sku')))
    op.create_table(
        'stock_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('sku', sa.String(length=80), nullable=False),
        sa.Column('delta', sa.Integer(), nullable=False),
        sa.Column('quantity_after', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=20), nullable=False),
        sa.Column('reference', sa.String(length=120), nullable=False),
        sa.Column('key', sa.String(length=160), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'],
                                name=op.f('fk_stock_changes_store_id_stores')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_changes')),
        sa.UniqueConstraint('key', name=op.f('uq_stock_changes_key')))
    with op.batch_alter_table('stock_changes') as batch:
        batch.create_index('ix_stock_changes_store_sku', ['store_id', 'sku', 'id'])


def downgrade():
    op.drop_table('stock_changes')
    op.drop_table('store_stock')
    op.drop_table('webhook_deliveries')
