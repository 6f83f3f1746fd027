"""Outcome webhooks' deliveries, store stock, store credit

Revision ID: f71c2e9d5a30
Revises: f7a3c9e1b5d2
Create Date: 2026-12-03 17:00:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'f71c2e9d5a30'
down_revision = 'f7a3c9e1b5d2'
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
    _credit()


def _credit():
    with op.batch_alter_table('return_authorizations') as batch:
        batch.add_column(sa.Column('outcome', sa.String(length=12), nullable=False,
                                   server_default='refund'))
        batch.create_check_constraint(op.f('ck_return_authorizations_outcome'),
                                      "outcome IN ('refund', 'credit')")
    op.create_table(
        'store_credits',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=24), nullable=False),
        sa.Column('rma_id', sa.Integer(), nullable=False),
        sa.Column('intake_id', sa.Integer(), nullable=True),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('bonus', sa.BigInteger(), nullable=False),
        sa.Column('balance', sa.BigInteger(), nullable=False),
        sa.Column('lines', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()),
                                                  'postgresql'), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('active', 'expired', 'spent')",
                           name=op.f('ck_store_credits_status')),
        sa.CheckConstraint('balance >= 0 AND balance <= amount + bonus',
                           name=op.f('ck_store_credits_balance')),
        sa.CheckConstraint('amount >= 0 AND bonus >= 0', name=op.f('ck_store_credits_amounts')),
        sa.ForeignKeyConstraint(['intake_id'], ['intakes.id'],
                                name=op.f('fk_store_credits_intake_id_intakes')),
        sa.ForeignKeyConstraint(['rma_id'], ['return_authorizations.id'],
                                name=op.f('fk_store_credits_rma_id_return_authorizations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_store_credits')),
        sa.UniqueConstraint('code', name=op.f('uq_store_credits_code')),
        sa.UniqueConstraint('rma_id', name=op.f('uq_store_credits_rma_id')))
    with op.batch_alter_table('store_credits') as batch:
        batch.create_index(batch.f('ix_store_credits_expires_at'), ['expires_at'])
        batch.create_index(batch.f('ix_store_credits_status'), ['status'])
    op.create_table(
        'credit_redemptions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('credit_id', sa.Integer(), nullable=False),
        sa.Column('scope', sa.String(length=80), nullable=False),
        sa.Column('key', sa.String(length=80), nullable=False),
        sa.Column('request_hash', sa.String(length=64), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('balance_after', sa.BigInteger(), nullable=False),
        sa.Column('reference', sa.String(length=120), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('amount > 0', name=op.f('ck_credit_redemptions_positive')),
        sa.ForeignKeyConstraint(['credit_id'], ['store_credits.id'],
                                name=op.f('fk_credit_redemptions_credit_id_store_credits')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_redemptions')),
        sa.UniqueConstraint('scope', 'key', name=op.f('uq_credit_redemptions_scope_key')))
    with op.batch_alter_table('credit_redemptions') as batch:
        batch.create_index(batch.f('ix_credit_redemptions_credit_id'), ['credit_id'])


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
    op.drop_table('credit_redemptions')
    op.drop_table('store_credits')
    with op.batch_alter_table('return_authorizations') as batch:
        batch.drop_constraint(op.f('ck_return_authorizations_outcome'), type_='check')
        batch.drop_column('outcome')
    op.drop_table('stock_changes')
    op.drop_table('store_stock')
    op.drop_table('webhook_deliveries')
